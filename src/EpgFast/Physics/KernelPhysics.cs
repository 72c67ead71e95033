using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Physics;
using EpgFast.Models;

namespace EpgFast.Physics;

/// <summary>
/// <see cref="IPhysicsBatch"/> on the kernel simulator: every environment is one work item of
/// <see cref="PhysicsStepKernel{TF, TI}"/> on any <see cref="Device"/> (the CPU launcher or CUDA).
/// The authoritative float32 state lives in a per-environment scratch buffer (structure of arrays
/// within blocks of 32 environments on a GPU, one block per environment on the CPU; see
/// <see cref="SimDims"/>); Qpos/Qvel are written from it after every
/// <see cref="Step"/>/<see cref="Sync"/>, and read back only for rows whose ResetFlags are set.
/// </summary>
public sealed class KernelPhysics : IPhysicsBatch
{
    private readonly DeviceBuffer<float> _mf;
    private readonly DeviceBuffer<int> _mi;
    private readonly DeviceBuffer<float> _scratch;
    private readonly DeviceBuffer<float> _diag;
    private readonly SimDims _dims;

    /// <summary>Loads an MJCF file of the supported subset and makes <paramref name="envs"/> worlds in its qpos0 state.</summary>
    public KernelPhysics(Device device, string modelPath, int envs, EngineOptions? options = null, KernelSolverOptions? solver = null)
        : this(device, MjcfLoader.Load(modelPath), envs, options, solver)
    {
    }

    /// <summary>Makes <paramref name="envs"/> worlds of a compiled model in its qpos0 state.</summary>
    public KernelPhysics(Device device, PhysicsModel model, int envs, EngineOptions? options = null, KernelSolverOptions? solver = null)
    {
        if (envs < 1) throw new EpgException($"--envs must be at least 1 (got {envs})");
        options ??= new EngineOptions();
        if (options.Integrator is Integrator.Rk4)
            throw new EpgException("--engine kernel integrates with Euler only (semi-implicit, implicit joint damping); --integrator rk4 needs --engine mujoco", 2);
        if (options.Timestep is <= 0) throw new EpgException($"timestep must be positive (got {options.Timestep})");
        Device = device;
        Model = model;
        Packed = KernelPhysicsModel.Build(model, solver, options.Timestep, options.DisableContactAndLimits);
        _dims = Packed.ForBatch(envs, structureOfArrays: device.ScratchStructureOfArrays);
        long scratch = _dims.ScratchLength(envs);
        if (scratch > int.MaxValue)
            throw EpgException.DoesNotFit($"does not fit: {envs} environments: the kernel simulator's scratch ({_dims.ScratchSize} floats per environment) would exceed 2^31 elements; use at most {int.MaxValue / _dims.ScratchSize} environments");
        Envs = envs;
        Nq = model.Nq;
        Nv = model.Nv;
        Nu = model.Nu;
        Timestep = _dims.Timestep;
        Qpos0 = model.Qpos0.Select(x => (float)x).ToArray();
        _mf = device.Upload<float>(Packed.Floats);
        _mi = device.Upload<int>(Packed.Ints);
        _scratch = device.Allocate<float>((int)scratch);
        _diag = device.Allocate<float>(envs * SimDims.DiagSize);
        Qpos = device.Allocate<float>(envs * Nq);
        Qvel = device.Allocate<float>(envs * Nv);
        Ctrl = device.Allocate<float>(envs * Nu);
        ResetFlags = device.Allocate<int>(envs);
        var q = new float[envs * Nq];
        for (int e = 0; e < envs; e++) Array.Copy(Qpos0, 0, q, e * Nq, Nq);
        Qpos.CopyFrom(q);
        ResetFlags.CopyFrom(Enumerable.Repeat(1, envs).ToArray());
        Sync();
    }

    public EngineKind Engine => EngineKind.Kernel;

    public Device Device { get; }

    /// <summary>The compiled model (float64, host side).</summary>
    public PhysicsModel Model { get; }

    /// <summary>The packed model the kernels read.</summary>
    public KernelPhysicsModel Packed { get; }

    /// <summary>The dims the kernels get (sizes, offsets, solver parameters).</summary>
    public SimDims Dims => _dims;

    public int Envs { get; }

    public int Nq { get; }

    public int Nv { get; }

    public int Nu { get; }

    public double Timestep { get; }

    public float[] Qpos0 { get; }

    public DeviceBuffer<float> Qpos { get; }

    public DeviceBuffer<float> Qvel { get; }

    public DeviceBuffer<float> Ctrl { get; }

    public DeviceBuffer<int> ResetFlags { get; }

    /// <summary>When true, each Step writes <see cref="Diagnostics"/> for its last physics step (slightly slower).</summary>
    public bool Diagnose { get; set; }

    /// <summary>diag: (Envs, SimDims.DiagSize): normal force, contacts, penetration, kinetic energy, sweeps, rows (see <see cref="SimDims"/>).</summary>
    public DeviceBuffer<float> Diagnostics => _diag;

    public void Step(int frameSkip)
    {
        if (frameSkip < 0) throw new ArgumentOutOfRangeException(nameof(frameSkip));
        _step ??= new StepCode(this);
        _step.FrameSkip = frameSkip;
        Device.WithViews(_step);
    }

    private StepCode? _step; // reused every env step: the per-step path allocates nothing

    private sealed class StepCode(KernelPhysics physics) : IViewCode<bool>
    {
        public int FrameSkip;

        public bool Run<TF, TI>() where TF : struct, IView<float> where TI : struct, IView<int>
        {
            physics.Launch<TF, TI>(FrameSkip);
            return true;
        }
    }

    public void Sync() => Step(0);

    private void Launch<TF, TI>(int frameSkip)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        CheckLanes<TF>(_dims);
        Device.Launch(Envs, new PhysicsStepKernel<TF, TI>
        {
            Model = new SimModel<TF, TI> { MF = _mf.View<TF>(), MI = _mi.View<TI>(), D = _dims },
            Scratch = _scratch.View<TF>(),
            Qpos = Qpos.View<TF>(),
            Qvel = Qvel.View<TF>(),
            Ctrl = Ctrl.View<TF>(),
            Reset = ResetFlags.View<TI>(),
            Diag = _diag.View<TF>(),
            FrameSkip = frameSkip,
            Diagnose = Diagnose ? 1 : 0,
        });
    }

    /// <summary>
    /// The mass matrix (armature included), bias forces, constrained acceleration and contact forces at the given
    /// states and controls, computed by the simulator's kernels (for validation). qpos: (n, Nq), qvel: (n, Nv),
    /// ctrl: (n, Nu) or null for zero controls.
    /// </summary>
    public PhysicsInspection Inspect(float[] qpos, float[] qvel, float[]? ctrl = null)
    {
        int n = qpos.Length / Nq;
        if (qpos.Length != n * Nq || qvel.Length != n * Nv || n < 1 || (ctrl is not null && ctrl.Length != n * Nu))
            throw new ArgumentException("qpos/qvel/ctrl shapes do not match");
        var dims = Packed.ForBatch(n, structureOfArrays: Device.ScratchStructureOfArrays);
        int slots = Math.Max(1, dims.NSlots);
        using var scratch = Device.Allocate<float>((int)dims.ScratchLength(n));
        using var q = Device.Upload<float>(qpos);
        using var v = Device.Upload<float>(qvel);
        using var u = Device.Upload<float>(ctrl ?? new float[Math.Max(1, n * Nu)]);
        using var mass = Device.Allocate<float>(n * Nv * Nv);
        using var bias = Device.Allocate<float>(n * Nv);
        using var qacc = Device.Allocate<float>(n * Nv);
        using var force = Device.Allocate<float>(n * slots);
        Device.WithViews(new InspectCode(this, n, dims, scratch, q, v, u, mass, bias, qacc, force));
        Device.Synchronize();
        return new PhysicsInspection(mass.ToArray(), bias.ToArray(), qacc.ToArray(), force.ToArray(), slots);
    }

    private sealed record InspectCode(KernelPhysics Physics, int N, SimDims Dims, DeviceBuffer<float> Scratch, DeviceBuffer<float> Q, DeviceBuffer<float> V,
        DeviceBuffer<float> U, DeviceBuffer<float> Mass, DeviceBuffer<float> Bias, DeviceBuffer<float> Qacc, DeviceBuffer<float> Force) : IViewCode<bool>
    {
        public bool Run<TF, TI>() where TF : struct, IView<float> where TI : struct, IView<int>
        {
            Physics.RunInspect<TF, TI>(N, Dims, Scratch, Q, V, U, Mass, Bias, Qacc, Force);
            return true;
        }
    }

    private void RunInspect<TF, TI>(int n, SimDims dims, DeviceBuffer<float> scratch, DeviceBuffer<float> q, DeviceBuffer<float> v,
        DeviceBuffer<float> u, DeviceBuffer<float> mass, DeviceBuffer<float> bias, DeviceBuffer<float> qacc, DeviceBuffer<float> force)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        CheckLanes<TF>(dims);
        Device.Launch(n, new PhysicsInspectKernel<TF, TI>
        {
            Model = new SimModel<TF, TI> { MF = _mf.View<TF>(), MI = _mi.View<TI>(), D = dims },
            Scratch = scratch.View<TF>(),
            Qpos = q.View<TF>(),
            Qvel = v.View<TF>(),
            Ctrl = u.View<TF>(),
            Mass = mass.View<TF>(),
            Bias = bias.View<TF>(),
            Qacc = qacc.View<TF>(),
            SlotForce = force.View<TF>(),
        });
    }

    /// <summary>The scratch was sized for the interleaving the view type's kernels index with (see <see cref="ScratchLanes{TF}"/>).</summary>
    private static void CheckLanes<TF>(in SimDims dims) where TF : struct, IView<float>
    {
        if (dims.ScratchShift != ScratchLanes<TF>.Shift)
            throw new InvalidOperationException($"scratch laid out for 2^{dims.ScratchShift} interleaved environments, but {typeof(TF).Name} kernels index 2^{ScratchLanes<TF>.Shift}");
    }

    public void Dispose()
    {
        _mf.Dispose();
        _mi.Dispose();
        _scratch.Dispose();
        _diag.Dispose();
        Qpos.Dispose();
        Qvel.Dispose();
        Ctrl.Dispose();
        ResetFlags.Dispose();
    }
}

/// <summary>
/// What <see cref="KernelPhysics.Inspect"/> computes per state: mass: (n, Nv, Nv), bias: (n, Nv), qacc: (n, Nv),
/// slotForce: (n, SlotStride), each contact slot's normal force (<see cref="KernelPhysicsModel.SlotGeom"/> names its geom).
/// </summary>
public sealed record PhysicsInspection(float[] Mass, float[] Bias, float[] Qacc, float[] SlotForce, int SlotStride)
{
    public void Deconstruct(out float[] mass, out float[] bias)
    {
        mass = Mass;
        bias = Bias;
    }
}
