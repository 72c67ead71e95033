using EpgFast.Backends;
using EpgFast.MuJoCo;

namespace EpgFast.Physics;

/// <summary>
/// <see cref="IPhysicsBatch"/> on MuJoCo 2.2.2: one mjData per environment sharing one mjModel,
/// stepped across the CPU launcher's threads. The state buffers are host memory
/// (<see cref="CpuBuffer{T}"/>) handed to MuJoCo without copies; mjData (float64) stays
/// authoritative, rows are read back only for environments whose ResetFlags are set.
/// Works only with a <see cref="CpuDevice"/> (its Threads are the stepping threads).
/// </summary>
public sealed unsafe class MuJoCoPhysics : IPhysicsBatch
{
    private readonly MjModel _model;
    private readonly MjBatch _batch;
    private readonly CpuBuffer<float> _qpos;
    private readonly CpuBuffer<float> _qvel;
    private readonly CpuBuffer<float> _ctrl;
    private readonly CpuBuffer<int> _reset;

    /// <summary>Loads <paramref name="modelPath"/> and makes <paramref name="envs"/> worlds in the model's qpos0 state.</summary>
    public MuJoCoPhysics(CpuDevice device, string modelPath, int envs, EngineOptions? options = null)
    {
        if (envs < 1) throw new EpgException($"--envs must be at least 1 (got {envs})");
        options ??= new EngineOptions();
        Device = device;
        try
        {
            _model = MjModel.Load(modelPath);
        }
        catch (MuJoCoException e)
        {
            throw new EpgException(e.Message);
        }
        if (options.Integrator is { } integrator)
            _model.Integrator = integrator == Integrator.Rk4 ? MjIntegrator.Rk4 : MjIntegrator.Euler;
        if (options.Timestep is { } dt) _model.Timestep = dt;
        if (options.DisableContactAndLimits)
            _model.DisableFlags |= MjModel.DisableContact | MjModel.DisableLimit;
        _batch = new MjBatch(_model, envs, device.Threads);
        Envs = envs;
        Nq = _model.Nq;
        Nv = _model.Nv;
        Nu = _model.Nu;
        Timestep = _model.Timestep;
        Qpos0 = _model.Qpos0.Select(x => (float)x).ToArray();
        _qpos = (CpuBuffer<float>)device.Allocate<float>(envs * Nq);
        _qvel = (CpuBuffer<float>)device.Allocate<float>(envs * Nv);
        _ctrl = (CpuBuffer<float>)device.Allocate<float>(envs * Nu);
        _reset = (CpuBuffer<int>)device.Allocate<int>(envs);
        Sync();
    }

    public EngineKind Engine => EngineKind.MuJoCo;

    public Device Device { get; }

    public int Envs { get; }

    public int Nq { get; }

    public int Nv { get; }

    public int Nu { get; }

    public double Timestep { get; }

    public float[] Qpos0 { get; }

    /// <summary>The compiled MuJoCo model (options may be read; change them only between steps).</summary>
    public MjModel Model => _model;

    /// <summary>The MuJoCo runner (per-environment mjData, for diagnostics and tests).</summary>
    public MjBatch Batch => _batch;

    /// <summary>The integrator the model steps with.</summary>
    public Integrator Integrator => _model.Integrator == MjIntegrator.Rk4 ? Integrator.Rk4 : Integrator.Euler;

    public DeviceBuffer<float> Qpos => _qpos;

    public DeviceBuffer<float> Qvel => _qvel;

    public DeviceBuffer<float> Ctrl => _ctrl;

    public DeviceBuffer<int> ResetFlags => _reset;

    public void Step(int frameSkip)
    {
        fixed (float* c = _ctrl.Span)
        fixed (float* q = _qpos.Span)
        fixed (float* v = _qvel.Span)
        fixed (int* r = _reset.Span)
            _batch.Step(frameSkip, c, q, v, r);
    }

    public void Sync()
    {
        fixed (float* q = _qpos.Span)
        fixed (float* v = _qvel.Span)
        fixed (int* r = _reset.Span)
            _batch.Sync(q, v, r);
    }

    public void Dispose()
    {
        _batch.Dispose();
        _model.Dispose();
        _qpos.Dispose();
        _qvel.Dispose();
        _ctrl.Dispose();
        _reset.Dispose();
    }
}
