using System.Runtime.InteropServices;
using EpgFast.Evolution;
using EpgFast.Kernels.Random;
using Xunit;

namespace EpgFast.Tests.Evolution;

public class EvolutionStrategyTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static float[] Range(int n, Func<int, float> f) => Enumerable.Range(0, n).Select(f).ToArray();

    private static byte[] Bits(float[] a) => MemoryMarshal.AsBytes(a.AsSpan()).ToArray();

    [Fact]
    public void NoiseFillMatchesNormalAtForAnyOffset()
    {
        const ulong seed = 77;
        foreach ((long offset, int length) in new[] { (0L, 1), (0L, 13), (3L, 9), (5L, 2), (1024L, 1000), (7L, 4) })
        {
            var eps = new float[length];
            EsNoise.Fill(seed, 5, 3, offset, eps);
            var expected = Range(length, j => Philox.NormalAt(seed, Philox.Stream(RandomStreams.EsNoise, 5, 3), (ulong)(offset + j)));
            Assert.Equal(Bits(expected), Bits(eps));
        }
    }

    /// <summary>
    /// The L2 term as a property, independent of any reference formula: with equal fitnesses
    /// (every centered rank 0, so no noise direction is preferred) and L2 &gt; 0, one step moves
    /// every coordinate of phi toward zero (the coordinates are larger than the step, so none
    /// crosses it); with L2 = 0 nothing moves.
    /// </summary>
    [Theory]
    [InlineData(0.001, 1e-3)]
    [InlineData(0.05, 1e-2)]
    public void EqualFitnessesWithL2ShrinkEveryCoordinate(double l2, double lr)
    {
        var rng = new System.Random(3);
        float[] phi = Range(257, j => (float)((rng.NextDouble() * 0.9 + 0.1) * (rng.Next(2) == 0 ? -1 : 1)));
        foreach (bool antithetic in new[] { false, true })
        {
            var es = new EvolutionStrategy(new EsConfig { Population = 8, Antithetic = antithetic, Sigma = 0.05, L2 = l2, LearningRate = lr, FinalLearningRate = lr, Epochs = 10, Seed = 9 });
            var s = es.Initialize(phi);
            for (int step = 0; step < 3; step++)
            {
                var next = es.Tell(s, Enumerable.Repeat(-4.25, 8).ToArray());
                for (int j = 0; j < phi.Length; j++)
                {
                    Assert.True(Math.Abs(next.Phi[j]) < Math.Abs(s.Phi[j]), $"coordinate {j}: {s.Phi[j]} -> {next.Phi[j]} (step {step}, antithetic {antithetic})");
                    Assert.Equal(Math.Sign(s.Phi[j]), Math.Sign(next.Phi[j]));
                }
                s = next;
            }
            var still = new EvolutionStrategy(new EsConfig { Population = 8, Antithetic = antithetic, Sigma = 0.05, L2 = 0, LearningRate = lr, Epochs = 10, Seed = 9 });
            Assert.Equal(Bits(phi), Bits(still.Tell(still.Initialize(phi), Enumerable.Repeat(1.0, 8).ToArray()).Phi));
        }
    }

    [Fact]
    public void AskGivesPhiPlusSigmaTimesRegeneratedNoise()
    {
        var es = new EvolutionStrategy(new EsConfig { Population = 5, Sigma = 0.03, Seed = 11 });
        var state = es.Initialize(Range(37, j => 0.1f * j - 1f)) .With(epoch: 4);
        float[][] members = es.Ask(state);
        Assert.Equal(5, members.Length);
        for (int i = 0; i < 5; i++)
        {
            var expected = Range(37, j => state.Phi[j] + 0.03f * Philox.NormalAt(11, Philox.Stream(RandomStreams.EsNoise, 4, (uint)i), (ulong)j));
            Assert.Equal(Bits(expected), Bits(members[i]));
        }
        // the flat (W, P) overload gives the same numbers
        var flat = new float[5 * 37];
        es.Ask(state, flat);
        Assert.Equal(members.SelectMany(m => m).ToArray(), flat);
    }

    [Fact]
    public void AntitheticMembersAreExactNegatives()
    {
        var es = new EvolutionStrategy(new EsConfig { Population = 6, Antithetic = true, Sigma = 0.5, Seed = 5 });
        float[][] m = es.Ask(es.Initialize(new float[101]));
        for (int k = 0; k < 3; k++)
        {
            Assert.Equal(Bits(m[2 * k].Select(x => -x).ToArray()), Bits(m[2 * k + 1]));
            Assert.NotEqual(m[0], m[2]);
        }
        // pair k uses noise vector k
        var eps1 = EsNoise.Vector(5, 0, 1, 101);
        Assert.Equal(Bits(eps1.Select(e => 0.5f * e).ToArray()), Bits(m[2]));
        // with a non-zero phi: member 2k+1 = phi - sigma eps_k, and Ask agrees with AskMember
        var s = es.Initialize(Range(101, j => 0.37f * j - 3f)).With(epoch: 9);
        float[][] shifted = es.Ask(s);
        var eps2 = EsNoise.Vector(5, 9, 2, 101);
        Assert.Equal(Bits(Range(101, j => s.Phi[j] - 0.5f * eps2[j])), Bits(shifted[5]));
        for (int i = 0; i < 6; i++)
        {
            var one = new float[101];
            es.AskMember(s, i, one);
            Assert.Equal(Bits(one), Bits(shifted[i]));
        }
        Assert.Throws<EpgFast.Backends.EpgException>(() => new EvolutionStrategy(new EsConfig { Population = 5, Antithetic = true }));
    }

    /// <summary>The same update written naively with every noise vector stored.</summary>
    private static float[] ReferenceTell(EsConfig c, EsState s, double[] fitness)
    {
        int w = c.Population, p = s.ParameterCount;
        double[] ranks = FitnessShaping.CenteredRanks(fitness);
        var eps = new float[c.NoiseVectors][];
        for (int k = 0; k < eps.Length; k++)
        {
            eps[k] = new float[p];
            for (int j = 0; j < p; j++) eps[k][j] = Philox.NormalAt(c.Seed, Philox.Stream(RandomStreams.EsNoise, (uint)s.Epoch, (uint)k), (ulong)j);
        }
        var coef = new double[eps.Length];
        for (int i = 0; i < w; i++) coef[c.Antithetic ? i / 2 : i] += ranks[i] * (c.Antithetic && i % 2 == 1 ? -1 : 1);
        for (int k = 0; k < coef.Length; k++) coef[k] /= w;
        long t = s.AdamStep + 1;
        double a = c.LearningRateSchedule.At(s.Epoch) * Math.Sqrt(1 - Math.Pow(c.Beta2, t)) / (1 - Math.Pow(c.Beta1, t));
        var phi = new float[p];
        for (int j = 0; j < p; j++)
        {
            double g = 0;
            for (int k = 0; k < eps.Length; k++) if (coef[k] != 0) g += coef[k] * eps[k][j];
            g -= c.L2 * s.Phi[j];
            double m = c.Beta1 * s.AdamM[j] + (1 - c.Beta1) * g;
            double v = c.Beta2 * s.AdamV[j] + (1 - c.Beta2) * g * g;
            phi[j] = (float)(s.Phi[j] + a * m / (Math.Sqrt(v) + c.AdamEpsilon));
        }
        return phi;
    }

    [Theory]
    [InlineData(false, 7, 3000)]
    [InlineData(true, 8, 2500)]
    public void TellWithRegeneratedNoiseEqualsStoredNoise(bool antithetic, int w, int p)
    {
        var c = new EsConfig { Population = w, Antithetic = antithetic, Sigma = 0.02, Seed = 99, Epochs = 10, Beta1 = 0.5 };
        var es = new EvolutionStrategy(c);
        var rng = new System.Random(1);
        var s = es.Initialize(Range(p, _ => (float)rng.NextDouble() - 0.5f));
        for (int e = 0; e < 3; e++)
        {
            double[] f = Enumerable.Range(0, w).Select(_ => rng.NextDouble()).ToArray();
            float[] expected = ReferenceTell(c, s, f);
            s = es.Tell(s, f);
            Assert.Equal(Bits(expected), Bits(s.Phi));
            Assert.Equal(e + 1, s.Epoch);
        }
    }

    private static EsState RunSphere(EvolutionStrategy es, float[] center, int epochs, Func<int, double>? poison = null)
    {
        var s = es.Initialize(new float[center.Length]);
        for (int e = 0; e < epochs; e++)
        {
            float[][] members = es.Ask(s);
            double[] f = members.Select((m, i) => poison?.Invoke(i) ?? -m.Select((x, j) => (double)(x - center[j]) * (x - center[j])).Sum()).ToArray();
            s = es.Tell(s, f, out var info);
            Assert.Equal(e, info.Epoch);
        }
        return s;
    }

    [Fact]
    public void SameSeedIsBitIdenticalWhateverTheThreadCount()
    {
        var c = new EsConfig { Population = 10, Sigma = 0.1, Seed = 3, Epochs = 30, LearningRate = 0.05 };
        float[] center = Range(2100, j => MathF.Sin(j));
        EsState a = RunSphere(new EvolutionStrategy(c, maxThreads: 1), center, 12);
        EsState b = RunSphere(new EvolutionStrategy(c, maxThreads: 0), center, 12);
        Assert.True(a.BitEquals(b));
        EsState other = RunSphere(new EvolutionStrategy(c with { Seed = 4 }), center, 12);
        Assert.False(a.BitEquals(other));
    }

    [Fact]
    public void FindsTheOptimumOfAShiftedSphere()
    {
        const int dims = 30;
        var rng = new System.Random(42);
        float[] center = Range(dims, _ => (float)(rng.NextDouble() * 2 - 1));
        var c = new EsConfig { Population = 32, Antithetic = true, Sigma = 0.05, L2 = 0, LearningRate = 0.05, FinalLearningRate = 0.002, Epochs = 400, Seed = 7 };
        EsState s = RunSphere(new EvolutionStrategy(c), center, c.Epochs);
        double start = Math.Sqrt(center.Sum(x => (double)x * x));
        double dist = Math.Sqrt(s.Phi.Select((x, j) => (double)(x - center[j]) * (x - center[j])).Sum());
        output.WriteLine($"sphere: distance {dist} from optimum (start {start})");
        Assert.True(dist < 0.02 * start, $"distance {dist} from optimum (start {start})");
    }

    [Fact]
    public void ApproachesTheRosenbrockMinimum()
    {
        var c = new EsConfig { Population = 40, Antithetic = true, Sigma = 0.02, L2 = 0, LearningRate = 0.02, FinalLearningRate = 0.002, Epochs = 2000, Seed = 12 };
        var es = new EvolutionStrategy(c, maxThreads: 1);
        var s = es.Initialize([-1f, 1f]);
        for (int e = 0; e < c.Epochs; e++)
        {
            double[] f = es.Ask(s).Select(m => -(Math.Pow(1 - m[0], 2) + 100 * Math.Pow(m[1] - (double)m[0] * m[0], 2))).ToArray();
            s = es.Tell(s, f);
        }
        output.WriteLine($"rosenbrock: ended at ({s.Phi[0]}, {s.Phi[1]})");
        Assert.True(Math.Abs(s.Phi[0] - 1) < 0.1 && Math.Abs(s.Phi[1] - 1) < 0.2, $"ended at ({s.Phi[0]}, {s.Phi[1]})");
    }

    [Fact]
    public void QuarantinedMembersRankWorst()
    {
        var c = new EsConfig { Population = 4, Seed = 8 };
        var es = new EvolutionStrategy(c);
        var s = es.Initialize(Range(50, j => j * 0.01f));
        EsState poisoned = es.Tell(s, [double.NaN, 1.0, 2.0, 3.0], out var info);
        EsState lowest = es.Tell(s, [-1e9, 1.0, 2.0, 3.0]);
        Assert.True(poisoned.BitEquals(lowest));
        Assert.Equal(1, info.NonFinite);
        Assert.Equal(2.0, info.FitnessMean);
        Assert.Equal(3.0, info.FitnessMax);
    }

    [Fact]
    public void SeveralLearnersPerMemberUseTheMean()
    {
        var one = new EvolutionStrategy(new EsConfig { Population = 3, Seed = 2 });
        var two = new EvolutionStrategy(new EsConfig { Population = 3, Seed = 2, LearnersPerMember = 2 });
        var s = one.Initialize(Range(20, j => -j * 0.1f));
        EsState a = one.Tell(s, [1.5, 0.0, 2.5]);
        EsState b = two.Tell(s, [1.0, 2.0, 0.0, 0.0, 2.0, 3.0], out var info);
        Assert.True(a.BitEquals(b));
        Assert.Equal(2.5, info.FitnessMax);
        Assert.Throws<ArgumentException>(() => two.Tell(s, [1.0, 2.0, 3.0]));
    }

    [Fact]
    public void StateRoundTripsThroughBytesAndOfferBestKeepsTheHighest()
    {
        var es = new EvolutionStrategy(new EsConfig { Population = 4, Seed = 21 });
        var s = es.Initialize(Range(33, j => j));
        s = es.Tell(s, [1.0, 4.0, 2.0, 3.0]);
        s = s.OfferBest(s.Phi, 5.0, 1);
        EsState kept = s.OfferBest(new float[33], 4.0, 2);
        Assert.Same(s, kept);
        Assert.Same(s, s.OfferBest(new float[33], double.NaN, 2));
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) s.WriteTo(w);
        ms.Position = 0;
        EsState back = EsState.ReadFrom(new BinaryReader(ms));
        Assert.True(s.BitEquals(back));
        Assert.Equal(1, back.BestEpoch);
        Assert.Equal(5.0, back.BestFitness);
    }
}
