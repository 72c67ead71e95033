using EpgFast.Backends;
using EpgFast.Learners;
using EpgFast.Tasks;
using EpgFast.Training;
using Xunit;

namespace EpgFast.Tests.Training;

/// <summary>The whole EPG loop on the fast point-goal environment.</summary>
[Collection("cli")]
public class EpgLoopTests
{
    /// <summary>A small point-goal run: 8 members (antithetic), 2 tasks each, 160-step lifetimes.</summary>
    private static TrainConfig Small(int epochs) => TrainConfig.Preset("ci") with
    {
        Env = "point-goal", Epochs = epochs, Population = 8, Antithetic = true, TasksPerMember = 2,
        ActSteps = 16, Updates = 10, BufferRows = 32, Minibatch = 8, TestEvery = 0, Seed = 7,
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
    public void PoisonedLearnerIsQuarantinedAndOthersCarryOn()
    {
        var c = Small(1);
        using var device = new CpuDevice();
        using var env = EnvFactory.Create(EpgTrainer.EnvSpecFor(c), device, c.Learners);
        var net = c.Networks(env.ObsDim, env.ActDim);
        using var batch = LearnerBatchFactory.Create(env, net, c.Updates, 1, c.TasksPerMember, c.FitnessEpisodes);
        var layout = new EpgFast.Networks.LossLayout(net);
        using var phi = device.Upload<float>(Enumerable.Range(0, c.Population).SelectMany(_ => layout.Initialize(1)).ToArray());
        env.SampleTargets(1, Enumerable.Range(0, c.Learners).ToArray());
        // Poison learner 3 after initialization: run a lifetime whose first update sees NaN parameters.
        var clean = batch.RunLifetime(phi, 0f, 1, 0, 0, false);
        Assert.All(clean.Fitness, f => Assert.True(float.IsFinite(f)));
        var poisoned = new PoisoningObserver(batch, 3);
        var r = batch.RunLifetime(phi, 0f, 1, 0, 0, false, poisoned);
        Assert.Equal(1, r.Quarantined);
        Assert.True(float.IsNaN(r.Fitness[3]));
        for (int l = 0; l < r.Fitness.Length; l++)
            if (l != 3) Assert.True(float.IsFinite(r.Fitness[l]), $"learner {l} was hurt by the poisoned one");
    }

    private sealed class PoisoningObserver(ILearnerBatch batch, int learner) : ILifetimeObserver
    {
        public void OnStep(int step, float[] dones, float[] lastReturns, float[] lastDistances, float[] positions)
        {
            if (step == 5) batch.Poison(learner);
        }
    }

    [Fact]
    public void EvolvedLossBeatsTheInitialLossOnPointGoal()
    {
        var c = Small(24) with { Sigma = 0.05, EsLearningRate = 0.05, EsFinalLearningRate = 0.01, AlphaSchedule = "off" };
        string dir = TempDir();
        try
        {
            Train(c, dir);
            var metrics = EpgFast.Runs.MetricsLog.Read(Path.Combine(dir, "metrics.csv"));
            using var device = new CpuDevice();
            var results = EpgTrainer.Report(c with { TestEvery = 0 }, dir, device, 16, _ => { });
            // The run's best phi is its last offered one (no tests: training fitness at alpha 0).
            Assert.True(results[0].FitnessMean > results[1].FitnessMean,
                $"evolved {results[0].FitnessMean:F3} vs initial {results[1].FitnessMean:F3}");
            Assert.True(File.Exists(Path.Combine(dir, "report.md")));
            Assert.Equal(24, metrics.Rows.Count);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
