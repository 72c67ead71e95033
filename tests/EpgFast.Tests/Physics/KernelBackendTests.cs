using EpgFast.Backends;
using EpgFast.Physics;
using Xunit;
using Xunit.Abstractions;

namespace EpgFast.Tests.Physics;

/// <summary>The step kernel under ILGPU's semantics (GpuView, structure-of-arrays scratch) against the CPU launcher.</summary>
public class KernelBackendTests(ITestOutputHelper output)
{
    [Fact]
    public void IlgpuAcceleratorMatchesCpuLauncherWithContacts()
    {
        const int envs = 34, steps = 6; // two 32-environment scratch blocks on the GPU layout
        float[] Run(Device device)
        {
            using var k = new KernelPhysics(device, PhysicsTestUtil.AntPath, envs);
            // start from perturbed poses above the floor, so contacts and limits act within the run
            PhysicsTestUtil.PerturbPoses(k, new System.Random(2));
            var ctrl = new float[envs * k.Nu];
            for (int s = 0; s < steps; s++)
            {
                for (int i = 0; i < ctrl.Length; i++) ctrl[i] = (float)Math.Sin(0.7 * s + i);
                k.Ctrl.CopyFrom(ctrl);
                k.Step(5);
            }
            device.Synchronize();
            Assert.All(k.ResetFlags.ToArray(), f => Assert.Equal(0, f));
            return k.Qpos.ToArray().Concat(k.Qvel.ToArray()).ToArray();
        }
        using var cpu = new CpuDevice(1);
        using var il = IlgpuDevice.CreateCpuAccelerator();
        var a = Run(cpu);
        var b = Run(il);
        double worst = PhysicsTestUtil.MaxRel(b.Select(x => (double)x).ToArray(), a.Select(x => (double)x).ToArray());
        output.WriteLine($"ILGPU CPU accelerator vs CPU launcher after {steps} env steps: max rel diff {worst:g3}");
        Assert.True(worst < 1e-4, $"max rel diff {worst}");
    }

    [Fact]
    public void ResetFlagsLoadOnlyFlaggedRows()
    {
        using var cpu = new CpuDevice(1);
        using var k = new KernelPhysics(cpu, PhysicsTestUtil.AntPath, 3);
        k.Step(5);
        var before = k.Qpos.ToArray();
        // write garbage into rows 0 and 2, flag only row 2 with a proper state
        var q = (float[])before.Clone();
        for (int i = 0; i < k.Nq; i++) q[i] = float.NaN;
        var state = k.Qpos0.ToArray();
        state[2] = 1.5f;
        Array.Copy(state, 0, q, 2 * k.Nq, k.Nq);
        k.Qpos.CopyFrom(q);
        var v = k.Qvel.ToArray();
        for (int i = 0; i < k.Nv; i++) v[2 * k.Nv + i] = 0.25f * i;
        k.Qvel.CopyFrom(v);
        k.ResetFlags.CopyFrom([0, 0, 1]);
        k.Sync();
        var after = k.Qpos.ToArray();
        Assert.Equal(before.Take(k.Nq), after.Take(k.Nq));           // unflagged row: engine state, garbage ignored
        Assert.Equal(state, after.Skip(2 * k.Nq).Take(k.Nq));           // flagged row: exactly the loaded state
        Assert.Equal(new[] { 0, 0, 0 }, k.ResetFlags.ToArray());
        Assert.Equal(v.Skip(2 * k.Nv).Take(k.Nv), k.Qvel.ToArray().Skip(2 * k.Nv).Take(k.Nv));
    }
}
