using EpgFast.Kernels.Networks;
using Xunit;

namespace EpgFast.Tests.Networks;

public class ActivationTests
{
    [Fact]
    public void FastTanhMatchesFloat64()
    {
        double worstAbs = 0, worstRel = 0;
        for (int i = -200000; i <= 200000; i++)
        {
            float z = i * 1e-4f; // [-20, 20], dense around the series/exp switch at 1/8
            double want = Math.Tanh(z), got = Act.Tanh(z);
            worstAbs = Math.Max(worstAbs, Math.Abs(got - want));
            if (want != 0) worstRel = Math.Max(worstRel, Math.Abs(got - want) / Math.Abs(want));
        }
        Assert.True(worstAbs < 2e-7, $"abs {worstAbs}");
        Assert.True(worstRel < 2e-6, $"rel {worstRel}");
        Assert.Equal(1f, Act.Tanh(100f));
        Assert.Equal(-1f, Act.Tanh(-100f));
        Assert.Equal(0f, Act.Tanh(0f));
    }

    [Fact]
    public void LeakySlopeIsChainersDefault() => Assert.Equal(-0.2f, Act.Apply(Activation.LeakyRelu, -1f));

    [Fact]
    public void TanhKeepsRelativePrecisionForTinyInputsAndItsSpecialValues()
    {
        for (int e = -140; e < 0; e++)
        {
            float z = MathF.ScaleB(1.2345f, e);
            double want = Math.Tanh(z);
            Assert.True(Math.Abs(Act.Tanh(z) - want) <= 2e-7 * Math.Abs(want), $"tanh({z})");
            Assert.Equal(-Act.Tanh(z), Act.Tanh(-z));
        }
        Assert.Equal(1f, Act.Tanh(9.5f));
        Assert.Equal(1f, Act.Tanh(float.PositiveInfinity));
        Assert.Equal(-1f, Act.Tanh(float.NegativeInfinity));
        Assert.True(float.IsNaN(Act.Tanh(float.NaN)));
        Assert.Equal(0, BitConverter.SingleToInt32Bits(Act.Tanh(0f)));
    }
}
