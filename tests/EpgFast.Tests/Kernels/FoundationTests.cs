using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;
using EpgFast.Kernels.Random;
using Xunit;

namespace EpgFast.Tests.Kernels;

public class FoundationTests
{
    [Fact]
    public void PtxCompilesEveryKernel()
    {
        var kernels = PtxCompiler.AllGpuKernelTypes();
        Assert.True(kernels.Count >= 5);
        var compiled = PtxCompiler.CompileAll(kernels);
        Assert.All(compiled, c => Assert.True(c.PtxChars > 100, c.Kernel.Name));
    }

    /// <summary>One kernel source, two launchers: the lanes forward at one float per lane gives the same bits on both.</summary>
    [Fact]
    public void DenseForwardCpuMatchesIlgpu()
    {
        var s = DenseShape.Create(3, 5, 4, 6, Activation.Tanh);
        var rng = new System.Random(1);
        float[] x = Enumerable.Range(0, 3 * 5 * 4).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        float[] p = Enumerable.Range(0, 3 * s.ParamStride).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        float[] Run<TF>(Device d) where TF : struct, IView<float>
        {
            using var bx = d.Upload<float>(x);
            using var bp = d.Upload<float>(p);
            using var by = d.Allocate<float>(3 * 5 * 6);
            d.Launch(15, new DenseLanesDotForwardKernel<TF, float, ScalarLanes> { A = new DenseLanesArgs<TF> { X = bx.View<TF>(), P = bp.View<TF>(), Y = by.View<TF>(), S = s } });
            d.Synchronize();
            return by.ToArray();
        }
        using var cpu = new CpuDevice();
        using var il = IlgpuDevice.CreateCpuAccelerator();
        var a = Run<CpuView<float>>(cpu);
        var b = Run<GpuView<float>>(il);
        Assert.Equal(a, b);
    }
}
