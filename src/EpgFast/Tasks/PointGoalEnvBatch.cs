using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Tasks;

namespace EpgFast.Tasks;

/// <summary>
/// point-goal: a self-contained env (its dynamics are inside the step kernel, no physics engine)
/// for fast tests of the whole EPG loop on any device. One launch per step.
/// </summary>
public sealed class PointGoalEnvBatch : EnvBatchBase
{
    private readonly PointGoalConfig _config;
    private readonly DeviceBuffer<float> _state;
    private PointGoalParams _params;

    /// <summary>Goal targets start as tasks 0..Envs-1 of seed 0 in the configured region.</summary>
    public PointGoalEnvBatch(Device device, int envs, PointGoalConfig? config = null)
        : base(device, envs, PointGoal.ObsDim, PointGoal.ActDim, (config ?? new()).Region, (config ?? new()).RadiusMin, (config ?? new()).RadiusMax)
    {
        _config = config ?? new PointGoalConfig();
        if (_config.MaxSteps < 1) throw new EpgException($"episode length must be at least 1 (got {_config.MaxSteps})", 2);
        _state = Own(device.Allocate<float>(envs * 4));
        _params = _config.ToParams(0);
        SampleTargets(0, Enumerable.Range(0, envs).ToArray());
    }

    public override string Name => "point-goal";

    public override int MaxEpisodeSteps => _config.MaxSteps;

    public override double ControlDt => _config.Dt;

    public PointGoalConfig Config => _config;

    /// <summary>state: (Envs, 4) = (px, py, vx, vy)</summary>
    public DeviceBuffer<float> State => _state;

    private PointGoalState<TF, TI> StateViews<TF, TI>()
        where TF : struct, IView<float>
        where TI : struct, IView<int> => new()
    {
        State = _state.View<TF>(),
        Targets = Targets.View<TF>(),
        Obs = Observations.View<TF>(),
        Log = Log<TF, TI>(),
    };

    protected override void ResetT<TF, TI>()
    {
        _params.Reset = ResetKey;
        Terminals.Clear();
        Device.Launch(Envs, new PointGoalResetKernel<TF, TI> { P = _params, S = StateViews<TF, TI>() });
        Device.Synchronize();
    }

    protected override void StepT<TF, TI>(DeviceBuffer<float> actions)
    {
        Device.Launch(Envs, new PointGoalStepKernel<TF, TI> { P = _params, S = StateViews<TF, TI>(), Actions = actions.View<TF>() });
        Device.Synchronize();
    }
}
