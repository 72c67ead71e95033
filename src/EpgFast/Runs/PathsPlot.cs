using ScottPlot;

namespace EpgFast.Runs;

/// <summary>One agent's torso path in the x-y plane and the target it was after.</summary>
/// <param name="X">Torso x per recorded step. (T)</param>
/// <param name="Y">Torso y per recorded step. (T)</param>
/// <param name="TargetX">Target x.</param>
/// <param name="TargetY">Target y.</param>
/// <param name="Group">Legend group (e.g. the method); paths of a group share a color.</param>
public sealed record TorsoPath(double[] X, double[] Y, double TargetX, double TargetY, string Group);

/// <summary>plots/paths.png: torso paths seen from above, a dot at each start, a cross at each target.</summary>
public static class PathsPlot
{
    public static void Write(string pngPath, IReadOnlyList<TorsoPath> paths, string title = "Torso paths (from above)")
        => PlotStyle.Save(Build(paths, title), pngPath, 800, 800);

    /// <summary>The plot <see cref="Write"/> saves; <paramref name="groups"/> fixes the groups' colors (default: their order in <paramref name="paths"/>).</summary>
    public static Plot Build(IReadOnlyList<TorsoPath> paths, string title = "Torso paths (from above)", IReadOnlyList<string>? groups = null)
    {
        var plot = new Plot();
        var order = (groups ?? paths.Select(p => p.Group).Distinct()).ToList();
        var labelled = new HashSet<string>();
        foreach (var p in paths)
        {
            Color color = PlotStyle.Palette(order.IndexOf(p.Group));
            var idx = Enumerable.Range(0, Math.Min(p.X.Length, p.Y.Length)).Where(t => double.IsFinite(p.X[t]) && double.IsFinite(p.Y[t])).ToArray();
            if (idx.Length > 0)
            {
                var line = plot.Add.Scatter(idx.Select(t => p.X[t]).ToArray(), idx.Select(t => p.Y[t]).ToArray(), color);
                line.LineWidth = 1.5f;
                line.MarkerSize = 0;
                if (labelled.Add(p.Group)) line.LegendText = p.Group;
                var start = plot.Add.Marker(p.X[idx[0]], p.Y[idx[0]], MarkerShape.FilledCircle, 6, color);
                start.LegendText = "";
            }
            var target = plot.Add.Marker(p.TargetX, p.TargetY, MarkerShape.Cross, 14, color);
            target.LineWidth = 3;
        }
        plot.Title(title);
        plot.XLabel("x (m)");
        plot.YLabel("y (m)");
        plot.Axes.SquareUnits();
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }
}
