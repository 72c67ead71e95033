using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Learners;
using EpgFast.Tasks;
using EpgFast.Training;
using Xunit;

namespace EpgFast.Tests.Training;

/// <summary>The whole EPG loop on the fast point-goal environment.</summary>
[Collection("cli")]
public class EpgLoopTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>A small point-goal run: 8 members (antithetic), 2 tasks each, 160-step lifetimes, no PPO.</summary>
    private static TrainConfig Small(int epochs) => TrainConfig.Preset("ci") with
    {
        Env = "point-goal", Epochs = epochs, Population = 8, Antithetic = true, LearnersPerMember = 2,
        ActSteps = 16, Updates = 10, BufferRows = 32, Minibatch = 8, TestEvery = 0, Seed = 7,
        Sigma = 0.1, EsLearningRate = 0.05, EsFinalLearningRate = 0.01, AlphaSchedule = "off", InnerLearningRate = 0.03f,
    };

    private static string TempDir() => Path.Combine(Path.GetTempPath(), "epgfast-loop-" + Guid.NewGuid().ToString("N"));

    private static void Train(TrainConfig c, string dir, bool resume = false)
    {
        using var device = new CpuDevice();
        EpgTrainer.Train(c, dir, resume, device, _ => { }, _ => { });
    }

    [Fact]
    public void SameSeedGivesBitIdenticalMetrics()
    {
        string a = TempDir(), b = TempDir();
        try
        {
            Train(Small(3), a);
            Train(Small(3), b);
            Assert.Equal(File.ReadAllText(Path.Combine(a, "metrics.csv")), File.ReadAllText(Path.Combine(b, "metrics.csv")));
            Assert.Equal(File.ReadAllBytes(Path.Combine(a, "checkpoints", "last.ckpt")), File.ReadAllBytes(Path.Combine(b, "checkpoints", "last.ckpt")));
        }
        finally
        {
            Directory.Delete(a, true);
            Directory.Delete(b, true);
        }
    }

    [Fact]
    public void ResumeEqualsAnUnbrokenRun()
    {
        string whole = TempDir(), broken = TempDir();
        try
        {
            Train(Small(4), whole);
            using (var device = new CpuDevice())
            {
                // Killed right after epoch 2 was committed (as a kill -9 would between two epochs) ...
                Assert.Throws<OperationCanceledException>(() => EpgTrainer.Train(Small(4), broken, false, device,
                    r => { if (r.Epoch == 1) throw new OperationCanceledException(); }, _ => { }));
            }
            Train(Small(4), broken, resume: true);      // ... and resumed
            Assert.Equal(File.ReadAllText(Path.Combine(whole, "metrics.csv")), File.ReadAllText(Path.Combine(broken, "metrics.csv")));
            Assert.Equal(File.ReadAllBytes(Path.Combine(whole, "best.phi")), File.ReadAllBytes(Path.Combine(broken, "best.phi")));
        }
        finally
        {
            Directory.Delete(whole, true);
            Directory.Delete(broken, true);
        }
    }

    [Fact]
    public void IlgpuSemanticsGiveTheSameEpochAsTheCpuLauncher()
    {
        // The whole loop (env, policy, loss network, PPO, Adam, ES) under ILGPU's semantics - what CUDA
        // compiles - against the CPU launcher: same fitness to float rounding.
        var c = Small(2) with { Population = 4, LearnersPerMember = 1, Updates = 3 };
        string a = TempDir(), b = TempDir();
        try
        {
            using (var cpu = new CpuDevice()) EpgTrainer.Train(c, a, false, cpu, _ => { }, _ => { });
            using (var il = IlgpuDevice.CreateCpuAccelerator()) EpgTrainer.Train(c, b, false, il, _ => { }, _ => { });
            var fa = EpgFast.Runs.MetricsLog.Read(Path.Combine(a, "metrics.csv"));
            var fb = EpgFast.Runs.MetricsLog.Read(Path.Combine(b, "metrics.csv"));
            foreach (var col in new[] { "fitness_mean", "fitness_max" })
            {
                double[] x = fa.Column(col), y = fb.Column(col);
                for (int i = 0; i < x.Length; i++)
                    Assert.True(Math.Abs(x[i] - y[i]) <= 1e-3 * (1 + Math.Abs(x[i])), $"{col}[{i}]: cpu {x[i]} vs ilgpu {y[i]}");
            }
        }
        finally
        {
            Directory.Delete(a, true);
            Directory.Delete(b, true);
        }
    }

    [Fact]
    public void TwoHalfBatchesEqualOneBatch()
    {
        // What a scale-out needs: members [0, W/2) and [W/2, W) trained as separate batches (learnerBase
        // W/2 x T for the second) give bit-identical fitnesses to one batch of all W members.
        var c = Small(1) with { Population = 4, LearnersPerMember = 2, Updates = 3 };
        using var device = new CpuDevice();
        var layout = (EpgFast.Networks.LossLayout?)null;
        float[] Run(int firstMember, int members)
        {
            int learners = members * c.LearnersPerMember;
            using var env = EnvFactory.Create(EpgTrainer.EnvSpecFor(c), device, learners);
            var net = c.Networks(env.ObsDim, env.ActDim, ppo: false);
            layout ??= new EpgFast.Networks.LossLayout(net);
            using var batch = LearnerBatchFactory.Create(env, net, c.Updates, 1, c.LearnersPerMember, c.FitnessEpisodes);
            batch.CommonRandomNumbers = true;
            var es = new EpgFast.Evolution.EvolutionStrategy(c.Es());
            var all = es.Ask(es.Initialize(layout.Initialize(c.Seed)));
            using var phi = device.Upload<float>(all.Skip(firstMember).Take(members).SelectMany(x => x).ToArray());
            env.SampleTargets(c.Seed, Enumerable.Range(0, learners).Select(l => l % c.LearnersPerMember).ToArray());
            return batch.RunLifetime(phi, 0f, c.Seed, 0, firstMember * c.LearnersPerMember).Fitness;
        }
        float[] whole = Run(0, 4);
        float[] split = Run(0, 2).Concat(Run(2, 2)).ToArray();
        Assert.Equal(whole, split);
        Assert.NotEqual(whole[0], whole[2]); // members differ (by their loss), so the check is not vacuous
    }

    [Fact]
    public void PoisonedLearnerIsQuarantinedAndOthersCarryOn()
    {
        var c = Small(1);
        using var device = new CpuDevice();
        using var env = EnvFactory.Create(EpgTrainer.EnvSpecFor(c), device, c.Learners);
        var net = c.Networks(env.ObsDim, env.ActDim, ppo: false);
        using var batch = LearnerBatchFactory.Create(env, net, c.Updates, 1, c.LearnersPerMember, c.FitnessEpisodes);
        var layout = new EpgFast.Networks.LossLayout(net);
        using var phi = device.Upload<float>(Enumerable.Range(0, c.Population).SelectMany(_ => layout.Initialize(1)).ToArray());
        env.SampleTargets(1, Enumerable.Range(0, c.Learners).ToArray());
        // Poison learner 3 after initialization: run a lifetime whose first update sees NaN parameters.
        var clean = batch.RunLifetime(phi, 0f, 1, 0, 0);
        Assert.All(clean.Fitness, f => Assert.True(float.IsFinite(f)));
        var poisoned = new PoisoningObserver(batch, 3);
        var r = batch.RunLifetime(phi, 0f, 1, 0, 0, poisoned);
        Assert.Equal(1, r.Quarantined);
        Assert.True(float.IsNaN(r.Fitness[3]));
        for (int l = 0; l < r.Fitness.Length; l++)
            if (l != 3) Assert.True(float.IsFinite(r.Fitness[l]), $"learner {l} was hurt by the poisoned one");
    }

    private sealed class PoisoningObserver(ILearnerBatch batch, int learner) : ILifetimeObserver
    {
        public void OnStep(int step, float[] dones, float[] lastReturns, float[] lastDistances, float[] positions)
        {
            if (step == 5) ((LearnerBatch<CpuView<float>, CpuView<int>>)batch).Poison(learner);
        }
    }

    [Fact]
    public void EvolvedLossBeatsTheInitialLossOnPointGoal()
    {
        // Measured with seeds 1, 2, 3 (epg train --preset ci --config ... --epochs 80): training fitness rose
        // from about -23 to -4 .. -7 and the evolved loss scored -0.4 .. -3.0 on 16 fresh tasks against
        // -19 .. -24 for the initial loss. The test asserts a margin well inside that.
        // Not resting on one seed's draws (an RNG reordering that changes nothing statistically moved seed 7's
        // margin from 24 to 4.7): seeds 8 and 9 too (margins 13.1 and 17.1 when written, seed 7's 23.8); each
        // seed must improve and beat the initial loss, and the mean margin over the three must clear 5.
        var margins = new List<double>();
        foreach (ulong seed in new ulong[] { 7, 8, 9 })
        {
            var c = Small(60) with { LearnersPerMember = 4, Seed = seed };
            string dir = TempDir();
            try
            {
                Train(c, dir);
                var fitness = EpgFast.Runs.MetricsLog.Read(Path.Combine(dir, "metrics.csv")).Column("fitness_mean");
                Assert.Equal(60, fitness.Length);
                double first = fitness.Take(10).Average(), last = fitness.TakeLast(10).Average();
                using var device = new CpuDevice();
                var results = EpgTrainer.Report(c, dir, device, 16, _ => { });
                double margin = results[0].FitnessMean - results[1].FitnessMean;
                output.WriteLine($"seed {seed}: training {first:F2} -> {last:F2}; evolved {results[0].FitnessMean:F2} vs initial {results[1].FitnessMean:F2} (margin {margin:F2})");
                if (seed == 7)
                {
                    Assert.True(last > first + 3, $"training fitness did not improve: first 10 epochs {first:F2}, last 10 {last:F2}");
                    Assert.True(results[0].FitnessMean > results[1].FitnessMean + 5,
                        $"evolved {results[0].FitnessMean:F3} vs initial {results[1].FitnessMean:F3}");
                    Assert.True(File.Exists(Path.Combine(dir, "report.md")));
                }
                Assert.True(last > first, $"seed {seed}: training fitness did not improve: {first:F2} -> {last:F2}");
                Assert.True(margin > 0, $"seed {seed}: evolved {results[0].FitnessMean:F3} vs initial {results[1].FitnessMean:F3}");
                margins.Add(margin);
            }
            finally
            {
                Directory.Delete(dir, true);
            }
        }
        Assert.True(margins.Average() > 5, $"mean margin over seeds {margins.Average():F2} ({string.Join(", ", margins.Select(m => m.ToString("F2")))})");
    }
}
