using EpgFast.Backends;
using EpgFast.Validation.Tasks;

namespace EpgFast.Tests.Tasks;

/// <summary>
/// A stand-in engine on any device (CPU launcher or ILGPU): the Ant's sizes and qpos0, and a made-up
/// deterministic update done on the host. It shows the task kernels run unchanged on whatever
/// engine and device implement <see cref="EpgFast.Physics.IPhysicsBatch"/>.
/// </summary>
public sealed class FakePhysics : AntShapedPhysics
{
    public FakePhysics(Device device, int envs) : base(device, envs)
    {
        var q = new float[envs * Nq];
        for (int e = 0; e < envs; e++) Qpos0.CopyTo(q, e * Nq);
        Qpos.CopyFrom(q);
        _q = q;
        _v = new float[envs * Nv];
    }

    private readonly float[] _q;
    private readonly float[] _v;

    public override void Step(int frameSkip)
    {
        Sync();
        var c = Ctrl.ToArray();
        for (int e = 0; e < Envs; e++)
            for (int s = 0; s < frameSkip; s++)
            {
                // Engine-private float "state": x and y move with ctrl 0 and 1; z sinks; hinges follow ctrl.
                _q[e * Nq] += 0.01f * c[e * Nu];
                _q[e * Nq + 1] += 0.01f * c[e * Nu + 1];
                _q[e * Nq + 2] -= 0.002f;
                for (int u = 0; u < 8; u++) _q[e * Nq + 7 + u] += 0.01f * c[e * Nu + u];
                for (int i = 0; i < Nv; i++) _v[e * Nv + i] = 0.5f * _v[e * Nv + i] + (i < 8 ? c[e * Nu + i] : 0f);
            }
        Qpos.CopyFrom(_q);
        Qvel.CopyFrom(_v);
    }

    public override void Sync()
    {
        var flags = ResetFlags.ToArray();
        var q = Qpos.ToArray();
        var v = Qvel.ToArray();
        for (int e = 0; e < Envs; e++)
        {
            if (flags[e] == 0) continue;
            Array.Copy(q, e * Nq, _q, e * Nq, Nq);
            Array.Copy(v, e * Nv, _v, e * Nv, Nv);
            flags[e] = 0;
        }
        ResetFlags.CopyFrom(flags);
        Qpos.CopyFrom(_q);
        Qvel.CopyFrom(_v);
    }
}
