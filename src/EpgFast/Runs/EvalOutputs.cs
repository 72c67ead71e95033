using System.Text.Json.Nodes;
using EpgFast.Backends;
using EpgFast.Training;

namespace EpgFast.Runs;

/// <summary>
/// The files of an eval directory: curves.csv (rows of every eval in the directory, keyed by
/// method label), summary.json (this eval's figures at the top, every label's under "methods"),
/// plots/learning-curves.png (all labels) and plots/paths.png (this eval's paths); with targets also
/// learner-distances-LABEL.csv (at every window end, each learner's final distance of its last finished episode).
/// </summary>
public static class EvalOutputs
{
    private const string CurvesHeader = "method,step,return_mean,return_std,return_min,return_max,distance_mean,distance_std";

    /// <summary>Refuses a folder whose curves.csv or summary.json is not an eval's (before any work).</summary>
    public static void CheckExisting(RunDirectory dir)
    {
        ReadCurves(dir);
        ReadSummary(dir);
    }

    private static string[] ReadCurves(RunDirectory dir)
    {
        string curvesPath = dir.PathOf("curves.csv");
        var old = File.Exists(curvesPath) ? File.ReadAllLines(curvesPath) : [];
        if (old.Length > 0 && (old[0] != CurvesHeader || old.Skip(1).Any(l => l.Split(',') is var f && (f.Length != 8 || !f[1..6].All(IsNumber) || !f[6..].All(x => x.Length == 0 || IsNumber(x))))))
            throw new EpgException($"{curvesPath} is not an eval's curves file (header '{CurvesHeader}'); choose another --out");
        return old;
    }

    private static JsonObject ReadSummary(RunDirectory dir)
    {
        string summaryPath = dir.PathOf("summary.json");
        try
        {
            return File.Exists(summaryPath) ? (JsonNode.Parse(File.ReadAllText(summaryPath))?["methods"]?.AsObject()?.DeepClone().AsObject() ?? []) : new JsonObject();
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
        {
            throw new EpgException($"{summaryPath} is not an eval's summary.json; choose another --out");
        }
    }

    /// <summary>Writes (or merges into) the eval files of <paramref name="dir"/>, which the caller has locked; <paramref name="goal"/>: the task has targets (final distances, paths).</summary>
    public static IReadOnlyList<string> Write(RunDirectory dir, EvalResult r, bool goal = true)
    {
        // curves.csv: method,step,return_mean,return_std,return_min,return_max,distance_mean,distance_std (other labels' rows kept; distances empty without targets)
        string curvesPath = dir.PathOf("curves.csv");
        var old = ReadCurves(dir);
        JsonObject all = ReadSummary(dir);
        var rows = old.Skip(1).Where(l => !l.StartsWith(r.Label + ",", StringComparison.Ordinal)).ToList();
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
        dir.WriteText("curves.csv", CurvesHeader + "\n" + string.Join("\n", rows) + "\n");

        var mine = new JsonObject
        {
            ["final_return_mean"] = Finite(r.FitnessMean),
            ["final_return_std"] = Finite(r.FitnessStd),
        };
        if (goal)
        {
            mine["final_distance_mean"] = Finite(r.DistanceMean);
            mine["final_distance_std"] = Finite(r.DistanceStd);
            if (r.TargetDistances.Length > 0) mine["start_distance_mean"] = Finite(r.TargetDistances.Average(x => (double)x));
            mine["final_distances"] = new JsonArray(r.FinalDistances.Select(d => (JsonNode?)Finite(d)).ToArray());
            mine["start_distances"] = new JsonArray(r.TargetDistances.Select(d => (JsonNode?)Finite(d)).ToArray());
        }
        mine["learners"] = r.Fitness.Length;
        mine["quarantined"] = r.Quarantined;
        all[r.Label] = mine.DeepClone();
        var summary = mine.DeepClone().AsObject();
        summary["label"] = r.Label;
        summary["methods"] = all;
        dir.WriteText("summary.json", summary.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));

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
        string curvesPng = dir.PathOf(Path.Combine("plots", "learning-curves.png"));
        LearningCurvesPlot.Write(curvesPng, byLabel, "Fresh learners: return of the last finished episode (mean ± sd)");
        var written = new List<string> { curvesPath, dir.PathOf("summary.json"), curvesPng };
        if (goal && r.CurveDistances.Count > 0)
        {
            string name = $"learner-distances-{r.Label}.csv";
            var lines = new List<string> { "step," + string.Join(",", Enumerable.Range(0, r.CurveDistances[0].Length).Select(k => $"learner{k}")) };
            for (int i = 0; i < Math.Min(r.CurveSteps.Length, r.CurveDistances.Count); i++)
                lines.Add(FormattableString.Invariant($"{r.CurveSteps[i]},") + string.Join(",", r.CurveDistances[i].Select(d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture))));
            dir.WriteText(name, string.Join("\n", lines) + "\n");
            written.Add(dir.PathOf(name));
        }
        if (r.Paths.Count > 0)
        {
            string pathsPng = dir.PathOf(Path.Combine("plots", "paths.png"));
            PathsPlot.Write(pathsPng, r.Paths, $"{r.Label}: torso paths and targets");
            written.Add(pathsPng);
        }
        return written;
    }

    /// <summary>A JSON number, or null for NaN and infinities (JSON has none).</summary>
    public static double? Finite(double v) => double.IsFinite(v) ? v : null;

    private static bool IsNumber(string s) => double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _);
}
