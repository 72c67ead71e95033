using System.Text.Json.Nodes;
using CommandLine;
using EpgFast.Backends;
using EpgFast.Runs;
using EpgFast.Tasks;
using EpgFast.Training;

namespace EpgFast.Cli.Verbs;

[Verb("eval", HelpText = "Train fresh learners with a frozen loss (or PPO) on new tasks; writes curves.csv, summary.json and plots/ to --out.")]
public sealed class EvalOptions : ConfigOptions, IVerb
{
    [Option("loss", HelpText = "A best.phi file (required for --method epg). Its run's config.json, when beside it, gives the sizes.")]
    public string? Loss { get; set; }

    [Option("method", Default = "epg", HelpText = "epg (the frozen loss, alpha = 0) or ppo (PPO from scratch).")]
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
        var method = Method.Trim().ToLowerInvariant() switch
        {
            "epg" => EvalMethod.Epg,
            "ppo" => EvalMethod.Ppo,
            _ => throw new EpgException($"--method must be epg or ppo (got '{Method}')", 2),
        };
        if (Learners < 1) throw new EpgException("--learners must be at least 1", 2);
        if (method == EvalMethod.Epg && Loss is null) throw new EpgException("--method epg needs --loss FILE (a best.phi)", 2);
        var region = GoalTasks.ParseRegion(Targets);
        TrainConfig? runConfig = null;
        string? beside = Loss is null ? null : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(Loss))!, "config.json");
        if (beside is not null && File.Exists(beside)) runConfig = TrainConfig.Preset("paper").WithFile(beside);
        var config = BuildConfig(runConfig);
        using var device = OpenDevice();
        using var evaluator = new Evaluator(device, EpgTrainer.EnvSpecFor(config), config, Learners, ppo: method == EvalMethod.Ppo);
        float[] phi = Loss is null ? evaluator.Layout.Initialize(config.Seed) : PhiFile.Read(Loss, evaluator.Layout.PhiSize).Phi;
        string label = $"{Method.ToLowerInvariant()}-{Targets.ToLowerInvariant()}";
        Output.Message($"epg eval: {label}, {Learners} fresh learners x {config.Lifetime} steps on {config.Env} ({device.Kind.ToString().ToLowerInvariant()})");
        var r = evaluator.Run(label, method, phi, region, Evaluator.TestTaskIds(Learners, 1 << 15), config.Seed, 1u << 15, Paths);
        var written = EvalOutputs.Write(Out, r);
        var json = new JsonObject
        {
            ["label"] = label,
            ["learners"] = Learners,
            ["final_return_mean"] = TrainOptions.Finite(r.FitnessMean),
            ["final_return_std"] = TrainOptions.Finite(r.FitnessStd),
            ["final_distance_mean"] = TrainOptions.Finite(r.DistanceMean),
            ["final_distance_std"] = TrainOptions.Finite(r.DistanceStd),
            ["quarantined"] = r.Quarantined,
            ["learner_steps_per_s"] = r.StepsPerSecond,
            ["files"] = new JsonArray(written.Select(f => (JsonNode)f).ToArray()),
        };
        Output.Result(Json, json, () =>
            Console.WriteLine($"{label}: final return {r.FitnessMean:F3} ± {r.FitnessStd:F3}, final distance {r.DistanceMean:F3} ± {r.DistanceStd:F3} ({Learners} learners); wrote {string.Join(", ", written)}"));
        return 0;
    }
}

/// <summary>
/// The files of an eval directory: curves.csv (rows of every eval in the directory, keyed by
/// method label), summary.json (this eval's figures at the top, every label's under "methods"),
/// plots/learning-curves.png (all labels) and plots/paths.png (this eval's paths).
/// </summary>
public static class EvalOutputs
{
    public static IReadOnlyList<string> Write(string dir, EvalResult r)
    {
        Directory.CreateDirectory(Path.Combine(dir, "plots"));
        // curves.csv: method,step,return_mean,return_std,return_min,return_max,distance_mean,distance_std (other labels' rows kept)
        string curvesPath = Path.Combine(dir, "curves.csv");
        var rows = File.Exists(curvesPath) ? File.ReadAllLines(curvesPath).Skip(1).Where(l => !l.StartsWith(r.Label + ",", StringComparison.Ordinal)).ToList() : [];
        for (int i = 0; i < r.CurveSteps.Length; i++)
        {
            var v = r.CurveReturns[i];
            double m = v.Average(), sd = EvalResult.Std(v);
            string dist = ",";
            if (i < r.CurveDistances.Count)
            {
                var d = r.CurveDistances[i];
                dist = FormattableString.Invariant($"{d.Average():R},{EvalResult.Std(d):R}");
            }
            rows.Add(FormattableString.Invariant($"{r.Label},{r.CurveSteps[i]},{m:R},{sd:R},{v.Min():R},{v.Max():R},{dist}"));
        }
        AtomicFile.WriteAllText(curvesPath, "method,step,return_mean,return_std,return_min,return_max,distance_mean,distance_std\n" + string.Join("\n", rows) + "\n");

        string summaryPath = Path.Combine(dir, "summary.json");
        var all = File.Exists(summaryPath) ? (JsonNode.Parse(File.ReadAllText(summaryPath))?["methods"]?.AsObject()?.DeepClone().AsObject() ?? []) : new JsonObject();
        var mine = new JsonObject
        {
            ["final_return_mean"] = TrainOptions.Finite(r.FitnessMean),
            ["final_return_std"] = TrainOptions.Finite(r.FitnessStd),
            ["final_distance_mean"] = TrainOptions.Finite(r.DistanceMean),
            ["final_distance_std"] = TrainOptions.Finite(r.DistanceStd),
            ["start_distance_mean"] = r.TargetDistances.Length > 0 ? TrainOptions.Finite(r.TargetDistances.Average(x => (double)x)) : null,
            ["learners"] = r.Fitness.Length,
            ["quarantined"] = r.Quarantined,
        };
        all[r.Label] = mine.DeepClone();
        var summary = mine.DeepClone().AsObject();
        summary["label"] = r.Label;
        summary["methods"] = all;
        AtomicFile.WriteAllText(summaryPath, summary.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));

        // learning curves of every label in the directory
        var byLabel = File.ReadAllLines(curvesPath).Skip(1).Select(l => l.Split(','))
            .GroupBy(f => f[0]).Select(g =>
            {
                var pts = g.Select(f => (Step: double.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture),
                    Mean: double.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture),
                    Sd: double.Parse(f[3], System.Globalization.CultureInfo.InvariantCulture))).OrderBy(p => p.Step).ToArray();
                return new CurveSeries(g.Key, pts.Select(p => p.Step).ToArray(), pts.Select(p => p.Mean).ToArray(),
                    pts.Select(p => p.Mean - p.Sd).ToArray(), pts.Select(p => p.Mean + p.Sd).ToArray());
            }).ToList();
        string curvesPng = Path.Combine(dir, "plots", "learning-curves.png");
        LearningCurvesPlot.Write(curvesPng, byLabel, "Fresh learners: return of the last finished episode (mean ± sd)");
        var written = new List<string> { curvesPath, summaryPath, curvesPng };
        if (r.Paths.Count > 0)
        {
            string pathsPng = Path.Combine(dir, "plots", "paths.png");
            PathsPlot.Write(pathsPng, r.Paths, $"{r.Label}: torso paths and targets");
            written.Add(pathsPng);
        }
        return written;
    }
}
