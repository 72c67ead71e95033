using Xunit;

namespace EpgFast.Tests.Networks;

/// <summary>Whole-vector comparisons of float32 kernel outputs.</summary>
public static class VectorAssert
{
    /// <summary>
    /// Every |expected - actual| / max(floor, |expected|, 1% of the largest |expected|) is at most <paramref name="rel"/>;
    /// the message names the worst element.
    /// </summary>
    public static void Close(string what, float[] expected, float[] actual, double rel, double floor)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(v => Math.Abs((double)v));
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = Math.Abs(expected[i] - (double)actual[i]) / Math.Max(floor, Math.Max(Math.Abs((double)expected[i]), 1e-2 * scale));
            if (e > worst) (worst, at) = (e, i);
        }
        Assert.True(worst <= rel, $"{what}: worst relative difference {worst:g3} > {rel:g3} at {at} ({(at >= 0 ? expected[at] : 0)} vs {(at >= 0 ? actual[at] : 0)})");
    }
}
