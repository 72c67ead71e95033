using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;
using EpgFast.Networks;
using EpgFast.Validation.Networks;
using Xunit;

namespace EpgFast.Tests.Networks;

/// <summary>
/// The MLP's two passes (<see cref="MlpBatch{TF}"/>: the lanes passes on the CPU launcher, the group kernels with
/// weights in shared memory on ILGPU devices) against the float64 reference: the output, and the parameter gradient
/// against a float64 backward that is itself checked against finite differences. The group kernels run on the CPU
/// launcher (one thread per group) and on ILGPU's CPU accelerator (real groups of threads, shared memory, barriers).
/// </summary>
public class MlpPassTests
{
    private sealed record Case(NetworkConfig Config, int Learners, int Rows, int XStride, int XOffset, int RowsPerGroup, int Threads, int TileRows);

    // 37 rows in chunks of 16 and tiles of 7: partial tiles inside chunks and a partial last chunk
    private static readonly Case Small = new(new NetworkConfig(5, 3) { Hidden1 = 7, Hidden2 = 6 }, 3, 37, 9, 2, 16, 4, 7);
    // 16 threads: the most ILGPU's CPU accelerator allows per group (it still runs them as real threads with barriers)
    private static readonly Case Ant = new(new NetworkConfig(29, 8), 3, 70, 40, 1, 32, 16, 16);
    // acting-sized: 3 rows per learner (the lanes forward takes dot products instead of transposing W)
    private static readonly Case Acting = new(new NetworkConfig(29, 8), 5, 3, 40, 1, 32, 16, 16);

    private static Case Get(string name) => name switch { "ant" => Ant, "acting" => Acting, _ => Small };

    public static TheoryData<string> Cases => new() { "small", "ant", "acting" };

    private sealed record Data(LearnerLayout Layout, float[] P, float[] X, float[] DY, float[] G0);

    private static Data Inputs(Case c)
    {
        var lay = new LearnerLayout(c.Config);
        var rng = new System.Random(7);
        float[] R(int n, double scale) => Enumerable.Range(0, n).Select(_ => (float)(scale * (rng.NextDouble() * 2 - 1))).ToArray();
        // weights of order 1 so tanh is far from linear and every layer matters
        return new Data(lay, R(c.Learners * lay.Stride, 0.6), R(c.Learners * c.Rows * c.XStride, 2), R(c.Learners * c.Rows * lay.Policy.Out, 1),
            R(c.Learners * lay.Stride, 0.1));
    }

    /// <summary>The float64 reference: y (Learners, Rows, Out) and g = G0 + dL/dparams with L = sum dY . y.</summary>
    private static (double[] Y, double[] G) Reference(Case c, Data a)
    {
        var m = a.Layout.Policy;
        int stride = a.Layout.Stride;
        var y = new List<double>();
        var g = a.G0.Select(v => (double)v).ToArray();
        for (int l = 0; l < c.Learners; l++)
        {
            var p = a.P.AsSpan(l * stride, stride).ToArray().Select(v => (double)v).ToArray();
            var x = a.X.AsSpan(l * c.Rows * c.XStride, c.Rows * c.XStride).ToArray().Select(v => (double)v).ToArray();
            var dy = a.DY.AsSpan(l * c.Rows * m.Out, c.Rows * m.Out).ToArray().Select(v => (double)v).ToArray();
            y.AddRange(NetworkReference.MlpRows(m, p, x, rows: c.Rows, stride: c.XStride, offset: c.XOffset));
            var gl = Backward(m, p, x, c.Rows, c.XStride, c.XOffset, dy);
            for (int i = 0; i < stride; i++) g[l * stride + i] += gl[i];
        }
        return (y.ToArray(), g);
    }

    /// <summary>Float64 backprop of sum dY . mlp(x) over the rows to the MLP's weights and biases (a block of the learner's stride).</summary>
    private static double[] Backward(MlpLayout m, double[] p, double[] x, int rows, int stride, int offset, double[] dy)
    {
        var g = new double[p.Length];
        for (int r = 0; r < rows; r++)
        {
            var xr = x.AsSpan(r * stride + offset, m.In).ToArray();
            var h1 = Layer(m.W1, m.B1, m.In, m.H1, xr).Select(Math.Tanh).ToArray();
            var h2 = Layer(m.W2, m.B2, m.H1, m.H2, h1).Select(Math.Tanh).ToArray();
            var dz3 = dy.AsSpan(r * m.Out, m.Out).ToArray();
            var dz2 = Back(m.W3, m.B3, m.H2, m.Out, h2, dz3).Select((v, j) => v * (1 - h2[j] * h2[j])).ToArray();
            var dz1 = Back(m.W2, m.B2, m.H1, m.H2, h1, dz2).Select((v, j) => v * (1 - h1[j] * h1[j])).ToArray();
            Back(m.W1, m.B1, m.In, m.H1, xr, dz1);
        }
        return g;

        double[] Layer(int w, int b, int nIn, int nOut, double[] v)
            => Enumerable.Range(0, nOut).Select(o => p[b + o] + Enumerable.Range(0, nIn).Sum(i => p[w + o * nIn + i] * v[i])).ToArray();

        // adds dz's outer product with the layer's input to g; returns W^T dz
        double[] Back(int w, int b, int nIn, int nOut, double[] input, double[] dz)
        {
            var dIn = new double[nIn];
            for (int o = 0; o < nOut; o++)
            {
                g[b + o] += dz[o];
                for (int i = 0; i < nIn; i++)
                {
                    g[w + o * nIn + i] += dz[o] * input[i];
                    dIn[i] += p[w + o * nIn + i] * dz[o];
                }
            }
            return dIn;
        }
    }

    [Fact]
    public void Float64BackwardMatchesFiniteDifferences()
    {
        var c = Small;
        var a = Inputs(c);
        var m = a.Layout.Policy;
        int stride = a.Layout.Stride;
        var p = a.P.AsSpan(0, stride).ToArray().Select(v => (double)v).ToArray();
        var x = a.X.AsSpan(0, c.Rows * c.XStride).ToArray().Select(v => (double)v).ToArray();
        var dy = a.DY.AsSpan(0, c.Rows * m.Out).ToArray().Select(v => (double)v).ToArray();
        int n0 = a.Layout.PolicyW1, n1 = a.Layout.LogStd; // the policy's weights and biases
        var fd = NetworkReference.FiniteDifference(th =>
        {
            var q = (double[])p.Clone();
            Array.Copy(th, 0, q, n0, n1 - n0);
            return NetworkReference.MlpRows(m, q, x, c.Rows, c.XStride, c.XOffset).Select((v, i) => v * dy[i]).Sum();
        }, p[n0..n1]);
        var g = Backward(m, p, x, c.Rows, c.XStride, c.XOffset, dy);
        for (int i = n0; i < n1; i++) Assert.Equal(fd[i - n0], g[i], 6);
    }

    /// <summary>MlpBatch forward + backward on the device's pass: (y, g) with g accumulated onto G0 (the pass adds).</summary>
    private static (float[] Y, float[] G) Device<TF>(Device d, Case c, Data a) where TF : struct, IView<float>
    {
        using var bp = d.Upload<float>(a.P);
        using var bx = d.Upload<float>(a.X);
        using var bdy = d.Upload<float>(a.DY);
        using var bg = d.Upload<float>(a.G0);
        using var mlp = new MlpBatch<TF>(d, a.Layout.Policy, c.Learners, c.Rows);
        mlp.Forward(bp, bx, c.Rows, c.XStride, c.XOffset);
        mlp.Backward(bp, bx, c.XStride, c.XOffset, bdy, bg);
        d.Synchronize();
        return (mlp.Y.ToArray(), bg.ToArray());
    }

    /// <summary>The group kernels launched directly with the case's chunking, tiling and threads: (y, g).</summary>
    private static (float[] Y, float[] G) Group<TF>(Device d, Case c, Data a) where TF : struct, IView<float>
    {
        var pol = a.Layout.Policy;
        using var bp = d.Upload<float>(a.P);
        using var bx = d.Upload<float>(a.X);
        using var bdy = d.Upload<float>(a.DY);
        using var bg = d.Upload<float>(a.G0);
        using var y = d.Allocate<float>(c.Learners * c.Rows * pol.Out);
        PolicyGroupForward.Run<TF>(d, PolicyGroupForward.Shape(pol, c.Learners, c.Rows, c.XStride, c.XOffset, c.RowsPerGroup, c.Threads, tileRows: c.TileRows), bp, bx, y);
        PolicyGroupBackward.Run<TF>(d, PolicyGroupBackward.Shape(pol, c.Learners, c.Rows, c.XStride, c.XOffset, tileRows: c.TileRows, threads: c.Threads), bp, bx, bdy, bg);
        d.Synchronize();
        return (y.ToArray(), bg.ToArray());
    }

    /// <summary>float32 against float64: the outputs to 3e-4, the gradients to 1e-4 of the larger of each entry and 1% of the largest.</summary>
    private static void AssertMatchesReference(Case c, Data a, (float[] Y, float[] G) r)
    {
        var (y, g) = Reference(c, a);
        VectorAssert.Close("y", y.Select(v => (float)v).ToArray(), r.Y, 3e-4, floor: 1e-3);
        VectorAssert.Close("g", g.Select(v => (float)v).ToArray(), r.G, 1e-4, floor: 1e-3);
        Assert.Contains(y, v => Math.Abs(v) > 0.5); // the output is not trivially small
        Assert.Contains(g, v => Math.Abs(v) > 1);   // nor the gradient
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void CpuLauncherPassMatchesFloat64(string name)
    {
        var c = Get(name);
        var a = Inputs(c);
        using var d = new CpuDevice();
        Assert.False(MlpPass.UsesGroups(d));
        AssertMatchesReference(c, a, Device<CpuView<float>>(d, c, a));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void IlgpuPassMatchesFloat64(string name)
    {
        var c = Get(name);
        var a = Inputs(c);
        using var d = IlgpuDevice.CreateCpuAccelerator();
        Assert.True(MlpPass.UsesGroups(d));
        AssertMatchesReference(c, a, Device<GpuView<float>>(d, c, a));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void GroupKernelsWithOtherTilingMatchFloat64OnBothLaunchers(string name)
    {
        var c = Get(name);
        var a = Inputs(c);
        using (var cpu = new CpuDevice()) AssertMatchesReference(c, a, Group<CpuView<float>>(cpu, c, a));
        using var il = IlgpuDevice.CreateCpuAccelerator();
        AssertMatchesReference(c, a, Group<GpuView<float>>(il, c, a));
    }

    [Fact]
    public void GroupPassKeepsNothingPerRowButTheOutput()
    {
        var lay = new LearnerLayout(Ant.Config);
        using var il = IlgpuDevice.CreateCpuAccelerator();
        long before = il.AllocatedBytes;
        using (new MlpBatch<GpuView<float>>(il, lay.Policy, 4, 512))
            Assert.Equal(4L * 512 * lay.Policy.Out * sizeof(float), il.AllocatedBytes - before); // y only
        using var cpu = new CpuDevice();
        before = cpu.AllocatedBytes;
        using (new MlpBatch<CpuView<float>>(cpu, lay.Policy, 4, 512))
        {
            long wt = 4L * Math.Max(lay.Policy.In * 64, 64 * 64) * sizeof(float);
            Assert.Equal(4L * 512 * (lay.Policy.Out + 4 * 64) * sizeof(float) + wt, cpu.AllocatedBytes - before); // y, h1, h2, dz1, dz2, one transposed W
        }
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
    public void AnMlpTooWideForSharedMemoryDoesNotFitOnIlgpuDevices()
    {
        var lay = new LearnerLayout(new NetworkConfig(29, 8) { Hidden1 = 256, Hidden2 = 256 });
        using var d = IlgpuDevice.CreateCpuAccelerator();
        var e = Assert.Throws<EpgException>(() => new MlpBatch<GpuView<float>>(d, lay.Policy, 2, 8));
        Assert.Equal(ExitCodes.DoesNotFit, e.ExitCode);
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
