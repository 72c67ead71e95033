using System.Runtime.Intrinsics;
using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;
using Xunit;

namespace EpgFast.Tests.Networks;

/// <summary>The SIMD lanes against the scalar operations they stand for.</summary>
public class LanesTests
{
    private static float[] Grid()
    {
        var v = new List<float> { 0f, -0f, 1e-30f, -1e-8f, 9f, -9f, 9.5f, 40f, -40f, float.MaxValue, float.MinValue };
        for (float z = -12f; z <= 12f; z += 0.0007f) v.Add(z);
        while (v.Count % 16 != 0) v.Add(0.5f);
        return v.ToArray();
    }

    [Fact]
    public unsafe void VectorTanhEqualsActTanhToTheBit()
    {
        float[] z = Grid();
        using var cpu = new CpuDevice();
        using var buf = cpu.Upload<float>(z);
        using var out8 = cpu.Allocate<float>(z.Length);
        using var out16 = cpu.Allocate<float>(z.Length);
        var v = buf.View<CpuView<float>>();
        if (Vector256.IsHardwareAccelerated)
        {
            var o = out8.View<CpuView<float>>();
            var lanes = default(Lanes8);
            for (int i = 0; i < z.Length; i += 8) lanes.Store(o, i, lanes.Tanh(lanes.Load(v, i)));
            float[] got = out8.ToArray();
            for (int i = 0; i < z.Length; i++) Assert.Equal(BitConverter.SingleToInt32Bits(Act.Tanh(z[i])), BitConverter.SingleToInt32Bits(got[i]));
        }
        if (Vector512.IsHardwareAccelerated)
        {
            var o = out16.View<CpuView<float>>();
            var lanes = default(Lanes16);
            for (int i = 0; i < z.Length; i += 16) lanes.Store(o, i, lanes.Tanh(lanes.Load(v, i)));
            float[] got = out16.ToArray();
            for (int i = 0; i < z.Length; i++) Assert.Equal(BitConverter.SingleToInt32Bits(Act.Tanh(z[i])), BitConverter.SingleToInt32Bits(got[i]));
        }
    }

    [Fact]
    public void LaneWidthFollowsTheDeviceAndTheDimension()
    {
        using var cpu = new CpuDevice();
        using var il = IlgpuDevice.CreateCpuAccelerator();
        Assert.Equal(1, LaneWidths.For(il, 64));
        Assert.Equal(1, LaneWidths.For(cpu, 5));
        if (Vector512.IsHardwareAccelerated) Assert.Equal(16, LaneWidths.For(cpu, 64));
        if (Vector256.IsHardwareAccelerated) Assert.Equal(8, LaneWidths.For(cpu, 29));
        if (Vector256.IsHardwareAccelerated) Assert.Equal(8, LaneWidths.Dividing(cpu, 24));
        Assert.Equal(1, LaneWidths.Dividing(cpu, 12));
        Assert.Equal(1, LaneWidths.Dividing(il, 16));
        if (Vector512.IsHardwareAccelerated) Assert.Equal(16, LaneWidths.Overlapping(cpu, 29));
        Assert.Equal(1, LaneWidths.Overlapping(il, 29));
    }

    /// <summary>
    /// The dense lanes passes give the same bits at every lane width: the sums run in one order, and where the last lane
    /// overlaps the one before it (29 inputs in lanes of 8 or 16) both write the same value and g is added to once.
    /// </summary>
    [Theory]
    [InlineData(29, 64, 13)]
    [InlineData(64, 8, 8)]
    [InlineData(20, 24, 6)]
    [InlineData(5, 3, 4)]
    [InlineData(40, 1, 7)]
    public void DenseLanesPassesAgreeToTheBitAtEveryWidth(int nIn, int nOut, int rows)
    {
        const int L = 3, xOffset = 2;
        int xStride = nIn + 7;   // inputs are columns [2, 2 + nIn) of wider rows, as the policy reads the buffer
        var s = DenseShape.Create(L, rows, nIn, nOut, Activation.Tanh, 3 * 1024, 100, 100 + nIn * nOut).WithInput(xStride, xOffset);
        var rng = new System.Random(nIn * 31 + nOut);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        float[] p = R(L * s.ParamStride), x = R(L * rows * xStride), dz = R(L * rows * nOut), g0 = R(L * s.ParamStride);
        float[] xAct = x.Select(v => MathF.Tanh(v)).ToArray();   // an input made by tanh, for the backward's act'
        using var cpu = new CpuDevice(1);
        (float[] Y, float[] Dx, float[] G) Run<TV, TL>() where TV : unmanaged where TL : struct, ILanes<TV>
        {
            using var bp = cpu.Upload<float>(p);
            using var bx = cpu.Upload<float>(xAct);
            using var bwt = cpu.Allocate<float>(L * nIn * nOut);
            using var by = cpu.Allocate<float>(L * rows * nOut);
            using var bdz = cpu.Upload<float>(dz);
            using var bdx = cpu.Allocate<float>(L * rows * nIn);
            using var bg = cpu.Upload<float>(g0);
            var a = new DenseLanesArgs<CpuView<float>>
            {
                X = bx.View<CpuView<float>>(), P = bp.View<CpuView<float>>(), WT = bwt.View<CpuView<float>>(), Y = by.View<CpuView<float>>(),
                DY = bdz.View<CpuView<float>>(), DX = bdx.View<CpuView<float>>(), G = bg.View<CpuView<float>>(), S = s,
            };
            cpu.Launch(L * nIn, new DenseTransposeKernel<CpuView<float>> { P = a.P, WT = a.WT, S = s });
            cpu.Launch(a.RowItems, new DenseLanesForwardKernel<CpuView<float>, TV, TL> { A = a });
            cpu.Launch(a.RowItems, new DenseLanesBackwardInputKernel<CpuView<float>, TV, TL> { A = a, InputAct = Activation.Tanh });
            cpu.Launch(a.OutputItems, new DenseLanesBackwardParamsKernel<CpuView<float>, TV, TL> { A = a });
            return (by.ToArray(), bdx.ToArray(), bg.ToArray());
        }
        var scalar = Run<float, ScalarLanes>();
        var w8 = Run<Vector256<float>, Lanes8>();
        var w16 = Run<Vector512<float>, Lanes16>();
        foreach (var w in new[] { w8, w16 })
        {
            Assert.Equal(scalar.Y, w.Y);
            Assert.Equal(scalar.Dx, w.Dx);
            Assert.Equal(scalar.G, w.G);
        }
        // against float64 for one weight gradient, so agreement is not agreement on something wrong
        double want = g0[100];
        for (int r = 0; r < rows; r++) want += (double)dz[r * nOut] * xAct[r * xStride + xOffset];
        Assert.Equal(want, scalar.G[100], 4);
    }
}
