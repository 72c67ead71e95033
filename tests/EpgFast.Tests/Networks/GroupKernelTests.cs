using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;
using EpgFast.Networks;
using Xunit;

namespace EpgFast.Tests.Networks;

/// <summary>
/// Group kernels (shared memory + barriers): the policy forward with weights staged in shared memory against
/// the three dense launches of <see cref="MlpBatch{TF}"/>, on the CPU launcher and on ILGPU's CPU accelerator
/// (which runs real groups of threads, shared memory and barriers).
/// </summary>
public class GroupKernelTests
{
    private sealed record Case(NetworkConfig Config, int Learners, int Rows, int XStride, int XOffset, int RowsPerGroup, int Threads, int TileRows);

    // 37 rows in chunks of 16 and tiles of 7: partial tiles inside chunks and a partial last chunk
    private static readonly Case Small = new(new NetworkConfig(5, 3) { Hidden1 = 7, Hidden2 = 6 }, 3, 37, 9, 2, 16, 4, 7);
    // 16 threads: the most ILGPU's CPU accelerator allows per group (it still runs them as real threads with barriers)
    private static readonly Case Ant = new(new NetworkConfig(29, 8), 3, 70, 40, 1, 32, 16, 16);
    // acting-sized: 3 rows per learner (the lanes forward takes dot products instead of transposing W)
    private static readonly Case Acting = new(new NetworkConfig(29, 8), 5, 3, 40, 1, 32, 16, 16);

    private static (float[] P, float[] X) Inputs(Case c, LearnerLayout lay)
    {
        var rng = new System.Random(7);
        // weights of order 1 so tanh is far from linear and every layer matters
        float[] p = Enumerable.Range(0, c.Learners * lay.Stride).Select(_ => (float)(rng.NextDouble() * 2 - 1) * 0.6f).ToArray();
        float[] x = Enumerable.Range(0, c.Learners * c.Rows * c.XStride).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        return (p, x);
    }

    /// <summary>The reference: MlpBatch.Forward on the CPU launcher; returns (y, h1, h2).</summary>
    private static (float[] Y, float[] H1, float[] H2) Reference(Case c)
    {
        var lay = new LearnerLayout(c.Config);
        var (p, x) = Inputs(c, lay);
        using var d = new CpuDevice();
        using var bp = d.Upload<float>(p);
        using var bx = d.Upload<float>(x);
        using var mlp = new MlpBatch<CpuView<float>>(d, lay.Policy, c.Learners, c.Rows);
        mlp.Forward(bp, bx, c.Rows, c.XStride, c.XOffset);
        return (mlp.Y.ToArray(), mlp.H1.ToArray(), mlp.H2.ToArray());
    }

    private static (float[] Y, float[] H1, float[] H2) Group<TF>(Device d, Case c) where TF : struct, IView<float>
    {
        var lay = new LearnerLayout(c.Config);
        var (p, x) = Inputs(c, lay);
        var pol = lay.Policy;
        using var bp = d.Upload<float>(p);
        using var bx = d.Upload<float>(x);
        using var y = d.Allocate<float>(c.Learners * c.Rows * pol.Out);
        using var h1 = d.Allocate<float>(c.Learners * c.Rows * pol.H1);
        using var h2 = d.Allocate<float>(c.Learners * c.Rows * pol.H2);
        var s = PolicyGroupForward.Shape(pol, c.Learners, c.Rows, c.XStride, c.XOffset, c.RowsPerGroup, c.Threads, tileRows: c.TileRows);
        PolicyGroupForward.Run<TF>(d, s, bp, bx, y, h1, h2);
        d.Synchronize();
        return (y.ToArray(), h1.ToArray(), h2.ToArray());
    }

    /// <summary>
    /// Forward outputs: the group kernels sum in four partial sums, the dense kernels in one, so float32 rounding differs:
    /// about 3e-6 absolute on outputs of a few units, 1e-4 of Close's floor (1% of the largest output). The float64
    /// comparisons are GradientTests' (every path, 1e-3 of the reference's scale).
    /// </summary>
    private const double ForwardTolerance = 3e-4;

    private static void Close(float[] expected, float[] actual, double rel)
        => VectorAssert.Close("output", expected, actual, rel, floor: 1e-3);

    public static TheoryData<string> Cases => new() { "small", "ant" };

    private static Case Get(string name) => name switch { "ant" => Ant, "acting" => Acting, _ => Small };

    [Theory]
    [MemberData(nameof(Cases))]
    public void PolicyGroupForwardMatchesMlpBatchOnCpuLauncher(string name)
    {
        var c = Get(name);
        var r = Reference(c);
        using var d = new CpuDevice();
        var g = Group<CpuView<float>>(d, c);
        Close(r.Y, g.Y, ForwardTolerance);
        Close(r.H1, g.H1, ForwardTolerance);
        Close(r.H2, g.H2, ForwardTolerance);
        Assert.Contains(r.Y, v => Math.Abs(v) > 0.5f); // the output is not trivially small
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PolicyGroupForwardMatchesMlpBatchOnIlgpuCpuAccelerator(string name)
    {
        var c = Get(name);
        var r = Reference(c);
        using var d = IlgpuDevice.CreateCpuAccelerator();
        var g = Group<GpuView<float>>(d, c);
        Close(r.Y, g.Y, ForwardTolerance);
        Close(r.H1, g.H1, ForwardTolerance);
        Close(r.H2, g.H2, ForwardTolerance);
    }

    [Fact]
    public void PolicyGroupForwardWithoutHiddenWritesOnlyTheMean()
    {
        var c = Small;
        var r = Reference(c);
        var lay = new LearnerLayout(c.Config);
        var (p, x) = Inputs(c, lay);
        using var d = IlgpuDevice.CreateCpuAccelerator();
        using var bp = d.Upload<float>(p);
        using var bx = d.Upload<float>(x);
        using var y = d.Allocate<float>(c.Learners * c.Rows * lay.Policy.Out);
        PolicyGroupForward.Run<GpuView<float>>(d, PolicyGroupForward.Shape(lay.Policy, c.Learners, c.Rows, c.XStride, c.XOffset, 8, 8), bp, bx, y);
        d.Synchronize();
        Close(r.Y, y.ToArray(), ForwardTolerance);
    }

    /// <summary>MlpBatch forward + backward on one path: (y, g) with g accumulated onto a nonzero start (the kernel adds).</summary>
    private static (float[] Y, float[] G) ForwardBackward<TF>(Device d, Case c, MlpPath path) where TF : struct, IView<float>
    {
        var lay = new LearnerLayout(c.Config);
        var (p, x) = Inputs(c, lay);
        var rng = new System.Random(11);
        float[] dy = Enumerable.Range(0, c.Learners * c.Rows * lay.Policy.Out).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        float[] g0 = Enumerable.Range(0, c.Learners * lay.Stride).Select(_ => (float)(rng.NextDouble() * 0.2 - 0.1)).ToArray();
        using var bp = d.Upload<float>(p);
        using var bx = d.Upload<float>(x);
        using var bdy = d.Upload<float>(dy);
        using var bg = d.Upload<float>(g0);
        using var mlp = new MlpBatch<TF>(d, lay.Policy, c.Learners, c.Rows, path);
        mlp.Forward(bp, bx, c.Rows, c.XStride, c.XOffset);
        mlp.Backward(bp, bx, c.XStride, c.XOffset, bdy, bg);
        d.Synchronize();
        return (mlp.Y.ToArray(), bg.ToArray());
    }

    public static TheoryData<string, MlpPath> BackwardCases => new()
    {
        { "small", MlpPath.Group }, { "small", MlpPath.GroupRecompute }, { "ant", MlpPath.Group }, { "ant", MlpPath.GroupRecompute },
        { "small", MlpPath.Lanes }, { "ant", MlpPath.Lanes }, { "acting", MlpPath.Lanes },
    };

    [Theory]
    [MemberData(nameof(BackwardCases))]
    public void UpdatePathMatchesDenseLaunchesOnCpuLauncher(string name, MlpPath path)
    {
        var c = Get(name);
        using var d = new CpuDevice();
        var dense = ForwardBackward<CpuView<float>>(d, c, MlpPath.Dense);
        var group = ForwardBackward<CpuView<float>>(d, c, path);
        Close(dense.Y, group.Y, ForwardTolerance);
        Close(dense.G, group.G, 1e-4);
        Assert.Contains(dense.G, v => Math.Abs(v) > 1f); // the gradient is not trivially small
    }

    [Theory]
    [MemberData(nameof(BackwardCases))]
    public void UpdatePathMatchesDenseLaunchesOnIlgpuCpuAccelerator(string name, MlpPath path)
    {
        var c = Get(name);
        using var cpu = new CpuDevice();
        var dense = ForwardBackward<CpuView<float>>(cpu, c, MlpPath.Dense);
        using var d = IlgpuDevice.CreateCpuAccelerator(); // groups of up to 16 real threads with barriers
        var group = ForwardBackward<GpuView<float>>(d, c, path);
        Close(dense.Y, group.Y, ForwardTolerance);
        Close(dense.G, group.G, 1e-4);
    }

    [Fact]
    public void RecomputePathKeepsNoHiddenActivations()
    {
        var lay = new LearnerLayout(Ant.Config);
        using var d = new CpuDevice();
        long before = d.AllocatedBytes;
        using var dense = new MlpBatch<CpuView<float>>(d, lay.Policy, 4, 512, MlpPath.Dense);
        long denseBytes = d.AllocatedBytes - before;
        using var rec = new MlpBatch<CpuView<float>>(d, lay.Policy, 4, 512, MlpPath.GroupRecompute);
        long recBytes = d.AllocatedBytes - before - denseBytes;
        Assert.Equal(4L * 512 * lay.Policy.Out * sizeof(float), recBytes); // y only
        Assert.Equal(4L * 512 * (lay.Policy.Out + 4 * 64) * sizeof(float), denseBytes); // y, h1, h2, dh1, dh2
        Assert.Throws<InvalidOperationException>(() => rec.H1);
    }

    [Fact]
    public void PolicyGroupBackwardCompilesToPtxWithSharedMemoryAndBarrier()
    {
        var t = typeof(PolicyGroupBackwardKernel<GpuView<float>>);
        Assert.Contains(t, PtxCompiler.AllGpuKernelTypes());
        string ptx = PtxCompiler.CompileToPtx(t);
        Assert.Contains("bar.sync", ptx);
        Assert.Contains(".shared", ptx);
    }

    [Fact]
    public void IlgpuLauncherRejectsTooMuchSharedMemory()
    {
        var c = Ant;
        var lay = new LearnerLayout(c.Config);
        using var d = IlgpuDevice.CreateCpuAccelerator();
        using var b = d.Allocate<float>(c.Learners * c.Rows * c.XStride + c.Learners * lay.Stride);
        var s = PolicyGroupForward.Shape(lay.Policy, c.Learners, c.Rows, c.XStride, c.XOffset, 64, 16, tileRows: 64); // 6672 + 64 * 157 floats = 67 KB
        var e = Assert.Throws<EpgException>(() => PolicyGroupForward.Run<GpuView<float>>(d, s, b, b, b));
        Assert.Contains("shared memory", e.Message);
    }

    [Fact]
    public void PolicyGroupForwardCompilesToPtxWithSharedMemoryAndBarrier()
    {
        var t = typeof(PolicyGroupForwardKernel<GpuView<float>>);
        Assert.Contains(t, PtxCompiler.AllGpuKernelTypes()); // so FoundationTests.PtxCompilesEveryKernel covers it
        string ptx = PtxCompiler.CompileToPtx(t);
        Assert.Contains("bar.sync", ptx);
        Assert.Contains(".shared", ptx);
    }
}
