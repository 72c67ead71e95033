using EpgFast.Backends;
using EpgFast.Kernels.Tasks;
using EpgFast.Tasks;
using Xunit;

namespace EpgFast.Tests.Tasks;

public class AntTaskTests
{
    private static IEnvBatch Make(EnvKind kind, int envs, AntTaskConfig? config = null) =>
        EnvFactory.Create(new EnvSpec { Kind = kind, Ant = config }, new CpuDevice(2), envs);

    private static float[] RandomActions(int n, int seed, float scale = 1.3f)
    {
        var rng = new System.Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();
    }

    private static void AssertObservationLayout(AntEnvBatch env, int qposStart)
    {
        var obs = env.Observations.ToArray();
        var q = env.Physics.Qpos.ToArray();
        var v = env.Physics.Qvel.ToArray();
        int nq = env.Physics.Nq, nv = env.Physics.Nv;
        for (int e = 0; e < env.Envs; e++)
        {
            var expected = q.AsSpan(e * nq + qposStart, nq - qposStart).ToArray().Concat(v.AsSpan(e * nv, nv).ToArray()).ToArray();
            Assert.Equal(expected, obs.AsSpan(e * env.ObsDim, env.ObsDim).ToArray());
        }
    }

    [Theory]
    [InlineData(EnvKind.Ant, 27, 2)]
    [InlineData(EnvKind.GoalAnt, 29, 0)]
    public void ObservationsHaveTheDocumentedLayout(EnvKind kind, int obsDim, int qposStart)
    {
        using var env = (AntEnvBatch)Make(kind, 3, (kind == EnvKind.Ant ? AntTaskConfig.AntForward : AntTaskConfig.GoalAntProgress) with { MaxSteps = 4 });
        Assert.Equal(obsDim, env.ObsDim);
        Assert.Equal(8, env.ActDim);
        env.Reset(1);
        AssertObservationLayout(env, qposStart);
        using var actions = env.Device.Allocate<float>(3 * 8);
        for (int s = 0; s < 6; s++)
        {
            actions.CopyFrom(RandomActions(24, s));
            env.Step(actions);
            // Holds for finished episodes too: their rows and observation are the next episode's start.
            AssertObservationLayout(env, qposStart);
        }
    }

    [Fact]
    public void AntForwardRewardIsAntV4()
    {
        using var env = (AntEnvBatch)Make(EnvKind.Ant, 4);
        env.Reset(2);
        using var actions = env.Device.Allocate<float>(4 * 8);
        for (int s = 0; s < 5; s++)
        {
            var x0 = env.Positions.ToArray();
            var a = RandomActions(32, 10 + s);
            actions.CopyFrom(a);
            env.Step(actions);
            var x1 = env.Positions.ToArray();
            var r = env.Rewards.ToArray();
            Assert.All(env.Dones.ToArray(), d => Assert.Equal(0f, d));
            for (int e = 0; e < 4; e++)
            {
                double cost = 0;
                for (int u = 0; u < 8; u++) cost += Math.Pow(Math.Clamp(a[e * 8 + u], -1, 1), 2);
                double expected = (x1[2 * e] - x0[2 * e]) / 0.05 + 1.0 - 0.5 * cost;
                Assert.Equal(expected, r[e], 3);
            }
        }
    }

    /// <summary>
    /// Steps <paramref name="env"/> (3 envs) 5 times from reset with random actions and checks every reward against
    /// <paramref name="expected"/>(d, d', sum of clamped a^2), d and d' the torso's distance to the target before and after.
    /// </summary>
    private static void AssertGoalRewards(AntEnvBatch env, float[] targets, ulong resetSeed, int actionSeed, Func<double, double, double, double> expected)
    {
        env.SetTargets(targets);
        env.Reset(resetSeed);
        using var actions = env.Device.Allocate<float>(3 * 8);
        for (int s = 0; s < 5; s++)
        {
            var p0 = env.Positions.ToArray();
            var a = RandomActions(24, actionSeed + s);
            actions.CopyFrom(a);
            env.Step(actions);
            var p1 = env.Positions.ToArray();
            var r = env.Rewards.ToArray();
            Assert.All(env.Dones.ToArray(), d => Assert.Equal(0f, d));
            for (int e = 0; e < 3; e++)
            {
                double D(float[] p) => Math.Sqrt(Math.Pow(p[2 * e] - targets[2 * e], 2) + Math.Pow(p[2 * e + 1] - targets[2 * e + 1], 2));
                double cost = 0;
                for (int u = 0; u < 8; u++) cost += Math.Pow(Math.Clamp(a[e * 8 + u], -1, 1), 2);
                Assert.Equal(expected(D(p0), D(p1), cost), r[e], 3);
            }
        }
        Assert.Equal(targets, env.Targets.ToArray());
    }

    [Fact]
    public void GoalAntRewardIsProgressTowardTheTargetMinusControlCost()
    {
        using var env = (AntEnvBatch)Make(EnvKind.GoalAnt, 3, AntTaskConfig.GoalAntProgress);
        AssertGoalRewards(env, [2f, 0f, 0f, -1.5f, -1f, 1f], 3, 20, (d0, d1, cost) => (d0 - d1) / 0.05 - 0.05 * cost);
    }

    [Fact]
    public void TheDefaultGoalAntPaysProgressPlusHealthyMinusAntV4sControlCost()
    {
        using var env = (AntEnvBatch)Make(EnvKind.GoalAnt, 3);
        AssertGoalRewards(env, [4f, 0f, 0f, -3.5f, -3f, 3f], 5, 40, (d0, d1, cost) => (d0 - d1) / 0.05 + 1 - 0.5 * cost);
    }

    [Fact]
    public void GoalAntNegativeDistanceRewardWithHealthyBonusAndTermination()
    {
        var config = AntTaskConfig.GoalAntProgress with { GoalReward = GoalReward.NegativeDistance, HealthyReward = 4f, TerminateWhenUnhealthy = true };
        using (var env = (AntEnvBatch)Make(EnvKind.GoalAnt, 3, config))
            AssertGoalRewards(env, [2f, 0f, 0f, -1.5f, -1f, 1f], 3, 20, (d0, d1, cost) => -d1 + 4.0 - 0.05 * cost);

        // Ant-v4's termination: an unhealthy torso height ends the episode.
        using var low = (AntEnvBatch)Make(EnvKind.GoalAnt, 2, config with { HealthyZMax = 0.5f });
        low.Reset(6);
        using var zero = low.Device.Allocate<float>(16);
        low.Step(zero);
        Assert.Equal([1f, 1f], low.Terminals.ToArray());
        Assert.Equal([1f, 1f], low.Dones.ToArray());
    }

    [Fact]
    public void GoalAntReachRadiusEndsTheEpisodeAndPaysTheHealthyRewardLeft()
    {
        var config = AntTaskConfig.GoalAntProgress with { HealthyReward = 1f, TerminateWhenUnhealthy = true, MaxSteps = 100, ReachRadius = 0.3f };
        using var env = (AntEnvBatch)Make(EnvKind.GoalAnt, 2, config);
        // env 0: a target 2 m away; env 1: a target at the start (the torso starts within 0.1 m per axis of it).
        env.SetTargets([2f, 0f, 0f, 0f]);
        env.Reset(3);
        using var zero = env.Device.Allocate<float>(16);
        env.Step(zero);
        var r = env.Rewards.ToArray();
        Assert.Equal([0f, 1f], env.Dones.ToArray());
        Assert.Equal([0f, 1f], env.Terminals.ToArray());
        // zero actions: no control cost, a few mm of motion (progress / 0.05 well under 1).
        Assert.InRange(r[0], 0f, 2f);
        Assert.InRange(r[1], 99f, 101f); // 1 healthy + 99 steps left x 1 + progress

        // Off (0), the same start does not end; the forward task ignores the radius.
        using var off = (AntEnvBatch)Make(EnvKind.GoalAnt, 2, config with { ReachRadius = 0f });
        off.SetTargets([2f, 0f, 0f, 0f]);
        off.Reset(3);
        off.Step(zero);
        Assert.Equal([0f, 0f], off.Dones.ToArray());
        using var forward = (AntEnvBatch)Make(EnvKind.Ant, 2, AntTaskConfig.AntForward with { ReachRadius = 100f });
        forward.Reset(3);
        forward.Step(zero);
        Assert.Equal([0f, 0f], forward.Dones.ToArray());
    }

    [Fact]
    public void GoalAntDefinitionsByName()
    {
        Assert.Same(AntTaskConfig.GoalAntReach, AntTaskConfig.GoalAntDefinition(AntTaskConfig.GoalAntDefinitions[0]));
        Assert.Same(AntTaskConfig.GoalAnt, AntTaskConfig.GoalAntDefinition("reach"));
        Assert.Equal(AntTaskConfig.AntForward with { Objective = AntObjective.Goal, ObserveXY = true, RadiusMin = 3f, RadiusMax = 5f, ReachRadius = 0.5f },
            AntTaskConfig.GoalAntReach);
        Assert.Same(AntTaskConfig.GoalAntProgress, AntTaskConfig.GoalAntDefinition("progress"));
        Assert.Equal(AntTaskConfig.GoalAntProgress with { GoalReward = GoalReward.NegativeDistance, HealthyReward = 4f, TerminateWhenUnhealthy = true },
            AntTaskConfig.GoalAntDefinition("distance-survive"));
        foreach (var name in AntTaskConfig.GoalAntDefinitions)
        {
            Assert.Equal(AntObjective.Goal, AntTaskConfig.GoalAntDefinition(name).Objective);
            Assert.DoesNotContain('|', AntTaskConfig.GoalAntDefinition(name).Summary()); // it goes into markdown tables
        }
        Assert.Equal("r = (d - d') / dt + 1 - 0.5 sum(a^2); an episode ends after 1000 steps, when the torso z leaves [0.2, 1], as reached within 0.5 m of the target",
            AntTaskConfig.GoalAntReach.Summary());
        Assert.Equal("r = (d - d') / dt - 0.05 sum(a^2); an episode ends after 200 steps", AntTaskConfig.GoalAntProgress.Summary());
        Assert.Throws<EpgException>(() => AntTaskConfig.GoalAntDefinition("no-such"));
        Assert.Equal(GoalReward.NegativeDistance, AntTaskConfig.ParseGoalReward("negative-distance"));
        Assert.Equal(GoalReward.Progress, AntTaskConfig.ParseGoalReward("progress"));
        Assert.Throws<EpgException>(() => AntTaskConfig.ParseGoalReward("sparse"));
    }

    [Fact]
    public void EpisodesEndAtTheCapAndRestartWithTheirOwnNoise()
    {
        using var env = (AntEnvBatch)Make(EnvKind.GoalAnt, 2, AntTaskConfig.GoalAntProgress with { MaxSteps = 4 });
        env.Reset(4);
        var start0 = env.Physics.Qpos.ToArray();
        using var actions = env.Device.Allocate<float>(2 * 8);
        var sum = new double[2];
        for (int s = 1; s <= 4; s++)
        {
            actions.CopyFrom(RandomActions(16, 30 + s));
            env.Step(actions);
            var r = env.Rewards.ToArray();
            for (int e = 0; e < 2; e++) sum[e] += r[e];
            Assert.All(env.Dones.ToArray(), d => Assert.Equal(s == 4 ? 1f : 0f, d));
            Assert.All(env.Terminals.ToArray(), d => Assert.Equal(0f, d));
        }
        Assert.Equal([4, 4], env.LastLengths.ToArray());
        Assert.Equal([1, 1], env.FinishedEpisodes.ToArray());
        Assert.Equal([1, 1], ((EnvBatchBase)env).EpisodeIndex.ToArray());
        Assert.Equal([0, 0], ((EnvBatchBase)env).StepsInEpisode.ToArray());
        Assert.Equal([0f, 0f], env.EpisodeReturns.ToArray());
        var last = env.LastReturns.ToArray();
        for (int e = 0; e < 2; e++) Assert.Equal(sum[e], last[e], 3);
        var pos = env.Positions.ToArray();
        var tgt = env.Targets.ToArray();
        var dist = env.LastDistances.ToArray();
        for (int e = 0; e < 2; e++)
            Assert.Equal(Math.Sqrt(Math.Pow(pos[2 * e] - tgt[2 * e], 2) + Math.Pow(pos[2 * e + 1] - tgt[2 * e + 1], 2)), dist[e], 4);
        // Episode 1 starts from fresh reset noise near qpos0, not from episode 0's start.
        var start1 = env.Physics.Qpos.ToArray();
        Assert.NotEqual(start0, start1);
        AssertNearQpos0(start1, env.Physics.Qpos0, 2);
    }

    private static void AssertNearQpos0(float[] q, float[] qpos0, int envs)
    {
        for (int e = 0; e < envs; e++)
        {
            for (int i = 0; i < 15; i++)
                if (i < 3 || i >= 7) Assert.InRange(q[e * 15 + i] - qpos0[i], -0.1f - 1e-6f, 0.1f + 1e-6f);
            double norm = Math.Sqrt(Enumerable.Range(3, 4).Sum(i => (double)q[e * 15 + i] * q[e * 15 + i]));
            Assert.Equal(1.0, norm, 5);
        }
    }

    [Fact]
    public void ResetIsReproducibleAndWithinTheNoise()
    {
        using var env = (AntEnvBatch)Make(EnvKind.Ant, 6);
        env.Reset(5);
        var a = env.Observations.ToArray();
        var q = env.Physics.Qpos.ToArray();
        AssertNearQpos0(q, env.Physics.Qpos0, 6);
        Assert.All(env.Physics.Qvel.ToArray(), v => Assert.InRange(v, -0.6f, 0.6f));
        env.Reset(5);
        Assert.Equal(a, env.Observations.ToArray());
        env.Reset(6);
        Assert.NotEqual(a, env.Observations.ToArray());
        // Envs draw different noise.
        Assert.NotEqual(a.AsSpan(0, 27).ToArray(), a.AsSpan(27, 27).ToArray());
    }

    [Fact]
    public void AntForwardTerminatesWhenUnhealthyAndStillPaysTheHealthyReward()
    {
        using var env = (AntEnvBatch)Make(EnvKind.Ant, 2, AntTaskConfig.AntForward with { HealthyZMax = 0.5f });
        env.Reset(6);
        using var actions = env.Device.Allocate<float>(16);
        var x0 = env.Positions.ToArray();
        env.Step(actions);
        Assert.Equal([1f, 1f], env.Terminals.ToArray());
        Assert.Equal([1f, 1f], env.Dones.ToArray());
        Assert.Equal([1, 1], env.LastLengths.ToArray());
        var x1 = env.Positions.ToArray();
        var r = env.Rewards.ToArray();
        for (int e = 0; e < 2; e++) Assert.Equal((x1[2 * e] - x0[2 * e]) / 0.05 + 1.0, r[e], 3);

        using var soft = (AntEnvBatch)Make(EnvKind.Ant, 2, AntTaskConfig.AntForward with { HealthyZMax = 0.5f, TerminateWhenUnhealthy = false });
        soft.Reset(6);
        soft.Step(actions);
        Assert.Equal([0f, 0f], soft.Dones.ToArray());
        var x2 = soft.Positions.ToArray();
        var r2 = soft.Rewards.ToArray();
        for (int e = 0; e < 2; e++) Assert.Equal((x2[2 * e] - x0[2 * e]) / 0.05, r2[e], 3);
    }

    [Fact]
    public void TaskKernelsRunUnchangedOnAnotherEngineAndDevice()
    {
        (float[], float[], float[], float[]) Run(Device device)
        {
            using var env = new AntEnvBatch(new FakePhysics(device, 3), AntTaskConfig.GoalAntProgress with { MaxSteps = 3 });
            env.SampleTargets(9, [4, 5, 6]);
            env.Reset(7);
            using var actions = device.Allocate<float>(24);
            var rewards = new List<float>();
            for (int s = 0; s < 7; s++)
            {
                actions.CopyFrom(RandomActions(24, 40 + s));
                env.Step(actions);
                rewards.AddRange(env.Rewards.ToArray());
                rewards.AddRange(env.Dones.ToArray());
            }
            return (env.Observations.ToArray(), rewards.ToArray(), env.LastReturns.ToArray(), env.Targets.ToArray());
        }
        using var cpu = new CpuDevice(2);
        using var il = IlgpuDevice.CreateCpuAccelerator();
        var a = Run(cpu);
        var b = Run(il);
        AssertClose(a.Item1, b.Item1);
        AssertClose(a.Item2, b.Item2);
        AssertClose(a.Item3, b.Item3);
        Assert.Equal(a.Item4, b.Item4);
        Assert.Contains(1f, a.Item2);
    }

    private static void AssertClose(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= 1e-5 * (1 + Math.Abs(a[i])), $"[{i}] {a[i]} vs {b[i]}");
    }

    [Fact]
    public void EnvNamesParse()
    {
        Assert.Equal(EnvKind.GoalAnt, EnvFactory.Parse("goal-ant"));
        Assert.Equal(EnvKind.Ant, EnvFactory.Parse("ant"));
        Assert.Equal(EnvKind.PointGoal, EnvFactory.Parse("point-goal"));
        Assert.Throws<EpgException>(() => EnvFactory.Parse("humanoid"));
        Assert.Equal(GoalRegion.Left, GoalTasks.ParseRegion("left"));
    }
}
