using ScottPlot;

namespace EpgFast.Runs;

/// <summary>plots/fitness.png: population fitness mean and max per epoch (plus any further metrics columns asked for).</summary>
public static class FitnessPlot
{
    /// <summary>
    /// Draws fitness_mean and fitness_max against epoch from <paramref name="metrics"/>, plus the
    /// columns named in <paramref name="extraSeries"/> (e.g. a test-fitness column; NaN cells skipped).
    /// </summary>
    public static void Write(string pngPath, MetricsTable metrics, params string[] extraSeries)
    {
        double[] epoch = metrics.Column("epoch");
        var plot = new Plot();
        AddSeries(plot, epoch, metrics.Column("fitness_mean"), "fitness mean", PlotStyle.Palette(0), markers: false);
        AddSeries(plot, epoch, metrics.Column("fitness_max"), "fitness max", PlotStyle.Palette(1), markers: false);
        for (int s = 0; s < extraSeries.Length; s++)
            if (metrics.Has(extraSeries[s]))
                AddSeries(plot, epoch, metrics.Column(extraSeries[s]), extraSeries[s], PlotStyle.Palette(2 + s), markers: true);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.Title("Outer-loop fitness");
        plot.XLabel("epoch");
        plot.YLabel("fitness (final return)");
        plot.ShowLegend(Alignment.LowerRight);
        PlotStyle.Save(plot, pngPath, 900, 500);
    }

    private static void AddSeries(Plot plot, double[] x, double[] y, string label, Color color, bool markers)
    {
        var xs = new List<double>();
        var ys = new List<double>();
        for (int i = 0; i < x.Length; i++)
        {
            if (!double.IsFinite(y[i]) || !double.IsFinite(x[i])) continue;
            xs.Add(x[i]);
            ys.Add(y[i]);
        }
        if (xs.Count == 0) return;
        var sc = plot.Add.Scatter(xs.ToArray(), ys.ToArray(), color);
        sc.LegendText = label;
        sc.LineWidth = markers ? 0 : 2;
        sc.MarkerSize = markers || xs.Count == 1 ? 6 : 0;
    }
}

/// <summary>Shared look and saving for the run's plots.</summary>
public static class PlotStyle
{
    private static readonly ScottPlot.Palettes.Category10 Category10 = new();

    /// <summary>Color number <paramref name="i"/> of a 10-color categorical palette.</summary>
    public static Color Palette(int i) => Category10.GetColor(i);

    /// <summary>Saves two plots side by side as one PNG of <paramref name="width"/> x <paramref name="height"/> (creating the folder), atomically.</summary>
    public static void SaveSideBySide(Plot left, Plot right, string pngPath, int width, int height)
    {
        int half = width / 2;
        using var surface = SkiaSharp.SKSurface.Create(new SkiaSharp.SKImageInfo(2 * half, height));
        surface.Canvas.Clear(SkiaSharp.SKColors.White);
        foreach (var (plot, x) in new[] { (left, 0), (right, half) })
        {
            using var image = SkiaSharp.SKImage.FromEncodedData(plot.GetImageBytes(half, height, ImageFormat.Png));
            surface.Canvas.DrawImage(image, x, 0);
        }
        using var snapshot = surface.Snapshot();
        using var data = snapshot.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        string? dir = Path.GetDirectoryName(pngPath);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        AtomicFile.WriteAllBytes(pngPath, data.ToArray());
    }

    /// <summary>Saves <paramref name="plot"/> as a PNG (creating the folder), atomically.</summary>
    public static void Save(Plot plot, string pngPath, int width, int height)
    {
        string? dir = Path.GetDirectoryName(pngPath);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        byte[] png = plot.GetImageBytes(width, height, ImageFormat.Png);
        AtomicFile.WriteAllBytes(pngPath, png);
    }
}
