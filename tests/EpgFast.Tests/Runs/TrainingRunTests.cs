using System.Text.Json.Nodes;
using EpgFast.Backends;
using EpgFast.Evolution;
using EpgFast.Runs;
using Xunit;

namespace EpgFast.Tests.Runs;

public class TrainingRunTests
{
    private static readonly EsConfig Config = new() { Population = 8, Antithetic = true, Sigma = 0.05, LearningRate = 0.05, Epochs = 12, Seed = 17 };
    private static readonly float[] Center = Enumerable.Range(0, 700).Select(j => MathF.Sin(0.3f * j)).ToArray();

    private static JsonObject ConfigJson(int threads = 1) => new() { ["seed"] = 17, ["epochs"] = 12, ["threads"] = threads };

    /// <summary>Runs epochs until <paramref name="stopAfter"/> epochs are committed (or the config's end).</summary>
    private static void Train(string root, bool resume, int stopAfter, List<string>? messages = null, int threads = 1)
    {
        var es = new EvolutionStrategy(Config, threads);
        using var run = TrainingRun.Start(root, es, new float[Center.Length], ConfigJson(threads), ["alpha", "quarantined"], resume,
            messages is null ? null : messages.Add, resumeIgnoredKeys: ["threads"]);
        run.PhiMetadata = s => new JsonObject { ["epoch"] = s.BestEpoch };
        var alpha = AlphaSchedule.Default(Config.Epochs);
        while (run.State.Epoch < Config.Epochs && run.State.Epoch < stopAfter)
        {
            EsState s = run.State;
            double[] fitness = es.Ask(s).Select((m, i) => i == 3 ? double.NaN : -m.Select((x, j) => (double)(x - Center[j]) * (x - Center[j])).Sum()).ToArray();
            EsState next = es.Tell(s, fitness, out var info);
            next = next.OfferBest(s.Phi, info.FitnessMean, s.Epoch);
            run.Commit(next, info, [alpha.At(s.Epoch), info.NonFinite], checkpointExtra: [(byte)s.Epoch]);
        }
        if (run.State.Epoch == Config.Epochs) run.Finish();
    }

    private static void AssertSameRun(string a, string b)
    {
        foreach (string f in new[] { "metrics.csv", "best.phi", "checkpoints/last.ckpt", "checkpoints/best.ckpt", "config.json" })
            Assert.True(File.ReadAllBytes(Path.Combine(a, f)).SequenceEqual(File.ReadAllBytes(Path.Combine(b, f))), $"{f} differs");
    }

    [Fact]
    public void ResumeAfterAKillEndsBitIdenticalToAnUnbrokenRun()
    {
        using var tmp = new TempDir();
        Train(tmp["unbroken"], resume: false, stopAfter: int.MaxValue);
        Assert.True(File.Exists(tmp["unbroken/plots/fitness.png"]));
        Assert.Equal(13, File.ReadAllLines(tmp["unbroken/metrics.csv"]).Length);
        var ckpt = Checkpoint.Read(tmp["unbroken/checkpoints/last.ckpt"]);
        Assert.Equal(12, ckpt.State.Epoch);
        Assert.Equal([11], ckpt.Extra);
        Assert.Equal(ckpt.State.BestPhi, PhiFile.Read(tmp["unbroken/best.phi"]).Phi);

        // killed after 5 epochs, in the middle of epoch 5: its metrics row is on disk, its checkpoint is not,
        // and the newest checkpoint got corrupted on top of that
        Train(tmp["killed"], resume: false, stopAfter: 5);
        File.AppendAllText(tmp["killed/metrics.csv"], "5,-1,-1,0,1\n6,-1");
        byte[] last = File.ReadAllBytes(tmp["killed/checkpoints/last.ckpt"]);
        last[200] ^= 0xFF;
        File.WriteAllBytes(tmp["killed/checkpoints/last.ckpt"], last);

        var messages = new List<string>();
        Train(tmp["killed"], resume: true, stopAfter: int.MaxValue, messages, threads: 2);
        Assert.Contains(messages, m => m.Contains("last.ckpt is corrupt") && m.Contains("last.prev.ckpt"));
        Assert.Contains(messages, m => m.Contains("resuming") && m.Contains("epoch 4"));
        // config.json is rewritten with this invocation's (ignored) thread count; compare the rest
        File.WriteAllText(tmp["killed/config.json"], File.ReadAllText(tmp["unbroken/config.json"]));
        AssertSameRun(tmp["unbroken"], tmp["killed"]);
    }

    [Fact]
    public void SameSeedGivesBitIdenticalMetrics()
    {
        using var tmp = new TempDir();
        Train(tmp["a"], resume: false, stopAfter: 6);
        Train(tmp["b"], resume: false, stopAfter: 6, threads: 2);
        Assert.Equal(File.ReadAllBytes(tmp["a/metrics.csv"]), File.ReadAllBytes(tmp["b/metrics.csv"]));
        Assert.Equal(File.ReadAllBytes(tmp["a/checkpoints/last.ckpt"]), File.ReadAllBytes(tmp["b/checkpoints/last.ckpt"]));
    }

    [Fact]
    public void NewRunRefusesAnExistingOneAndResumeRefusesAnotherConfig()
    {
        using var tmp = new TempDir();
        Train(tmp["r"], resume: false, stopAfter: 2);
        Assert.Contains("already holds a run", Assert.Throws<EpgException>(() => Train(tmp["r"], resume: false, stopAfter: 3)).Message);
        var es = new EvolutionStrategy(Config);
        var other = new JsonObject { ["seed"] = 18, ["epochs"] = 12, ["threads"] = 1 };
        var e = Assert.Throws<EpgException>(() => TrainingRun.Start(tmp["r"], es, new float[Center.Length], other, ["alpha", "quarantined"], resume: true));
        Assert.Contains("seed", e.Message);
        Assert.DoesNotContain("threads", e.Message);

        // --resume on a fresh folder simply starts
        var messages = new List<string>();
        using var fresh = TrainingRun.Start(tmp["new"], es, new float[Center.Length], ConfigJson(), [], resume: true, messages.Add);
        Assert.False(fresh.Resumed);
        Assert.Equal(0, fresh.State.Epoch);
    }
}
