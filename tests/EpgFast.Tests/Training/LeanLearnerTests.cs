using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Learners;
using EpgFast.Networks;
using EpgFast.Tasks;
using EpgFast.Training;
using Xunit;

namespace EpgFast.Tests.Training;

/// <summary>
/// Lean learners (no value net without PPO, no memory weights without memory training) are a memory layout, not
/// a different algorithm: with alpha = 0 and untrained memory they give the same numbers as full learners.
/// </summary>
public class LeanLearnerTests
{
    private static TrainConfig Small => TrainConfig.Preset("ci") with
    {
        Env = "point-goal", Population = 2, LearnersPerMember = 2, ActSteps = 16, Updates = 4, BufferRows = 32, Minibatch = 8,
        Seed = 11, AlphaSchedule = "off", InnerLearningRate = 0.03f,
    };

    private static (float[] Fitness, long Bytes) Lifetime(bool ppo)
    {
        var c = Small;
        using var device = new CpuDevice();
        using var env = EnvFactory.Create(EpgTrainer.EnvSpecFor(c), device, c.Learners);
        var net = c.Networks(env.ObsDim, env.ActDim, ppo);
        using var batch = LearnerBatchFactory.Create(env, net, c.Updates, 1, c.LearnersPerMember, c.FitnessEpisodes);
        var layout = new LossLayout(net);
        using var phi = device.Upload<float>(layout.Initialize(3).Concat(layout.Initialize(4)).ToArray());
        env.SampleTargets(c.Seed, Enumerable.Range(0, c.Learners).ToArray());
        var fitness = batch.RunLifetime(phi, 0f, c.Seed, 2, 0).Fitness;
        return (fitness, batch.BytesByPart.Sum(p => p.Bytes));
    }

    [Fact]
    public void LeanLearnersGiveBitIdenticalFitnessWithLessMemory()
    {
        var full = Lifetime(ppo: true);
        var lean = Lifetime(ppo: false);
        Assert.Equal(full.Fitness, lean.Fitness);
        Assert.All(lean.Fitness, f => Assert.True(float.IsFinite(f)));
        Assert.True(lean.Bytes < full.Bytes * 0.8, $"lean {lean.Bytes} bytes, full {full.Bytes}");
    }

    [Fact]
    public void AlphaAboveZeroOnLeanLearnersIsAClearError()
    {
        var c = Small;
        using var device = new CpuDevice();
        using var env = EnvFactory.Create(EpgTrainer.EnvSpecFor(c), device, c.Learners);
        var net = c.Networks(env.ObsDim, env.ActDim, ppo: false);
        using var batch = LearnerBatchFactory.Create(env, net, c.Updates, 1, c.LearnersPerMember, c.FitnessEpisodes);
        using var phi = device.Upload<float>(new float[c.Population * new LossLayout(net).PhiSize]);
        var e = Assert.Throws<EpgException>(() => batch.RunLifetime(phi, 0.5f, 1, 0, 0));
        Assert.Contains("needs PPO", e.Message);
    }

    /// <summary>Untrained memory computed from the initial weights' draws equals the memory layer's forward on initialized weights, bit for bit.</summary>
    [Fact]
    public void UntrainedMemoryEqualsTheInitialLayersOutput()
    {
        var full = new LearnerLayout(new NetworkConfig(7, 3) { BufferRows = 32, ActSteps = 16, Minibatch = 8 });
        var lean = new LearnerLayout(full.Config with { TrainMemory = false, Ppo = false });
        Assert.False(lean.HasMemoryWeights);
        Assert.True(lean.Stride < full.Stride);
        const int L = 5;
        float[] Mem<TF>(Device d, LearnerLayout layout) where TF : struct, IView<float>
        {
            using var p = d.Allocate<float>(L * layout.Stride);
            using var mem = new MemoryBatch<TF>(d, layout, L);
            LearnerInit.Initialize<TF>(d, layout, L, p, 21, 3, 8, streamPeriod: 2);
            mem.BeginLife(21, 3, 8, streamPeriod: 2);
            mem.Forward(p);
            d.Synchronize();
            return mem.Mem.ToArray();
        }
        using var cpu = new CpuDevice();
        using var il = IlgpuDevice.CreateCpuAccelerator();
        var want = Mem<CpuView<float>>(cpu, full);
        Assert.Equal(want, Mem<CpuView<float>>(cpu, lean));
        Assert.Equal(Mem<GpuView<float>>(il, full), Mem<GpuView<float>>(il, lean));
        // Stream period 2: learners 0, 2, 4 share their draws, 1 and 3 theirs; units differ (the check is not vacuous).
        Assert.Equal(2 * full.Config.MemoryUnits, want.Distinct().Count());
    }
}
