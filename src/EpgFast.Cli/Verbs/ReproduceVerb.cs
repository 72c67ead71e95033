using System.Text.Json.Nodes;
using CommandLine;
using EpgFast.Backends;
using EpgFast.Cli.Progress;
using EpgFast.Reproduce;
using EpgFast.Runs;
using EpgFast.Training;

namespace EpgFast.Cli.Verbs;

[Verb("reproduce", HelpText = "The seed's experiment in one command: meta-train on right targets, train fresh learners with every method on right and left targets, write report.md and figures/.")]
public sealed class ReproduceOptions : ComputeOptions, IVerb
{
    [Option("scale", Default = "mini", HelpText = "mini (point-goal, minutes on 2 cores), cpu (goal-ant on the kernel simulator, under 2 hours on 2 cores) or gpu (the gpu preset's sizes).")]
    public string Scale { get; set; } = "mini";

    [Option("out", Required = true, HelpText = "Output folder (report.md, figures/, one folder per seed).")]
    public string Out { get; set; } = "";

    [Option("seed", Default = 1UL, HelpText = "The first seed.")]
    public ulong Seed { get; set; }

    [Option("seeds", Default = 1, HelpText = "Independent runs (seeds seed .. seed + seeds - 1).")]
    public int Seeds { get; set; }

    [Option("resume", HelpText = "Continue the run in --out at its first unfinished stage.")]
    public bool Resume { get; set; }

    [Option("memory-limit-mb", HelpText = "Treat the device as having this much memory, in MiB (default: its own memory); a plan that needs more is refused up front (exit 3).")]
    public double? MemoryLimitMb { get; set; }

    public int Run()
    {
        // everything that can be refused is checked before --out is touched: the plan, the folder, the memory
        var plan = ReproducePlan.For(Scale, Seed, Seeds);
        long? limit = MemoryLimitMb switch
        {
            null => null,
            > 0 and < 1e12 => (long)(MemoryLimitMb.Value * 1048576),
            _ => throw EpgException.BadArguments($"--memory-limit-mb must be positive (got {MemoryLimitMb})"),
        };
        RunDirectory.CheckPath(Out);
        ReproducePipeline.CheckFolder(Out, plan, Resume);
        using var device = OpenDevice();
        var spec = EpgTrainer.EnvSpecFor(plan.Epg);
        MemoryCheck.Ensure(device, spec, plan.Epg, EpgTrainer.MemoryBatches(plan.Epg), limit);
        MemoryCheck.Ensure(device, spec, plan.Epg, [new MemoryCheck.Batch("evaluation", plan.Learners, plan.Learners, true)], limit);
        EpgFast.Rl2.Rl2Trainer.EnsureFits(device, plan.Rl2, limit);
        EpgFast.Rl2.Rl2Trainer.EnsureFits(device, plan.Rl2EvalFor(plan.Seed), limit);
        using var dir = RunDirectory.Lock(Out);
        var progress = new StageProgress();
        Output.Message($"epg reproduce: scale {plan.Scale}, {plan.Epg.Env} on {plan.Epg.Engine} engine, {device.Kind.ToString().ToLowerInvariant()} backend ({device.Name}), seeds {string.Join(",", plan.SeedList)} -> {Out}");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        new ReproducePipeline(plan, dir, device, progress).Run(Resume);
        var json = new JsonObject
        {
            ["out"] = Path.GetFullPath(Out),
            ["report"] = dir.ReportPath,
            ["seconds"] = clock.Elapsed.TotalSeconds,
        };
        Output.Result(Json, json, () => Console.WriteLine($"done in {EpochProgress.Duration(clock.Elapsed)}: {dir.ReportPath}"));
        return 0;
    }

    /// <summary>Stage lines, and inside a stage its epochs or steps with elapsed time and ETA, on stderr (a line per tenth of the stage, or every 5 s).</summary>
    private sealed class StageProgress : IReproduceProgress
    {
        private readonly System.Diagnostics.Stopwatch _stageClock = new();
        private readonly System.Diagnostics.Stopwatch _sinceLine = new();
        private string _stage = "";
        private long _lastTenth = -1;

        public void Stage(int index, int count, string name, bool skipped)
        {
            _stage = $"[{index}/{count}]";
            _lastTenth = -1;
            _stageClock.Restart();
            _sinceLine.Restart();
            Output.Message($"reproduce {_stage} {name}{(skipped ? ": done before, skipped" : "")}");
        }

        public void Within(long done, long total, string unit, string detail)
        {
            long tenth = total > 0 ? 10 * done / total : 0;
            if (done < total && tenth == _lastTenth && _sinceLine.Elapsed.TotalSeconds < 5) return;
            _lastTenth = tenth;
            _sinceLine.Restart();
            Output.Message($"reproduce {_stage} {unit} {done}/{total}  {EpochProgress.Times(_stageClock.Elapsed, done, total - done)}  {detail}");
        }

        public void Message(string text) => Output.Message($"reproduce {_stage} {text}");
    }
}
