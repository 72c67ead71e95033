using ScottPlot;

namespace EpgFast.Runs;

/// <summary>How a curve's spread band is computed from several learners.</summary>
public enum SpreadBand
{
    /// <summary>mean +- one standard deviation (population, over learners).</summary>
    StdDev,

    /// <summary>mean +- one standard error of the mean.</summary>
    StdError,

    /// <summary>25th to 75th percentile (the curve itself stays the mean).</summary>
    Quartiles,
}

/// <summary>One method's learning curve: return against step of life with a spread band.</summary>
/// <param name="Label">Legend text (e.g. "EPG (evolved loss)", "PPO").</param>
/// <param name="Steps">x: step of life. (S)</param>
/// <param name="Mean">Curve. (S)</param>
/// <param name="Lower">Band's lower edge. (S)</param>
/// <param name="Upper">Band's upper edge. (S)</param>
public sealed record CurveSeries(string Label, double[] Steps, double[] Mean, double[] Lower, double[] Upper)
{
    /// <summary>
    /// The mean curve and band over learners: <paramref name="returns"/>[learner][s] is learner's
    /// return at <paramref name="steps"/>[s]; non-finite values are left out of that step's statistics.
    /// </summary>
    public static CurveSeries FromLearners(string label, double[] steps, IReadOnlyList<double[]> returns, SpreadBand band = SpreadBand.StdDev)
    {
        int s = steps.Length;
        var mean = new double[s];
        var lo = new double[s];
        var hi = new double[s];
        for (int t = 0; t < s; t++)
        {
            double[] v = returns.Where(r => t < r.Length && double.IsFinite(r[t])).Select(r => r[t]).ToArray();
            if (v.Length == 0)
            {
                mean[t] = lo[t] = hi[t] = double.NaN;
                continue;
            }
            double m = v.Average();
            double sd = Math.Sqrt(v.Sum(x => (x - m) * (x - m)) / v.Length);
            mean[t] = m;
            switch (band)
            {
                case SpreadBand.StdDev:
                    lo[t] = m - sd; hi[t] = m + sd;
                    break;
                case SpreadBand.StdError:
                    lo[t] = m - sd / Math.Sqrt(v.Length); hi[t] = m + sd / Math.Sqrt(v.Length);
                    break;
                default:
                    Array.Sort(v);
                    lo[t] = Quantile(v, 0.25); hi[t] = Quantile(v, 0.75);
                    break;
            }
        }
        return new CurveSeries(label, steps, mean, lo, hi);
    }

    /// <summary>Linear-interpolated quantile of sorted values.</summary>
    public static double Quantile(double[] sorted, double q)
    {
        if (sorted.Length == 1) return sorted[0];
        double pos = q * (sorted.Length - 1);
        int i = (int)Math.Floor(pos);
        if (i >= sorted.Length - 1) return sorted[^1];
        return sorted[i] + (pos - i) * (sorted[i + 1] - sorted[i]);
    }
}

/// <summary>plots/learning-curves.png: return against step of life for several methods, each with a spread band.</summary>
public static class LearningCurvesPlot
{
    public static void Write(string pngPath, IReadOnlyList<CurveSeries> series, string title = "Learning curves",
        string xLabel = "step of life", string yLabel = "return")
        => PlotStyle.Save(Build(series, title, xLabel, yLabel), pngPath, 900, 550);

    /// <summary>The plot <see cref="Write"/> saves: each series' mean and band, one color each.</summary>
    public static Plot Build(IReadOnlyList<CurveSeries> series, string title = "Learning curves", string xLabel = "step of life", string yLabel = "return")
    {
        var plot = new Plot();
        for (int i = 0; i < series.Count; i++)
        {
            var s = series[i];
            Color color = PlotStyle.Palette(i);
            var idx = Enumerable.Range(0, s.Steps.Length).Where(t => double.IsFinite(s.Mean[t]) && double.IsFinite(s.Steps[t])).ToArray();
            if (idx.Length == 0) continue;
            double[] x = idx.Select(t => s.Steps[t]).ToArray();
            var band = plot.Add.FillY(x, idx.Select(t => s.Lower[t]).ToArray(), idx.Select(t => s.Upper[t]).ToArray());
            band.FillColor = color.WithAlpha(0.2);
            band.LineColor = Colors.Transparent;
            var line = plot.Add.Scatter(x, idx.Select(t => s.Mean[t]).ToArray(), color);
            line.LegendText = s.Label;
            line.LineWidth = 2;
            line.MarkerSize = idx.Length == 1 ? 6 : 0;
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.LowerRight);
        return plot;
    }
}
