using EpgFast.Evolution;
using Xunit;

namespace EpgFast.Tests.Evolution;

public class FitnessShapingTests
{
    [Fact]
    public void RanksOddPopulationAreEvenlySpaced()
    {
        double[] r = FitnessShaping.CenteredRanks([3.0, -1.0, 10.0, 0.5, 2.0]);
        Assert.Equal([0.25, -0.5, 0.5, -0.25, 0.0], r);
    }

    [Fact]
    public void RanksEvenPopulationSpanHalfInterval()
    {
        double[] r = FitnessShaping.CenteredRanks([4.0, 1.0, 2.0, 3.0]);
        Assert.Equal(new[] { 0.5, -0.5, -1.0 / 6, 1.0 / 6 }, r, new Tol(1e-15));
        Assert.Equal(0.0, r.Sum(), 15);
    }

    [Fact]
    public void TiesShareTheirMeanRank()
    {
        double[] r = FitnessShaping.CenteredRanks([1.0, 5.0, 1.0, 7.0, 5.0, 5.0]);
        // sorted positions: 1,1 -> 0,1 (mean 0.5); 5,5,5 -> 2,3,4 (mean 3); 7 -> 5; scale 1/5
        Assert.Equal(new[] { 0.1 - 0.5, 0.6 - 0.5, 0.1 - 0.5, 0.5, 0.6 - 0.5, 0.6 - 0.5 }, r, new Tol(1e-15));
        Assert.Equal(0.0, r.Sum(), 14);
        Assert.All(FitnessShaping.CenteredRanks([2.0, 2.0, 2.0]), x => Assert.Equal(0.0, x));
    }

    [Fact]
    public void NonFiniteFitnessRanksWorst()
    {
        double[] r = FitnessShaping.CenteredRanks([double.NaN, -1e30, double.PositiveInfinity, 0.0, double.NegativeInfinity]);
        // the three non-finite ones tie at positions 0..2 (mean 1 -> 1/4 - 1/2), then -1e30, then 0.
        Assert.Equal(new[] { -0.25, 0.25, -0.25, 0.5, -0.25 }, r, new Tol(1e-15));
    }

    [Fact]
    public void SingleMemberAndMeanOverTasks()
    {
        Assert.Equal([0.0], FitnessShaping.CenteredRanks([42.0]));
        double[] m = FitnessShaping.MeanPerMember([1, 3, 2, double.NaN, 5, 7], 2);
        Assert.Equal(2.0, m[0]);
        Assert.True(double.IsNaN(m[1]));
        Assert.Equal(6.0, m[2]);
        Assert.Throws<ArgumentException>(() => FitnessShaping.MeanPerMember([1, 2, 3], 2));
    }

    [Fact]
    public void RanksAreInvariantToMonotoneTransforms()
    {
        var rng = new System.Random(3);
        double[] f = Enumerable.Range(0, 37).Select(_ => rng.NextDouble() * 10 - 5).ToArray();
        double[] g = f.Select(x => Math.Exp(x) * 3 + 1).ToArray();
        Assert.Equal(FitnessShaping.CenteredRanks(f), FitnessShaping.CenteredRanks(g));
        double[] r = FitnessShaping.CenteredRanks(f);
        Assert.Equal(-0.5, r.Min());
        Assert.Equal(0.5, r.Max());
        Assert.Equal(37, r.Distinct().Count());
    }

    private sealed class Tol(double eps) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= eps;
        public int GetHashCode(double x) => 0;
    }
}
