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
    }
}
