using EpgFast.Backends;
using EpgFast.Physics;

namespace EpgFast.Validation.Tasks;

/// <summary>
/// A stand-in engine with the Ant's sizes (nq 15, nv 14, nu 8, timestep 0.01) and qpos0 on any device, for checks of
/// the task kernels apart from any physics: the derived class says how (or whether) the bodies move.
/// </summary>
public abstract class AntShapedPhysics : IPhysicsBatch
{
    /// <summary>The Ant's qpos0: (nq).</summary>
    public static readonly float[] AntQpos0 = [0, 0, 0.75f, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    protected AntShapedPhysics(Device device, int envs)
    {
        Device = device;
        Envs = envs;
        Qpos = device.Allocate<float>(envs * Nq);
        Qvel = device.Allocate<float>(envs * Nv);
        Ctrl = device.Allocate<float>(envs * Nu);
        ResetFlags = device.Allocate<int>(envs);
    }

    public EngineKind Engine => EngineKind.Kernel;
    public Device Device { get; }
    public int Envs { get; }
    public int Nq => 15;
    public int Nv => 14;
    public int Nu => 8;
    public double Timestep => 0.01;
    public float[] Qpos0 => AntQpos0;
    /// <summary>qpos: (Envs, nq); qvel: (Envs, nv); ctrl: (Envs, nu); reset flags: (Envs).</summary>
    public DeviceBuffer<float> Qpos { get; }
    public DeviceBuffer<float> Qvel { get; }
    public DeviceBuffer<float> Ctrl { get; }
    public DeviceBuffer<int> ResetFlags { get; }

    public abstract void Step(int frameSkip);

    public abstract void Sync();

    public void Dispose()
    {
        Qpos.Dispose();
        Qvel.Dispose();
        Ctrl.Dispose();
        ResetFlags.Dispose();
        GC.SuppressFinalize(this);
    }
}
