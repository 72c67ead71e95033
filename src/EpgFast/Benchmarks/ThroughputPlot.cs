using System.Text.Json.Nodes;
using PlotStyle = EpgFast.Runs.PlotStyle;
using ScottPlot;

namespace EpgFast.Benchmarks;

/// <summary>throughput.png (steps/s against learners) and, with the networks suite, gflops.png; both log-log.</summary>
public static class ThroughputPlot
{
    /// <summary>(suite, field, legend) of the series in throughput.png.</summary>
    private static readonly (string Suite, string Field, string Label)[] Rates =
    [
        ("physics", "physics_steps_per_s", "physics steps/s"),
        ("physics", "env_steps_per_s", "env steps/s"),
        ("learner", "learner_steps_per_s", "learner steps/s"),
        ("learner", "updates_per_s", "updates/s"),
    ];

    private static readonly string[] Pieces = ["policy_forward", "policy_forward_backward", "policy_update", "loss_forward_backward", "adam_step"];

    /// <summary>Writes the plots for <paramref name="report"/> into <paramref name="dir"/>; returns the files written.</summary>
    public static IReadOnlyList<string> Write(string dir, BenchReport report)
    {
        var files = new List<string>();
        string title = $"epg bench on {report.Device}";
        var series = Rates.Select(r => (r.Label, Points: Collect(report, b => b[r.Suite]?[r.Field]))).ToList();
        if (series.Any(s => s.Points.Count > 0) || report.Batches.Count == 0)
        {
            string path = Path.Combine(dir, "throughput.png");
            Draw(path, title, "throughput (per second)", series);
            files.Add(path);
        }
        var gflops = Pieces.Select(p => (Label: p.Replace('_', ' '), Points: Collect(report, b => b["networks"]?[p]?["gflops_per_s"]))).ToList();
        if (gflops.Any(s => s.Points.Count > 0))
        {
            string path = Path.Combine(dir, "gflops.png");
            Draw(path, title + ": networks", "GFLOP/s", gflops);
            files.Add(path);
        }
        return files;
    }

    private static List<(double X, double Y)> Collect(BenchReport report, Func<JsonObject, JsonNode?> field)
    {
        var points = new List<(double, double)>();
        foreach (var b in report.Batches)
        {
            var v = field(b);
            double y = v is null ? double.NaN : (double)v;
            if (double.IsFinite(y) && y > 0) points.Add(((int)b["learners"]!, y));
        }
        return points;
    }

    private static void Draw(string path, string title, string yLabel, List<(string Label, List<(double X, double Y)> Points)> series)
    {
        var plot = new Plot();
        for (int i = 0; i < series.Count; i++)
        {
            var (label, points) = series[i];
            if (points.Count == 0) continue;
            var sc = plot.Add.Scatter(points.Select(p => Math.Log2(p.X)).ToArray(), points.Select(p => Math.Log10(p.Y)).ToArray(), PlotStyle.Palette(i));
            sc.LegendText = label;
            sc.LineWidth = 2;
            sc.MarkerSize = 7;
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            IntegerTicksOnly = true,
            LabelFormatter = x => Math.Pow(2, x).ToString("N0"),
        };
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            IntegerTicksOnly = true,
            LabelFormatter = y => Math.Pow(10, y) >= 1 ? Math.Pow(10, y).ToString("N0") : Math.Pow(10, y).ToString("G3"),
        };
        plot.Title(title);
        plot.XLabel("learners (batch size, log scale)");
        plot.YLabel(yLabel + ", log scale");
        plot.ShowLegend(Alignment.LowerRight);
        PlotStyle.Save(plot, path, 900, 550);
    }
}
