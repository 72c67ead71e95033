using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Tasks;
using EpgFast.Physics;

namespace EpgFast.Tasks;

/// <summary>
/// Ant forward walking or GoalAnt on any <see cref="IPhysicsBatch"/>: the task kernels
/// (kernels/EpgFast.Kernels/Tasks/AntTask.cs) read and write the engine's state buffers and never
/// know which engine steps the bodies. A step is three launches on the engine's device:
/// <see cref="AntActKernel{TF, TI}"/> (actions to clamped controls), the engine's Step(FrameSkip),
/// <see cref="AntStepKernel{TF, TI}"/> (reward, done, in-kernel reset, observation).
/// </summary>
public sealed class AntEnvBatch : EnvBatchBase
{
    private readonly IPhysicsBatch _physics;
    private readonly AntTaskConfig _config;
    private readonly DeviceBuffer<float> _qpos0;
    private readonly DeviceBuffer<float> _prevXY;
    private readonly DeviceBuffer<float> _startXY;
    private AntTaskParams _params;

    /// <summary>Wraps <paramref name="physics"/> (owned: disposed with the batch). Goal targets start as tasks 0..Envs-1 of seed 0.</summary>
    public AntEnvBatch(IPhysicsBatch physics, AntTaskConfig config)
        : base(physics.Device, physics.Envs, ObsWidth(physics, config), physics.Nu, config.Region, config.RadiusMin, config.RadiusMax)
    {
        if (physics.Nq < 7)
            throw new EpgException($"the Ant tasks need a free-joint root (qpos [x, y, z, quaternion, ...]); the model has nq = {physics.Nq}", 2);
        if (config.FrameSkip < 1 || config.MaxSteps < 1)
            throw new EpgException($"frame skip and episode length must be at least 1 (got {config.FrameSkip}, {config.MaxSteps})", 2);
        _physics = physics;
        _config = config;
        _qpos0 = Own(Device.Upload<float>(physics.Qpos0));
        _prevXY = Own(Device.Allocate<float>(Envs * 2));
        _startXY = Own(Device.Allocate<float>(Envs * 2));
        _params = config.ToParams(physics.Nq, physics.Nv, physics.Nu, physics.Timestep, 0);
        if (config.Objective == AntObjective.Goal)
            SampleTargets(0, Enumerable.Range(0, Envs).ToArray());
    }

    private static int ObsWidth(IPhysicsBatch physics, AntTaskConfig config) =>
        physics.Nq - (config.ObserveXY ? 0 : 2) + physics.Nv;

    public override string Name => _config.Objective == AntObjective.Goal ? "goal-ant" : "ant";

    public override int MaxEpisodeSteps => _config.MaxSteps;

    public override double ControlDt => _physics.Timestep * _config.FrameSkip;

    public AntTaskConfig Config => _config;

    /// <summary>The engine underneath (its Qpos/Qvel are the full state: (Envs, Nq), (Envs, Nv)).</summary>
    public IPhysicsBatch Physics => _physics;

    private AntTaskState<TF, TI> State<TF, TI>()
        where TF : struct, IView<float>
        where TI : struct, IView<int> => new()
    {
        Qpos0 = _qpos0.View<TF>(),
        Targets = Targets.View<TF>(),
        PrevXY = _prevXY.View<TF>(),
        StartXY = _startXY.View<TF>(),
        Obs = Observations.View<TF>(),
        Terminals = Terminals.View<TF>(),
        Log = Log<TF, TI>(),
    };

    protected override void ResetT<TF, TI>()
    {
        _params.Reset = ResetKey;
        Device.Launch(Envs, new AntResetKernel<TF, TI>
        {
            P = _params,
            S = State<TF, TI>(),
            Qpos = _physics.Qpos.View<TF>(),
            Qvel = _physics.Qvel.View<TF>(),
            ResetFlags = _physics.ResetFlags.View<TI>(),
        });
        Device.Synchronize();
        _physics.Sync();
    }

    protected override void StepT<TF, TI>(DeviceBuffer<float> actions)
    {
        Device.Launch(Envs, new AntActKernel<TF, TI>
        {
            P = _params,
            Actions = actions.View<TF>(),
            Ctrl = _physics.Ctrl.View<TF>(),
            Qpos = _physics.Qpos.View<TF>(),
            PrevXY = _prevXY.View<TF>(),
        });
        // No synchronization needed here: an engine on this device orders its work after the launch
        // (the CPU launcher runs launches to completion; a GPU engine uses the same stream).
        _physics.Step(_config.FrameSkip);
        Device.Launch(Envs, new AntStepKernel<TF, TI>
        {
            P = _params,
            S = State<TF, TI>(),
            Qpos = _physics.Qpos.View<TF>(),
            Qvel = _physics.Qvel.View<TF>(),
            Ctrl = _physics.Ctrl.View<TF>(),
            ResetFlags = _physics.ResetFlags.View<TI>(),
        });
        Device.Synchronize();
    }

    public override void Dispose()
    {
        base.Dispose();
        _physics.Dispose();
    }
}
