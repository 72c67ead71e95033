using EpgFast.Backends;
using EpgFast.Tasks;
using Xunit;

namespace EpgFast.Tests.Tasks;

public class PointGoalTests
{
    /// <summary>Runs one 50-step episode with a PD controller toward (gain +1) or away from (gain -1) the goal.</summary>
    private static (float[] LastReturns, float[] LastDistances, float[] Dones) Episode(Device device, float gain)
    {
        using var env = (PointGoalEnvBatch)EnvFactory.Create(new EnvSpec { Kind = EnvKind.PointGoal }, device, 4);
        env.SampleTargets(1, [0, 1, 2, 3]);
        env.Reset(2);
        var targets = env.Targets.ToArray();
        using var actions = device.Allocate<float>(8);
        var a = new float[8];
        var dones = new List<float>();
        for (int s = 0; s < env.MaxEpisodeSteps; s++)
        {
            var o = env.Observations.ToArray();
            for (int e = 0; e < 4; e++)
                for (int k = 0; k < 2; k++)
                    a[2 * e + k] = gain * 3f * (targets[2 * e + k] - o[4 * e + k]) - 2f * o[4 * e + 2 + k];
            actions.CopyFrom(a);
            env.Step(actions);
            dones.AddRange(env.Dones.ToArray());
        }
        return (env.LastReturns.ToArray(), env.LastDistances.ToArray(), dones.ToArray());
    }

    [Fact]
    public void ReachingTheGoalPaysAndLeavingItCosts()
    {
        using var cpu = new CpuDevice(1);
        var toward = Episode(cpu, 1f);
        var away = Episode(cpu, -1f);
        Assert.All(toward.LastDistances, d => Assert.True(d < 0.1f, $"final distance {d}"));
        Assert.All(toward.LastReturns, r => Assert.True(r > 5f, $"return {r}"));
        Assert.All(away.LastReturns, r => Assert.True(r < -5f, $"return {r}"));
        // Episodes end exactly at step 50, all envs at once.
        Assert.Equal(Enumerable.Repeat(0f, 49 * 4).Concat(Enumerable.Repeat(1f, 4)), toward.Dones);
    }

    [Fact]
    public void SameResultsOnTheCpuLauncherAndIlgpu()
    {
        using var cpu = new CpuDevice(2);
        using var il = IlgpuDevice.CreateCpuAccelerator();
        var a = Episode(cpu, 1f);
        var b = Episode(il, 1f);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(a.LastReturns[i], b.LastReturns[i], 4);
            Assert.Equal(a.LastDistances[i], b.LastDistances[i], 5);
        }
    }

    [Fact]
    public void OneStepFollowsTheDynamics()
    {
        using var cpu = new CpuDevice(1);
        using var env = new PointGoalEnvBatch(cpu, 1);
        env.SetTargets([1f, 0f]);
        env.Reset(3);
        var s0 = env.State.ToArray();
        Assert.Equal([0f, 0f], s0[2..]);
        Assert.All(s0[..2], p => Assert.InRange(p, -0.1f, 0.1f));
        using var actions = cpu.Upload<float>([2f, -0.5f]); // x clamps to 1
        env.Step(actions);
        var s1 = env.State.ToArray();
        Assert.Equal(0.1f, s1[2], 6);
        Assert.Equal(-0.05f, s1[3], 6);
        Assert.Equal(s0[0] + 0.01f, s1[0], 6);
        Assert.Equal(s0[1] - 0.005f, s1[1], 6);
        Assert.Equal(s1, env.Observations.ToArray());
        double d0 = Math.Sqrt(Math.Pow(s0[0] - 1, 2) + s0[1] * s0[1]), d1 = Math.Sqrt(Math.Pow(s1[0] - 1, 2) + s1[1] * s1[1]);
        Assert.Equal((d0 - d1) / 0.1 - 0.01 * (1 + 0.25), env.Rewards.ToArray()[0], 4);
    }
}
