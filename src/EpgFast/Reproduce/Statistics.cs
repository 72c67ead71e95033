namespace EpgFast.Reproduce;

/// <summary>A mean with the half-width of its two-sided 95% confidence interval (Student's t), over N values.</summary>
public readonly record struct Estimate(double Mean, double HalfWidth, int N)
{
    public double Lower => Mean - HalfWidth;
    public double Upper => Mean + HalfWidth;

    /// <summary>"1.234 ± 0.056" (the interval's half-width; "n/a" without finite values).</summary>
    public string Format(string format = "F3")
        => N == 0 || !double.IsFinite(Mean) ? "n/a" : double.IsFinite(HalfWidth) ? $"{Mean.ToString(format)} ± {HalfWidth.ToString(format)}" : $"{Mean.ToString(format)} (n = 1)";
}

/// <summary>What a confidence interval says of "the quantity is above zero".</summary>
public enum Verdict
{
    /// <summary>The whole interval lies above zero.</summary>
    Held,
    /// <summary>The whole interval lies below zero.</summary>
    NotHeld,
    /// <summary>The interval contains zero (or there are too few values).</summary>
    Inconclusive,
}

/// <summary>Means and 95% confidence intervals: one sample (mean) and two independent samples (Welch's difference of means).</summary>
public static class Statistics
{
    /// <summary>The mean of the finite values and its 95% t interval (infinite half-width for one value).</summary>
    public static Estimate Mean(IEnumerable<double> values)
    {
        var v = values.Where(double.IsFinite).ToArray();
        if (v.Length == 0) return new Estimate(double.NaN, double.NaN, 0);
        double m = v.Average();
        if (v.Length == 1) return new Estimate(m, double.PositiveInfinity, 1);
        double var = v.Sum(x => (x - m) * (x - m)) / (v.Length - 1);
        return new Estimate(m, TCritical95(v.Length - 1) * Math.Sqrt(var / v.Length), v.Length);
    }

    /// <summary>mean(a) - mean(b) with Welch's 95% interval (unequal variances, Welch-Satterthwaite degrees of freedom).</summary>
    public static Estimate Difference(IEnumerable<double> a, IEnumerable<double> b)
    {
        var x = a.Where(double.IsFinite).ToArray();
        var y = b.Where(double.IsFinite).ToArray();
        if (x.Length < 2 || y.Length < 2)
            return new Estimate(x.DefaultIfEmpty(double.NaN).Average() - y.DefaultIfEmpty(double.NaN).Average(), double.PositiveInfinity, Math.Min(x.Length, y.Length));
        double mx = x.Average(), my = y.Average();
        double vx = x.Sum(t => (t - mx) * (t - mx)) / (x.Length - 1) / x.Length;
        double vy = y.Sum(t => (t - my) * (t - my)) / (y.Length - 1) / y.Length;
        double se = Math.Sqrt(vx + vy);
        if (se == 0) return new Estimate(mx - my, 0, Math.Min(x.Length, y.Length));
        double df = (vx + vy) * (vx + vy) / (vx * vx / (x.Length - 1) + vy * vy / (y.Length - 1));
        return new Estimate(mx - my, TCritical95(Math.Max(1, (int)Math.Floor(df))) * se, Math.Min(x.Length, y.Length));
    }

    /// <summary>Held when the interval lies above zero, not held when below, inconclusive otherwise.</summary>
    public static Verdict AboveZero(Estimate e)
        => e.N == 0 || !double.IsFinite(e.HalfWidth) ? Verdict.Inconclusive : e.Lower > 0 ? Verdict.Held : e.Upper < 0 ? Verdict.NotHeld : Verdict.Inconclusive;

    /// <summary>
    /// The 97.5% quantile of Student's t with <paramref name="df"/> degrees of freedom: exact table values up to 30,
    /// then the Cornish-Fisher expansion around the normal quantile (error below 1e-3 there).
    /// </summary>
    public static double TCritical95(int df)
    {
        if (df < 1) throw new ArgumentOutOfRangeException(nameof(df));
        if (df <= Table.Length) return Table[df - 1];
        const double z = 1.959963984540054;
        double z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z;
        return z + (z3 + z) / (4.0 * df) + (5 * z5 + 16 * z3 + 3 * z) / (96.0 * df * df)
                 + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384.0 * df * df * df);
    }

    private static readonly double[] Table =
    [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
        2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
}
