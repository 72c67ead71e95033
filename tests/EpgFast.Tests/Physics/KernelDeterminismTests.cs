using EpgFast.Backends;
using EpgFast.Physics;
using Xunit;
using Xunit.Abstractions;

namespace EpgFast.Tests.Physics;

/// <summary>The kernel simulator is deterministic: the same start and controls give the same bits.</summary>
public class KernelDeterminismTests(ITestOutputHelper output)
{
    /// <summary>qpos then qvel of <paramref name="envs"/> Ants after <paramref name="steps"/> env steps (frame skip 5) from perturbed poses under seeded controls.</summary>
    internal static float[] Trajectory(Device device, int envs, int steps)
    {
        using var k = new KernelPhysics(device, PhysicsTestUtil.AntPath, envs);
        var rng = new System.Random(7);
        PhysicsTestUtil.PerturbPoses(k, rng);
        var ctrl = new float[envs * k.Nu];
        for (int s = 0; s < steps; s++)
        {
            for (int i = 0; i < ctrl.Length; i++) ctrl[i] = (float)(2 * rng.NextDouble() - 1);
            k.Ctrl.CopyFrom(ctrl);
            k.Step(5);
        }
        device.Synchronize();
        return k.Qpos.ToArray().Concat(k.Qvel.ToArray()).ToArray();
    }

    internal static ulong Hash(float[] x)
    {
        ulong h = 14695981039346656037UL;
        foreach (float f in x)
        {
            h ^= BitConverter.SingleToUInt32Bits(f);
            h *= 1099511628211UL;
        }
        return h;
    }

    [Fact]
    public void SameStartAndControlsGiveTheSameBits()
    {
        using var one = new CpuDevice(1);
        using var two = new CpuDevice(2);
        var a = Trajectory(one, 16, 60);
        var b = Trajectory(two, 16, 60);
        output.WriteLine($"hash {Hash(a):X16}; env 0 qpos {string.Join(" ", a.Take(15).Select(x => x.ToString("R")))}");
        Assert.All(a, x => Assert.True(float.IsFinite(x)));
        Assert.Equal(a.Select(BitConverter.SingleToUInt32Bits), b.Select(BitConverter.SingleToUInt32Bits));
    }
}
