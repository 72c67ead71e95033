using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;
using Xunit;

namespace EpgFast.Tests.Networks;

/// <summary>
/// The batched dense kernels with several rows (forward, backward to the inputs) or output units (backward to the
/// parameters) per work item: the same bits as one per item (the sums keep their order), the same bits on the CPU
/// launcher and ILGPU's CPU accelerator, and the float64 values, on shapes with remainders (rows and outputs not
/// multiples of four, a strided input window).
/// </summary>
public class DenseKernelTests
{
    private sealed record Case(int Learners, int Rows, int In, int Out, Activation Act, int InStride, int InOffset);

    private static readonly Case[] Cases =
    [
        new(3, 70, 29, 64, Activation.Tanh, 40, 3),   // the policy's first layer, obs read out of wider rows
        new(2, 13, 7, 6, Activation.LeakyRelu, 7, 0), // rows and outputs with remainders
        new(2, 9, 5, 3, Activation.Linear, 8, 2),     // fewer than four outputs
    ];

    private sealed record Data(DenseShape S, float[] X, float[] P, float[] DY, float[] G0, float[] DX0);

    private static Data Make(Case c)
    {
        // parameters after the weights (stride 5 wider than the layer) and a bias offset away from the weights
        var s = DenseShape.Create(c.Learners, c.Rows, c.In, c.Out, c.Act, paramStride: c.Out * c.In + c.Out + 5, paramOffset: 2)
            .WithInput(c.InStride, c.InOffset);
        var rng = new System.Random(c.Rows * 31 + c.Out);
        float[] R(int n, double scale) => Enumerable.Range(0, n).Select(_ => (float)(scale * (rng.NextDouble() * 2 - 1))).ToArray();
        return new Data(s, R(c.Learners * c.Rows * c.InStride, 1.5), R(c.Learners * s.ParamStride, 0.5),
            R(c.Learners * c.Rows * c.Out, 1), R(c.Learners * s.ParamStride, 0.1), R(c.Learners * c.Rows * c.In, 0.1));
    }

    /// <summary>Forward y, then dx (accumulated onto DX0) and g (accumulated onto G0) with the given blocking.</summary>
    private static (float[] Y, float[] DX, float[] DXOverwrite, float[] G) Run<TF>(Device d, Data a, int rowsPerItem, int outputsPerItem)
        where TF : struct, IView<float>
    {
        var s = a.S;
        using var x = d.Upload<float>(a.X);
        using var p = d.Upload<float>(a.P);
        using var dy = d.Upload<float>(a.DY);
        using var g = d.Upload<float>(a.G0);
        using var dx = d.Upload<float>(a.DX0);
        using var dx2 = d.Upload<float>(a.DX0);
        using var y = d.Allocate<float>(s.Learners * s.Rows * s.Out);
        d.Launch(s.RowItems(rowsPerItem), new DenseForwardKernel<TF> { X = x.View<TF>(), P = p.View<TF>(), Y = y.View<TF>(), S = s, RowsPerItem = rowsPerItem });
        d.Launch(s.RowItems(rowsPerItem), new DenseBackwardInputKernel<TF> { P = p.View<TF>(), Y = y.View<TF>(), DY = dy.View<TF>(), DX = dx.View<TF>(), S = s, Accumulate = 1, RowsPerItem = rowsPerItem });
        d.Launch(s.RowItems(rowsPerItem), new DenseBackwardInputKernel<TF> { P = p.View<TF>(), Y = y.View<TF>(), DY = dy.View<TF>(), DX = dx2.View<TF>(), S = s, Accumulate = 0, RowsPerItem = rowsPerItem });
        d.Launch(s.OutputItems(outputsPerItem), new DenseBackwardParamsKernel<TF> { X = x.View<TF>(), Y = y.View<TF>(), DY = dy.View<TF>(), G = g.View<TF>(), S = s, OutputsPerItem = outputsPerItem });
        d.Synchronize();
        return (y.ToArray(), dx.ToArray(), dx2.ToArray(), g.ToArray());
    }

    public static TheoryData<int> CaseIndices => new() { 0, 1, 2 };

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void BlockedKernelsGiveTheSameBitsAsOneRowOrOutputPerItem(int caseIndex)
    {
        var a = Make(Cases[caseIndex]);
        using var cpu = new CpuDevice();
        var one = Run<CpuView<float>>(cpu, a, 0, 0);
        foreach (int per in new[] { 3, 4, 8 })
        {
            var blocked = Run<CpuView<float>>(cpu, a, per, per);
            Assert.Equal(one.Y, blocked.Y);
            Assert.Equal(one.DX, blocked.DX);
            Assert.Equal(one.DXOverwrite, blocked.DXOverwrite);
            Assert.Equal(one.G, blocked.G);
        }
        Assert.NotEqual(a.G0, one.G); // the gradient moved
    }

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void CpuLauncherAndIlgpuCpuAcceleratorGiveTheSameBits(int caseIndex)
    {
        var a = Make(Cases[caseIndex]);
        using var cpu = new CpuDevice();
        using var il = IlgpuDevice.CreateCpuAccelerator();
        var c = Run<CpuView<float>>(cpu, a, 4, 4);
        var g = Run<GpuView<float>>(il, a, 4, 4);
        Assert.Equal(c.Y, g.Y);
        Assert.Equal(c.DX, g.DX);
        Assert.Equal(c.DXOverwrite, g.DXOverwrite);
        Assert.Equal(c.G, g.G);
    }

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void BlockedKernelsMatchFloat64(int caseIndex)
    {
        var c = Cases[caseIndex];
        var a = Make(c);
        var s = a.S;
        using var cpu = new CpuDevice();
        var got = Run<CpuView<float>>(cpu, a, 4, 4);
        int L = s.Learners, R = s.Rows, nIn = s.In, nOut = s.Out;
        var y = new double[L * R * nOut];
        var dx = a.DX0.Select(v => (double)v).ToArray();
        var dxOverwrite = new double[dx.Length];
        var g = a.G0.Select(v => (double)v).ToArray();
        for (int l = 0; l < L; l++)
            for (int r = 0; r < R; r++)
            {
                int row = l * R + r;
                for (int o = 0; o < nOut; o++)
                {
                    int w = l * s.ParamStride + s.ParamOffset + o * nIn, b = l * s.ParamStride + s.BiasOffset + o;
                    double z = a.P[b];
                    for (int i = 0; i < nIn; i++) z += (double)a.P[w + i] * a.X[row * s.InStride + s.InOffset + i];
                    double act = c.Act switch { Activation.Tanh => Math.Tanh(z), Activation.LeakyRelu => z > 0 ? z : Act.LeakySlope * z, _ => z };
                    double grad = c.Act switch { Activation.Tanh => 1 - act * act, Activation.LeakyRelu => z > 0 ? 1 : Act.LeakySlope, _ => 1 };
                    y[row * nOut + o] = act;
                    double dz = a.DY[row * nOut + o] * grad;
                    g[b] += dz;
                    for (int i = 0; i < nIn; i++)
                    {
                        g[w + i] += dz * a.X[row * s.InStride + s.InOffset + i];
                        dx[row * nIn + i] += dz * a.P[w + i];
                        dxOverwrite[row * nIn + i] += dz * a.P[w + i];
                    }
                }
            }
        Close(y, got.Y);
        Close(dx, got.DX);
        Close(dxOverwrite, got.DXOverwrite);
        Close(g, got.G);
    }

    /// <summary>Whole vectors: every element within 1e-5 of the float64 value, relative to the vector's scale.</summary>
    private static void Close(double[] want, float[] got)
    {
        Assert.Equal(want.Length, got.Length);
        double scale = want.Max(Math.Abs), worst = 0;
        for (int i = 0; i < want.Length; i++) worst = Math.Max(worst, Math.Abs(want[i] - got[i]) / scale);
        Assert.True(worst < 1e-5, $"worst difference {worst:g3} of scale {scale:g3}");
    }

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
