using System.Text.Json.Nodes;
using CommandLine;
using EpgFast.Backends;
using EpgFast.Cli.Progress;
using EpgFast.Runs;
using EpgFast.Training;

namespace EpgFast.Cli.Verbs;

/// <summary>Options that pick a training configuration: preset, then --config FILE, then flags.</summary>
public abstract class ConfigOptions : ComputeOptions
{
    [Option("preset", Default = "quick", HelpText = "ci (seconds on a CPU), quick (minutes on a 2-core CPU), gpu (thousands of learners), paper (the released code's values).")]
    public string Preset { get; set; } = "quick";

    [Option("config", HelpText = "JSON file whose fields (snake_case, as in config.json) override the preset.")]
    public string? ConfigFile { get; set; }

    [Option("env", HelpText = "Task: goal-ant, ant or point-goal (default: the preset's).")]
    public string? Env { get; set; }

    [Option("engine", HelpText = "Physics engine for Ant tasks: kernel or mujoco (default: the preset's).")]
    public string? Engine { get; set; }

    [Option("seed", HelpText = "Run seed (default: the preset's).")]
    public ulong? Seed { get; set; }

    [Option("epochs", HelpText = "Override the number of ES epochs.")]
    public int? Epochs { get; set; }

    [Option("memory-limit-mb", HelpText = "Treat the device as having this much memory, in MiB (default: its own memory); a run that needs more is refused up front (exit 3).")]
    public double? MemoryLimitMb { get; set; }

    /// <summary>--memory-limit-mb in bytes (null: the device's own memory).</summary>
    public long? MemoryLimitBytes => MemoryLimitMb switch
    {
        null => null,
        > 0 and < 1e12 => (long)(MemoryLimitMb.Value * 1048576),
        _ => throw EpgException.BadArguments($"--memory-limit-mb must be positive (got {MemoryLimitMb})"),
    };

    /// <summary>
    /// The effective configuration (preset or <paramref name="baseConfig"/>, then --config FILE, then
    /// flags), validated as a whole: the one check every config-taking verb runs before it touches
    /// a file or allocates.
    /// </summary>
    public TrainConfig BuildConfig(TrainConfig? baseConfig = null)
    {
        if (Threads < 0) throw EpgException.BadArguments($"--threads must not be negative (got {Threads})");
        var c = baseConfig ?? TrainConfig.Preset(Preset);
        if (ConfigFile is not null) c = c.WithFile(ConfigFile);
        if (Env is not null) c = c.SetByFlag("env") with { Env = Env };
        if (Engine is not null) c = c.SetByFlag("engine") with { Engine = Engine };
        if (Seed is not null) c = c.SetByFlag("seed") with { Seed = Seed.Value };
        if (Epochs is not null) c = c.SetByFlag("epochs") with { Epochs = Epochs.Value };
        if (Threads > 0) c = c.SetByFlag("threads") with { Threads = Threads };
        _ = MemoryLimitBytes;
        return c.Validate();
    }
}

[Verb("train", HelpText = "Evolve a loss with EPG: writes config.json, metrics.csv, checkpoints/, best.phi, plots/ and report.md to --out.")]
public sealed class TrainOptions : ConfigOptions, IVerb
{
    [Option("out", Required = true, HelpText = "Run directory (e.g. runs/NAME).")]
    public string Out { get; set; } = "";

    [Option("resume", HelpText = "Continue the run in --out from its last good checkpoint.")]
    public bool Resume { get; set; }

    [Option("report-tasks", Default = 8, HelpText = "Fresh tasks per method in the final report (0: no report).")]
    public int ReportTasks { get; set; }

    [Option("method", Default = "epg", HelpText = "epg (evolve a loss) or rl2 (meta-train the RL^2 baseline, a GRU policy, with PPO over trials; writes best.rl2).")]
    public string Method { get; set; } = "epg";

    [Option("mpi", HelpText = "Use Open MPI even when not launched by mpirun/srun (which turn it on by themselves): under `mpirun -np R` the population is split over the R processes; rank 0 alone writes --out.")]
    public bool Mpi { get; set; }

    public int Run()
    {
        // Under mpirun every rank runs this verb; rank 0 alone touches --out and prints. A rank that fails
        // exits without MPI_Finalize, so mpirun ends the whole job (the others do not wait for it).
        using var exchange = EpgFast.Distributed.MpiExchange.Open(Mpi);
        int code = Run(exchange);
        exchange.Finish();
        return code;
    }

    private int Run(EpgFast.Distributed.IFitnessExchange exchange)
    {
        // Everything that can be refused is checked before the run directory is touched:
        // the whole config, --out, the device, the memory the run and its report need.
        bool root = exchange.Rank == 0;
        bool rl2 = Method.Trim().ToLowerInvariant() switch
        {
            "epg" => false,
            "rl2" => true,
            _ => throw EpgException.BadArguments($"--method must be epg or rl2 (got '{Method}')"),
        };
        if (rl2) return RunRl2(exchange);
        var config = BuildConfig();
        if (ReportTasks < 0) throw EpgException.BadArguments($"--report-tasks must not be negative (got {ReportTasks})");
        if (exchange.Size > config.Population)
            throw EpgException.BadArguments($"mpirun -np {exchange.Size}: the population has only {config.Population} members; use at most that many processes");
        if (root) RunDirectory.CheckPath(Out);
        using var device = OpenDevice(exchange.Size > 1 ? EpgFast.Distributed.MpiExchange.LocalRank : 0);
        int share = EpgFast.Distributed.Distribution.Share(config.Population, exchange.Size, exchange.Rank).Count * config.LearnersPerMember;
        MemoryCheck.Ensure(device, EpgTrainer.EnvSpecFor(config), config, EpgTrainer.MemoryBatches(config, share), MemoryLimitBytes);
        if (ReportTasks > 0 && root)
            MemoryCheck.Ensure(device, EpgTrainer.EnvSpecFor(config), config, [new MemoryCheck.Batch("report", ReportTasks, ReportTasks, true)], MemoryLimitBytes);
        using var dir = root ? RunDirectory.Lock(Out) : null;
        var progress = new EpochProgress(config.Epochs, 0);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Action<string> message = root ? Output.Message : _ => { };
        string ranks = exchange.Size > 1 ? $" x {exchange.Size} MPI ranks" : "";
        var final = EpgTrainer.Train(config, dir, Resume, device,
            r =>
            {
                if (root)
                    progress.Epoch(r.Epoch, r.Info.FitnessMean, r.Info.FitnessMax, r.StepsPerSecond,
                        $"alpha {r.Alpha:F2}, updates {r.UpdateShare:P0} of time" + (r.Quarantined > 0 ? $", quarantined {r.Quarantined}" : "") + (r.TestFitness is { } t ? $", test {t:F3}" : ""));
            },
            message, MemoryLimitBytes, memoryChecked: true,
            onStarted: () => message($"epg train: {config.Env} on {config.Engine} engine, {device.Kind.ToString().ToLowerInvariant()} backend ({device.Name}){ranks}; " +
                                     $"{config.Epochs} epochs x {config.Learners} learners x {config.Lifetime} steps -> {Out}"),
            exchange: exchange);
        double trainSeconds = clock.Elapsed.TotalSeconds;
        if (!root) return 0;
        IReadOnlyList<EvalResult> report = [];
        if (ReportTasks > 0) report = EpgTrainer.Report(config, dir!, device, ReportTasks, Output.Message);
        var json = new JsonObject
        {
            ["out"] = Path.GetFullPath(Out),
            ["epochs"] = final.Epoch,
            ["best_fitness"] = double.IsFinite(final.BestFitness) ? final.BestFitness : null,
            ["best_epoch"] = final.BestEpoch,
            ["train_seconds"] = trainSeconds,
            ["total_seconds"] = clock.Elapsed.TotalSeconds,
        };
        if (exchange.Size > 1) json["ranks"] = exchange.Size;
        var methods = new JsonObject();
        foreach (var r in report)
            methods[r.Label] = new JsonObject { ["fitness_mean"] = Finite(r.FitnessMean), ["fitness_std"] = Finite(r.FitnessStd), ["final_distance_mean"] = Finite(r.DistanceMean) };
        json["report"] = methods;
        Output.Result(Json, json, () =>
        {
            Console.WriteLine($"done: {final.Epoch} epochs in {trainSeconds:F0} s; best test fitness {final.BestFitness:F4} (epoch {final.BestEpoch}); run in {Out}");
            foreach (var r in report) Console.WriteLine($"  {r.Label,-14} fitness {r.FitnessMean,9:F3} ± {r.FitnessStd:F3}   final distance {r.DistanceMean:F3}");
        });
        return 0;
    }

    /// <summary>
    /// --method rl2 (src/EpgFast/Rl2/): config from the rl2 preset, then --config and flags; the same run directory,
    /// metrics, checkpoints, --resume and live progress as EPG's runs, best.rl2 instead of best.phi, no report.
    /// </summary>
    private int RunRl2(EpgFast.Distributed.IFitnessExchange exchange)
    {
        if (exchange.Size > 1) throw EpgException.BadArguments("--method rl2 runs in one process (not under mpirun -np > 1)");
        var config = BuildConfig(TrainConfig.Rl2Preset(Preset));
        RunDirectory.CheckPath(Out);
        using var device = OpenDevice();
        EpgFast.Rl2.Rl2Trainer.EnsureFits(device, config, MemoryLimitBytes);
        using var dir = RunDirectory.Lock(Out);
        var progress = new EpochProgress(config.Epochs, 0);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var final = EpgFast.Rl2.Rl2Trainer.Train(config, dir, Resume, device,
            r => progress.Epoch(r.Epoch, r.FinalReturn, r.FinalReturnMax, r.StepsPerSecond,
                $"first episode {r.FirstReturn:F3}, final distance {r.FinalDistance:F3}, loss {r.Loss:F4}"),
            Output.Message);
        double trainSeconds = clock.Elapsed.TotalSeconds;
        var json = new JsonObject
        {
            ["out"] = Path.GetFullPath(Out),
            ["method"] = "rl2",
            ["epochs"] = final.Epoch,
            ["best_fitness"] = Finite(final.BestFitness),
            ["best_epoch"] = final.BestEpoch,
            ["train_seconds"] = trainSeconds,
        };
        Output.Result(Json, json, () =>
            Console.WriteLine($"done: {final.Epoch} epochs in {trainSeconds:F0} s; best mean final-episode return {final.BestFitness:F4} (epoch {final.BestEpoch}); policy in {Path.Combine(Out, EpgFast.Rl2.Rl2Trainer.BestFileName)}"));
        return 0;
    }

    internal static double? Finite(double v) => double.IsFinite(v) ? v : null;
}
