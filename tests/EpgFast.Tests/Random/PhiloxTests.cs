using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Random;
using EpgFast.Validation;
using Xunit;

namespace EpgFast.Tests.Random;

public class PhiloxTests
{
    [Fact]
    public void KnownAnswerVectorsOfRandom123()
    {
        foreach (var (c, k0, k1, e) in PhiloxKnownAnswerCheck.Vectors)
        {
            var got = Philox.Block(c, k0, k1);
            Assert.Equal((e.X, e.Y, e.Z, e.W), (got.X, got.Y, got.Z, got.W));
        }
    }

    /// <summary>
    /// Pins the Box-Muller transform (not only the raw blocks): the expected values are literals
    /// computed in float64 outside this code base from Philox4x32-10's blocks (the first four from
    /// Random123's known-answer block for counter 0, key 0: 6627e8d5 e169c58d bc57ac4c 9b00dbd8),
    /// with u = ((a >> 8) + 1) / 2^24, v = (b >> 8) / 2^24, r = sqrt(-2 ln u), theta = 2 pi v;
    /// lanes 0, 1 = r cos, r sin of words (X, Y); lanes 2, 3 of (Z, W). A change of the transform
    /// that Normal and NormalAt share changes these values.
    /// </summary>
    [Theory]
    [InlineData(0UL, 0UL, 0UL, 0.9911374751458971)]
    [InlineData(0UL, 0UL, 1UL, -0.9246627803544332)]
    [InlineData(0UL, 0UL, 2UL, -0.6176090549848544)]
    [InlineData(0UL, 0UL, 3UL, -0.4820683472644963)]
    [InlineData(1UL, 7UL, 5UL, -0.9482722293869513)]
    [InlineData(3735928559UL, 3UL, 1002UL, 1.0861909968764076)]
    [InlineData(42UL, 1099511627785UL, 123456789UL, -1.9305617276599074)]
    public void NormalAtMatchesFloat64BoxMullerOfKnownBlocks(ulong seed, ulong stream, ulong index, double expected)
    {
        Assert.Equal(0x6627e8d5u, Philox.Draw(0, 0, 0).X); // the known block the first rows derive from
        float got = Philox.NormalAt(seed, stream, index);
        Assert.True(Math.Abs(got - expected) <= 2e-6 * Math.Max(1, Math.Abs(expected)), $"NormalAt({seed}, {stream}, {index}) = {got:R}, float64 {expected:R}");
        // the block-at-once form agrees with the per-element one
        var b = Philox.Draw(seed, stream, index >> 2);
        bool second = (index & 2) != 0;
        float cos = Philox.Normal(second ? b.Z : b.X, second ? b.W : b.Y, out float sin);
        Assert.Equal(got, (index & 1) == 0 ? cos : sin);
    }

    [Fact]
    public void UniformsAreInRangeAndUnbiased()
    {
        const int n = 200_000;
        double sum = 0, sumSq = 0;
        for (int i = 0; i < n; i++)
        {
            float u = Philox.UniformAt(3, 9, (ulong)i);
            Assert.InRange(u, 0f, 0.99999999f);
            sum += u;
            sumSq += u * u;
        }
        double mean = sum / n, variance = sumSq / n - mean * mean;
        Assert.InRange(mean, 0.5 - 0.004, 0.5 + 0.004);
        Assert.InRange(variance, 1.0 / 12 - 0.002, 1.0 / 12 + 0.002);
    }

    [Fact]
    public void NormalsHaveUnitMomentsAndNoInfinities()
    {
        const int n = 200_000;
        double sum = 0, sumSq = 0, sum4 = 0;
        for (int i = 0; i < n; i++)
        {
            float g = Philox.NormalAt(11, Philox.Stream(RandomStreams.Test, 1, 2), (ulong)i);
            Assert.True(float.IsFinite(g));
            sum += g;
            sumSq += g * g;
            sum4 += (double)g * g * g * g;
        }
        Assert.InRange(sum / n, -0.01, 0.01);
        Assert.InRange(sumSq / n, 0.98, 1.02);
        Assert.InRange(sum4 / n, 2.85, 3.15); // kurtosis of a normal is 3
    }

    [Fact]
    public void StreamsAndKeysGiveDifferentNumbers()
    {
        Assert.NotEqual(Philox.UniformAt(1, 0, 0), Philox.UniformAt(2, 0, 0));
        Assert.NotEqual(Philox.UniformAt(1, Philox.Stream(RandomStreams.EsNoise, 0, 1), 0),
                        Philox.UniformAt(1, Philox.Stream(RandomStreams.EsNoise, 1, 0), 0));
        Assert.NotEqual(Philox.Stream(1, 0xFFFFFF, 0), Philox.Stream(2, 0, 0));
    }

    [Fact]
    public void CpuLauncherAndIlgpuGiveIdenticalNumbers()
    {
        float[] Fill<TF>(Device d) where TF : struct, IView<float>
        {
            using var b = d.Allocate<float>(1027);
            using var u = d.Allocate<float>(1027);
            d.Launch(b.Length, new FillNormalKernel<TF> { Output = b.View<TF>(), Seed = 77, Stream = 5, Mean = 1f, Scale = 2f });
            d.Launch(u.Length, new FillUniformKernel<TF> { Output = u.View<TF>(), Seed = 77, Stream = 5, Low = -1f, High = 1f });
            d.Synchronize();
            return b.ToArray().Concat(u.ToArray()).ToArray();
        }
        using var cpu = new CpuDevice();
        using var ilgpu = IlgpuDevice.CreateCpuAccelerator();
        Assert.Equal(Fill<CpuView<float>>(cpu), Fill<GpuView<float>>(ilgpu));
    }
}
