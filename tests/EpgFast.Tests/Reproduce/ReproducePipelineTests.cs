using EpgFast.Backends;
using EpgFast.Reproduce;
using EpgFast.Runs;
using EpgFast.Tests.Runs;
using Xunit;

namespace EpgFast.Tests.Reproduce;

/// <summary>
/// `epg reproduce`'s pipeline on a tiny point-goal plan: every stage's files, and a run killed inside a meta-training
/// stage and again inside an evaluation stage, resumed each time, ends with the same outcomes and report as an
/// unbroken run.
/// </summary>
public class ReproducePipelineTests
{
    /// <summary>The mini plan cut down to seconds: 3 EPG epochs of 4 members, 2 RL^2 epochs of 4 trials, 4 learners per method.</summary>
    private static ReproducePlan Tiny()
    {
        var mini = ReproducePlan.For("mini", 5, 1);
        return mini with
        {
            Epg = mini.Epg with { Epochs = 3, Population = 4, LearnersPerMember = 1, Updates = 2, TestEvery = 2, TestTasks = 2 },
            Rl2 = mini.Rl2 with { Epochs = 2, Rl2Trials = 4, Rl2Hidden = 8, Rl2PpoEpochs = 2 },
            Learners = 4,
        };
    }

    private sealed class SimulatedKill : Exception;

    /// <summary>Progress that throws (as a killed process stops) at the <paramref name="at"/>-th progress report inside stage <paramref name="stage"/>.</summary>
    private sealed class Killer(int stage, int at) : IReproduceProgress
    {
        private int _stage, _calls;

        public void Stage(int index, int count, string name, bool skipped) => (_stage, _calls) = (index, 0);

        public void Within(long done, long total, string unit, string detail)
        {
            if (_stage == stage && ++_calls == at) throw new SimulatedKill();
        }

        public void Message(string text)
        {
        }
    }

    private static void Run(string root, IReproduceProgress progress, bool resume)
    {
        using var device = new CpuDevice(1);
        using var dir = RunDirectory.Lock(root);
        new ReproducePipeline(Tiny(), dir, device, progress).Run(resume);
    }

    /// <summary>The files that must match between runs: the outcomes and report.md (no timings in either).</summary>
    private static IEnumerable<string> Compared(string root) =>
        Directory.EnumerateFiles(Path.Combine(root, "seed-5", "outcomes")).Order(StringComparer.Ordinal).Append(Path.Combine(root, "report.md"));

    [Fact]
    public void AKilledRunResumedEndsWithTheSameReportAsAnUnbrokenOne()
    {
        using var tmp = new TempDir();
        string whole = Path.Combine(tmp.Path, "whole"), broken = Path.Combine(tmp.Path, "broken");
        Run(whole, new Killer(0, 0), resume: false);
        foreach (var f in new[] { "reproduce.json", "progress.json", "report.md", "figures/learning-curves.png", "figures/paths.png",
                     "seed-5/epg/best.phi", "seed-5/rl2/best.rl2", "seed-5/eval-left/curves.csv", "seed-5/eval-right/summary.json" })
            Assert.True(File.Exists(Path.Combine(whole, f)), f);
        Assert.Equal(8, Directory.GetFiles(Path.Combine(whole, "seed-5", "outcomes")).Length); // 2 sides x 4 methods
        string report = File.ReadAllText(Path.Combine(whole, "report.md"));
        Assert.Contains("## Left targets", report);
        Assert.Contains("RL^2, meta-trained on the right, keeps walking right", report);

        // killed in EPG's meta-training (stage 1, after its second epoch), then in PPO's right evaluation (stage 5)
        Assert.Throws<SimulatedKill>(() => Run(broken, new Killer(1, 2), resume: false));
        Assert.False(File.Exists(Path.Combine(broken, "report.md")));
        Assert.Throws<SimulatedKill>(() => Run(broken, new Killer(5, 1), resume: true));
        Assert.False(File.Exists(Path.Combine(broken, "seed-5", "outcomes", "right-ppo.json")));
        Run(broken, new Killer(0, 0), resume: true);
        Assert.Equal(Compared(whole).Select(Path.GetFileName), Compared(broken).Select(Path.GetFileName));
        foreach (var (a, b) in Compared(whole).Zip(Compared(broken)))
            Assert.True(File.ReadAllBytes(a).AsSpan().SequenceEqual(File.ReadAllBytes(b)), $"{Path.GetFileName(a)} differs after the resumes");
        Assert.True(File.ReadAllBytes(Path.Combine(whole, "seed-5/epg/best.phi")).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(broken, "seed-5/epg/best.phi"))));

        // a stage whose output file is gone runs again (here an evaluation and the report), with the same result
        File.Delete(Path.Combine(broken, "seed-5", "outcomes", "left-epg.json"));
        File.Delete(Path.Combine(broken, "report.md"));
        Run(broken, new Killer(0, 0), resume: true);
        foreach (var (a, b) in Compared(whole).Zip(Compared(broken)))
            Assert.True(File.ReadAllBytes(a).AsSpan().SequenceEqual(File.ReadAllBytes(b)), $"{Path.GetFileName(a)} differs after its stage ran again");
    }

    /// <summary>Every scale: at least 16 learners per method, meta-training on the right half, and RL^2's evaluation trial as long as a learner's life (to within one episode).</summary>
    [Theory]
    [InlineData("mini")]
    [InlineData("cpu")]
    [InlineData("gpu")]
    public void EveryScaleGivesEveryMethodTheSameLifeAndLearners(string scale)
    {
        var plan = ReproducePlan.For(scale, 7, 2);
        Assert.True(plan.Learners >= 16);
        Assert.Equal("right", plan.Epg.TrainTargets);
        Assert.Equal("right", plan.Rl2.TrainTargets);
        Assert.Equal(plan.Epg.Env, plan.Rl2.Env);
        Assert.Equal([7UL, 8UL], plan.SeedList);
        var spec = EpgFast.Training.EpgTrainer.EnvSpecFor(plan.Epg);
        int episode = plan.Epg.Env == "point-goal" ? spec.PointGoal!.MaxSteps : spec.Ant!.MaxSteps;
        Assert.Equal(episode, plan.EpisodeSteps);
        int trial = plan.Rl2EvalEpisodes * episode;
        Assert.InRange(trial, plan.Epg.Lifetime - episode + 1, plan.Epg.Lifetime);
        Assert.Equal(7UL, plan.EpgFor(7).Seed);
        Assert.Equal(8UL, plan.Rl2For(8).Seed);
    }

    [Fact]
    public void ANewRunNeedsAnEmptyFolderAndAResumeTheSamePlan()
    {
        using var tmp = new TempDir();
        string root = Path.Combine(tmp.Path, "r");
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "notes.txt"), "mine");
        Assert.Contains("is not empty", Assert.Throws<EpgException>(() => ReproducePipeline.CheckFolder(root, Tiny(), resume: false)).Message);
        Assert.Contains("holds no reproduce run", Assert.Throws<EpgException>(() => ReproducePipeline.CheckFolder(root, Tiny(), resume: true)).Message);
        File.WriteAllText(Path.Combine(root, "reproduce.json"), Tiny().ToJson().ToJsonString());
        ReproducePipeline.CheckFolder(root, Tiny(), resume: true);
        Assert.Contains("another plan", Assert.Throws<EpgException>(() => ReproducePipeline.CheckFolder(root, Tiny() with { Learners = 5 }, resume: true)).Message);
        Assert.Contains("already holds a reproduce run", Assert.Throws<EpgException>(() => ReproducePipeline.CheckFolder(root, Tiny(), resume: false)).Message);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(root, "notes.txt")));
    }
}
