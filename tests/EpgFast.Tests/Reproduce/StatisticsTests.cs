using EpgFast.Reproduce;
using Xunit;

namespace EpgFast.Tests.Reproduce;

/// <summary>The report's intervals: Student-t quantiles, a mean's interval and Welch's difference, against values computed by hand.</summary>
public class StatisticsTests
{
    [Theory]
    [InlineData(1, 12.706)]
    [InlineData(2, 4.303)]
    [InlineData(15, 2.131)]
    [InlineData(30, 2.042)]
    [InlineData(40, 2.021)]   // tables: 2.0211
    [InlineData(60, 2.000)]   // 2.0003
    [InlineData(120, 1.980)]  // 1.9799
    [InlineData(100000, 1.960)]
    public void TQuantilesMatchTheTables(int df, double expected) => Assert.Equal(expected, Statistics.TCritical95(df), 3);

    [Fact]
    public void MeanIntervalOfKnownData()
    {
        // 1..5: mean 3, sd sqrt(2.5), se sqrt(0.5), t(4) = 2.776
        var e = Statistics.Mean([1, 2, 3, 4, 5]);
        Assert.Equal(3, e.Mean, 12);
        Assert.Equal(2.776 * Math.Sqrt(0.5), e.HalfWidth, 9);
        Assert.Equal(5, e.N);
        // non-finite values are left out; one value has no interval
        Assert.Equal(3, Statistics.Mean([1, 5, double.NaN]).Mean, 12);
        Assert.True(double.IsPositiveInfinity(Statistics.Mean([7]).HalfWidth));
        Assert.Equal(0, Statistics.Mean([]).N);
    }

    [Fact]
    public void WelchDifferenceOfKnownData()
    {
        // a: 1..5 (var 2.5), b: 2, 4, 6, 8, 10 (var 10): se^2 = 0.5 + 2, df = 2.5^2 / (0.25/4 + 4/4) = 5.88 -> 5, t(5) = 2.571
        var d = Statistics.Difference([1, 2, 3, 4, 5], [2, 4, 6, 8, 10]);
        Assert.Equal(-3, d.Mean, 12);
        Assert.Equal(2.571 * Math.Sqrt(2.5), d.HalfWidth, 9);
    }

    [Fact]
    public void VerdictsFollowTheIntervalsSide()
    {
        Assert.Equal(Verdict.Held, Statistics.AboveZero(new Estimate(1, 0.5, 10)));
        Assert.Equal(Verdict.NotHeld, Statistics.AboveZero(new Estimate(-1, 0.5, 10)));
        Assert.Equal(Verdict.Inconclusive, Statistics.AboveZero(new Estimate(0.2, 0.5, 10)));
        Assert.Equal(Verdict.Inconclusive, Statistics.AboveZero(new Estimate(5, double.PositiveInfinity, 1)));
    }
}
