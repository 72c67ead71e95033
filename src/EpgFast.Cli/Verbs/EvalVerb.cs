using System.Text.Json.Nodes;
using CommandLine;
using EpgFast.Backends;
using EpgFast.Cli.Progress;
using EpgFast.Runs;
using EpgFast.Tasks;
using EpgFast.Training;

namespace EpgFast.Cli.Verbs;

[Verb("eval", HelpText = "Train fresh learners with a frozen loss (or PPO) on new tasks; writes curves.csv, summary.json and plots/ to --out.")]
public sealed class EvalOptions : ConfigOptions, IVerb
{
    [Option("loss", HelpText = "A best.phi file (required for --method epg). Its run's config.json, when beside it, gives the sizes.")]
    public string? Loss { get; set; }

    [Option("policy", HelpText = "A best.rl2 file (required for --method rl2, written by epg train --method rl2).")]
    public string? Policy { get; set; }

    [Option("method", Default = "epg", HelpText = "epg (the frozen loss, alpha = 0), ppo (PPO from scratch) or rl2 (the meta-trained RL^2 policy of --policy, one trial per task).")]
    public string Method { get; set; } = "epg";

    [Option("targets", Default = "left", HelpText = "Where targets are drawn: left, right or full.")]
    public string Targets { get; set; } = "left";

    [Option("learners", Default = 8, HelpText = "Fresh learners (one task each).")]
    public int Learners { get; set; }

    [Option("paths", Default = 4, HelpText = "Torso paths to draw in plots/paths.png.")]
    public int Paths { get; set; }

    [Option("out", Required = true, HelpText = "Output directory (several evals may share it: plots compare them).")]
    public string Out { get; set; } = "";

    public int Run()
    {
        // Everything that can be refused is checked before --out is touched: the arguments, the
        // loss file and the sizes in its header, the whole config, --out, the memory.
        var method = Method.Trim().ToLowerInvariant() switch
        {
            "epg" => EvalMethod.Epg,
            "ppo" => EvalMethod.Ppo,
            "rl2" => EvalMethod.Rl2,
            _ => throw EpgException.BadArguments($"--method must be epg, ppo or rl2 (got '{Method}')"),
        };
        if (method == EvalMethod.Rl2 && Loss is not null) throw EpgException.BadArguments("--method rl2 takes --policy FILE (a best.rl2), not --loss");
        if (method == EvalMethod.Rl2 && Policy is null) throw EpgException.BadArguments("--method rl2 needs --policy FILE (a best.rl2 written by epg train --method rl2)");
        if (method != EvalMethod.Rl2 && Policy is not null) throw EpgException.BadArguments("--policy goes with --method rl2; --method epg takes --loss FILE");
        if (Learners < 1) throw EpgException.BadArguments("--learners must be at least 1");
        if (Paths < 0) throw EpgException.BadArguments($"--paths must not be negative (got {Paths})");
        if (method == EvalMethod.Epg && Loss is null) throw EpgException.BadArguments("--method epg needs --loss FILE (a best.phi)");
        var region = GoalTasks.ParseRegion(Targets);
        RunDirectory.CheckPath(Out);
        if (method == EvalMethod.Rl2) return RunRl2(region);
        PhiFile? loss = Loss is null ? null : PhiFile.Read(Loss);
        var config = EvalConfig(loss);
        var spec = EpgTrainer.EnvSpecFor(config);
        bool goal = EnvFactory.Parse(config.Env) != EnvKind.Ant;
        using var device = OpenDevice();
        MemoryCheck.Ensure(device, spec, config, [new MemoryCheck.Batch("eval", Learners, Learners, method == EvalMethod.Ppo)], MemoryLimitBytes);
        using var evaluator = new Evaluator(device, spec, config, Learners, ppo: method == EvalMethod.Ppo);
        if (loss is not null)
        {
            CheckHeader(loss, evaluator, config);
            if (loss.Phi.Length != evaluator.Layout.PhiSize)
                throw new EpgException($"loss file {Loss} holds {loss.Phi.Length} parameters but this loss network has {evaluator.Layout.PhiSize} (different network settings?)");
        }
        float[] phi = loss?.Phi ?? evaluator.Layout.Initialize(config.Seed);
        // goal tasks: method-targets (epg-left); Ant has no target: method-ant
        string label = goal ? $"{Method.Trim().ToLowerInvariant()}-{Targets.Trim().ToLowerInvariant()}" : $"{Method.Trim().ToLowerInvariant()}-{config.Env}";
        using var outDir = RunDirectory.Lock(Out);
        EvalOutputs.CheckExisting(outDir); // a folder with other files of these names is refused before the work
        Output.Message($"epg eval: {label}, {Learners} fresh learners x {config.Lifetime} steps on {config.Env} ({device.Kind.ToString().ToLowerInvariant()}) -> {Out}");
        var r = evaluator.Run(label, method, phi, region, Evaluator.TestTaskIds(Learners, Evaluator.EvalRound), config.Seed, Evaluator.EvalRound, goal ? Paths : 0, Progress());
        var written = EvalOutputs.Write(outDir, r, goal).ToList();
        // the trained policies, for epg play
        string policies = outDir.PathOf(Path.Combine("policies", label + ".bin"));
        Directory.CreateDirectory(Path.GetDirectoryName(policies)!);
        evaluator.Policies(label).Write(policies);
        written.Add(policies);
        return Report(label, config.Env, r, goal, written);
    }

    /// <summary>
    /// --method rl2: the frozen RL^2 policy of --policy (its run's config, then --config and flags) runs one trial on each
    /// of --learners fresh tasks; the same files as the other methods, minus policies/ (epg play runs MLP policies only).
    /// </summary>
    private int RunRl2(Kernels.Tasks.GoalRegion region)
    {
        var policy = EpgFast.Rl2.Rl2PolicyFile.Read(Policy!);
        var config = BuildConfig(policy.Config) with { Rl2Trials = Learners };
        string label = $"rl2-{Targets.Trim().ToLowerInvariant()}";
        using var device = OpenDevice();
        EpgFast.Rl2.Rl2Trainer.EnsureFits(device, config, MemoryLimitBytes, policy);
        using var outDir = RunDirectory.Lock(Out);
        EvalOutputs.CheckExisting(outDir);
        Output.Message($"epg eval: {label}, {Learners} trials of the RL^2 policy {Policy} on {config.Env} ({device.Kind.ToString().ToLowerInvariant()}) -> {Out}");
        var r = EpgFast.Rl2.Rl2Evaluator.Run(device, policy, config, label, region, Learners, Paths, Progress());
        return Report(label, config.Env, r, goal: true, EvalOutputs.Write(outDir, r, goal: true).ToList());
    }

    /// <summary>The live progress of the lifetime (or trial): a line every tenth of it, at most every 5 s.</summary>
    private Action<int, int, double> Progress()
    {
        var progress = new EpochProgress(1);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        double lastLine = -1;
        int lastTenth = 0;
        return (done, total, mean) =>
        {
            double now = clock.Elapsed.TotalSeconds;
            int tenth = (int)(10L * done / total);
            if (done < total && tenth == lastTenth && now - lastLine < 5) return;
            lastLine = now;
            lastTenth = tenth;
            progress.Steps(done, total, (double)done * Learners / Math.Max(1e-9, now), $"last-episode return mean {mean:F3}");
        };
    }

    /// <summary>Prints the eval's figures (one line, or one JSON document with --json).</summary>
    private int Report(string label, string env, EvalResult r, bool goal, List<string> written)
    {
        var json = new JsonObject
        {
            ["label"] = label,
            ["env"] = env,
            ["learners"] = Learners,
            ["final_return_mean"] = TrainOptions.Finite(r.FitnessMean),
            ["final_return_std"] = TrainOptions.Finite(r.FitnessStd),
        };
        if (goal)
        {
            json["final_distance_mean"] = TrainOptions.Finite(r.DistanceMean);
            json["final_distance_std"] = TrainOptions.Finite(r.DistanceStd);
        }
        json["quarantined"] = r.Quarantined;
        json["learner_steps_per_s"] = r.StepsPerSecond;
        json["files"] = new JsonArray(written.Select(f => (JsonNode)f).ToArray());
        Output.Result(Json, json, () =>
            Console.WriteLine($"{label}: final return {r.FitnessMean:F3} ± {r.FitnessStd:F3}" +
                              (goal ? $", final distance {r.DistanceMean:F3} ± {r.DistanceStd:F3}" : "") +
                              $" ({Learners} learners); wrote {string.Join(", ", written)}"));
        return 0;
    }

    /// <summary>
    /// The eval's config: when --loss sits in a run directory, that run's config.json; else the preset
    /// with the sizes best.phi's header records (env, buffer_rows, progress features, memory). Then
    /// --config and flags, validated as a whole.
    /// </summary>
    private TrainConfig EvalConfig(PhiFile? loss)
    {
        string? beside = Loss is null ? null : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(Loss))!, "config.json");
        if (beside is not null && File.Exists(beside)) return BuildConfig(TrainConfig.Preset("paper").WithFile(beside) with { Source = null });
        var meta = loss?.Metadata;
        if (meta is null) return BuildConfig();
        var c = TrainConfig.Preset(Preset);
        try
        {
            if (meta["env"] is JsonValue env && env.TryGetValue(out string? e)) c = c with { Env = e };
            if (meta["buffer_rows"] is JsonValue n && n.TryGetValue(out int rows)) c = c with { BufferRows = rows };
            if (meta["extra"] is JsonValue x && x.TryGetValue(out int extra)) c = c with { ProgressFeatures = extra > 0 };
            if (meta["memory"] is JsonValue m && m.TryGetValue(out bool memory)) c = c with { Memory = memory };
        }
        catch (InvalidOperationException)
        {
            throw new EpgException($"loss file {Loss} has metadata of the wrong types");
        }
        try
        {
            return BuildConfig(c);
        }
        catch (EpgException e)
        {
            throw new EpgException($"{e.Message} (with the sizes from {Loss}'s header: buffer_rows {c.BufferRows}, {(c.ProgressFeatures ? "progress features" : "no progress features")}; pick a --preset or --config they fit)", e.ExitCode);
        }
    }

    /// <summary>Refuses a loss whose header (sizes it was trained with) disagrees with the network this eval builds.</summary>
    private void CheckHeader(PhiFile loss, Evaluator evaluator, TrainConfig config)
    {
        if (loss.Metadata is not { } meta) return;
        var n = evaluator.Layout.Config;
        void Same(string key, object actual)
        {
            if (meta[key] is not JsonValue v) return;
            string recorded = v.ToJsonString().Trim('"');
            string now = actual is bool b ? (b ? "true" : "false") : Convert.ToString(actual, System.Globalization.CultureInfo.InvariantCulture)!;
            if (recorded != now)
                throw new EpgException($"loss file {Loss} was trained with {key} {recorded} (its header) but this eval's config gives {key} {now}; evaluate it with the sizes it was trained with");
        }
        Same("env", config.Env);
        Same("obs", n.Obs);
        Same("act", n.Act);
        Same("buffer_rows", n.BufferRows);
        Same("extra", n.Extra);
        Same("memory", config.Memory);
    }
}
