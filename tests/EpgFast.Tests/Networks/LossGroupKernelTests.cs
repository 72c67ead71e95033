using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;
using EpgFast.Networks;
using EpgFast.Validation.Networks;
using Xunit;

namespace EpgFast.Tests.Networks;

/// <summary>
/// The loss network's one path, the group kernel (<see cref="LossGroupKernel{TF, TI, TV, TL}"/>, intermediates in
/// shared memory), against the float64 reference (<see cref="NetworkReference.LossNet"/>): the loss per learner, and
/// dMean, g (log-std) and dMem against central finite differences of the reference, as whole vectors at random small
/// shapes and, at the released shape (where a full finite-difference gradient costs minutes), along random directions
/// through all of them. On the CPU launcher (a group = one thread) and on ILGPU's CPU accelerator (real groups of 4,
/// 8 or 16 threads with shared memory and barriers); memory units on/off, MemoryThroughContext on/off, sampled rows
/// with repeats and two phi rows.
/// </summary>
public class LossGroupKernelTests
{
    private sealed record Outputs(float[] Loss, float[] DMean, float[] G, float[] DMem);

    /// <summary>Random inputs for a config and a number of learners, two per phi row.</summary>
    private sealed class Inputs
    {
        public Inputs(NetworkConfig c, int learners, int seed, bool prefill)
        {
            var rng = new System.Random(seed);
            float[] R(int n, double s) => Enumerable.Range(0, n).Select(_ => (float)(s * (rng.NextDouble() * 2 - 1))).ToArray();
            Config = c;
            Learners = learners;
            Lay = new LearnerLayout(c);
            var ll = new LossLayout(c);
            int N = c.BufferRows, M = c.ActSteps, mb = c.Minibatch;
            Phi = Enumerable.Range(0, learners / 2).SelectMany(m => ll.Initialize((ulong)(seed * 7 + m))).ToArray();
            // biases are zero at initialization: give them values so every term of the network matters
            for (int m = 0; m < learners / 2; m++)
                foreach (var (_, off, len, fanIn) in ll.Tensors)
                    if (fanIn == 0)
                        for (int i = 0; i < len; i++) Phi[m * ll.PhiSize + off + i] = (float)(0.6 * (rng.NextDouble() - 0.5));
            Traj = R(learners * N * ll.TrajDim, 1.5);
            Mean = R(learners * N * c.Act, 1);
            P = R(learners * Lay.Stride, 0.7);
            Mem = R(Math.Max(1, learners * c.MemoryUnits), 0.8);
            Idx = Enumerable.Range(0, learners * M).Select(_ => rng.Next(M)).ToArray(); // repeats allowed
            Sel = new RowSelection { RowBase = N - M, IdxStride = M, IdxOffset = (M / mb - 1) * mb };
            DMean = prefill ? R(learners * N * c.Act, 0.1) : new float[learners * N * c.Act];
            G = prefill ? R(learners * Lay.Stride, 0.1) : new float[learners * Lay.Stride];
            DMem = prefill ? R(Math.Max(1, learners * c.MemoryUnits), 0.1) : new float[Math.Max(1, learners * c.MemoryUnits)];
        }

        public NetworkConfig Config { get; }
        public int Learners { get; }
        public LearnerLayout Lay { get; }
        public float[] Phi, Traj, Mean, P, Mem, DMean, G, DMem;
        public int[] Idx;
        public RowSelection Sel;
        public const float Scale = 0.7f;
    }

    /// <summary>
    /// ForwardBackward on <paramref name="d"/>: through <see cref="LossNetwork{TF, TI}"/>, or, with
    /// <paramref name="threads"/> set, the group kernel launched directly with that many threads per group.
    /// </summary>
    private static Outputs Run<TF, TI>(Device d, Inputs x, int threads = 0)
        where TF : struct, IView<float> where TI : struct, IView<int>
    {
        using var b = new Buffers(d, x);
        using var net = new LossNetwork<TF, TI>(d, x.Lay, x.Learners, 2);
        var s = net.Shape;
        using var conv0t = d.Allocate<float>(net.Members * (s.TrajDim + s.Act) * s.K0 * s.C0);
        using var conv1t = d.Allocate<float>(net.Members * s.K1 * s.C0 * s.C1);
        using var conv1b = d.Allocate<float>(net.Members * s.K1 * s.C0 * s.C1);
        if (threads == 0)
            b.ForwardBackward(net);
        else
        {
            // one float per lane, as on the GPU
            d.Launch(net.Members * (s.TrajDim + s.Act) * s.K0, new LossConv0TransposeKernel<TF> { Phi = b.Phi.View<TF>(), Conv0T = conv0t.View<TF>(), S = s });
            d.Launch(net.Members * s.K1 * s.C0, new LossConv1TransposeKernel<TF> { Phi = b.Phi.View<TF>(), Conv1T = conv1t.View<TF>(), Conv1B = conv1b.View<TF>(), S = s });
            d.LaunchGroups(x.Learners, new LossGroupKernel<TF, TI, float, ScalarLanes>
            {
                Traj = b.Traj.View<TF>(), Mean = b.Mean.View<TF>(), P = b.P.View<TF>(), MemV = b.Mem.View<TF>(), Phi = b.Phi.View<TF>(), Conv0T = conv0t.View<TF>(), Conv1T = conv1t.View<TF>(), Conv1B = conv1b.View<TF>(), Idx = b.Idx.View<TI>(),
                Loss = net.Loss.View<TF>(), DMean = b.DMean.View<TF>(), G = b.G.View<TF>(), DMem = b.DMem.View<TF>(), S = net.Shape, Sel = x.Sel,
                Scale = Inputs.Scale, MemoryThroughContext = x.Config.MemoryThroughContext ? 1 : 0, Threads = threads,
            });
        }
        d.Synchronize();
        return new Outputs(net.Loss.ToArray(), b.DMean.ToArray(), b.G.ToArray(), b.DMem.ToArray());
    }

    /// <summary>An <see cref="Inputs"/>' arrays uploaded to a device, and one ForwardBackward over them.</summary>
    private sealed class Buffers(Device d, Inputs x) : IDisposable
    {
        public readonly DeviceBuffer<float> Phi = d.Upload<float>(x.Phi), Traj = d.Upload<float>(x.Traj), Mean = d.Upload<float>(x.Mean);
        public readonly DeviceBuffer<float> P = d.Upload<float>(x.P), Mem = d.Upload<float>(x.Mem);
        public readonly DeviceBuffer<int> Idx = d.Upload<int>(x.Idx);
        public readonly DeviceBuffer<float> DMean = d.Upload<float>(x.DMean), G = d.Upload<float>(x.G), DMem = d.Upload<float>(x.DMem);

        public void ForwardBackward<TF, TI>(LossNetwork<TF, TI> net) where TF : struct, IView<float> where TI : struct, IView<int>
            => net.ForwardBackward(Phi, Traj, Mean, P, Mem, Idx, x.Sel, Inputs.Scale, DMean, G, DMem);

        public void Dispose()
        {
            foreach (var buf in new[] { Phi, Traj, Mean, P, Mem, DMean, G, DMem }) buf.Dispose();
            Idx.Dispose();
        }
    }

    /// <summary>One learner's float64 inputs and its loss as a function of (mean, log-std, memory).</summary>
    private sealed class Learner
    {
        public Learner(Inputs x, int l)
        {
            var c = x.Config;
            var ll = new LossLayout(c);
            int N = c.BufferRows, A = c.Act, Mu = c.MemoryUnits;
            double[] D(float[] a, int from, int n) => a.AsSpan(from, n).ToArray().Select(v => (double)v).ToArray();
            _ll = ll;
            _phi = D(x.Phi, l / 2 * ll.PhiSize, ll.PhiSize);
            _traj = D(x.Traj, l * N * ll.TrajDim, N * ll.TrajDim);
            Mean = D(x.Mean, l * N * A, N * A);
            LogStd = D(x.P, l * x.Lay.Stride + x.Lay.LogStd, A);
            Mem = D(x.Mem, l * Mu, Mu);
            _rows = Enumerable.Range(0, c.Minibatch).Select(j => x.Sel.RowBase + x.Idx[l * x.Sel.IdxStride + x.Sel.IdxOffset + j]).ToArray();
            _throughContext = c.MemoryThroughContext;
        }

        private readonly LossLayout _ll;
        private readonly double[] _phi, _traj;
        private readonly int[] _rows;
        private readonly bool _throughContext;
        public readonly double[] Mean, LogStd, Mem;

        /// <summary>L_phi with the memory the head sees set to <paramref name="mem"/> (and the context path too with MemoryThroughContext; else the inputs' memory, detached as in the released code).</summary>
        public double Loss(double[] mean, double[] logStd, double[] mem)
            => NetworkReference.LossNet(_ll, _phi, _traj, mean, logStd, _throughContext ? mem : Mem, mem, _rows);
    }

    /// <summary>The float64 reference of a ForwardBackward: the loss per learner, and prefill + scale x the central finite-difference gradients.</summary>
    private static Outputs Float64(Inputs x)
    {
        var c = x.Config;
        int N = c.BufferRows, A = c.Act, Mu = c.MemoryUnits;
        var loss = new float[x.Learners];
        var dMean = (float[])x.DMean.Clone();
        var g = (float[])x.G.Clone();
        var dMem = (float[])x.DMem.Clone();
        for (int l = 0; l < x.Learners; l++)
        {
            var r = new Learner(x, l);
            loss[l] = (float)r.Loss(r.Mean, r.LogStd, r.Mem);
            var dm = NetworkReference.FiniteDifference(m => r.Loss(m, r.LogStd, r.Mem), r.Mean);
            var dls = NetworkReference.FiniteDifference(s => r.Loss(r.Mean, s, r.Mem), r.LogStd);
            var dmu = NetworkReference.FiniteDifference(u => r.Loss(r.Mean, r.LogStd, u), r.Mem);
            for (int i = 0; i < N * A; i++) dMean[l * N * A + i] += (float)(Inputs.Scale * dm[i]);
            for (int a = 0; a < A; a++) g[l * x.Lay.Stride + x.Lay.LogStd + a] += (float)(Inputs.Scale * dls[a]);
            for (int u = 0; u < Mu; u++) dMem[l * Mu + u] += (float)(Inputs.Scale * dmu[u]);
        }
        return new Outputs(loss, dMean, g, dMem);
    }

    /// <summary>
    /// At the released shape: the loss against the float64 reference, and for three random directions v through
    /// (mean, log-std, memory) of each learner, v . (the kernel's gradient - prefill) / scale against the central
    /// difference of the reference along v.
    /// </summary>
    private static void MatchesFloat64AlongDirections(Inputs x, Outputs o)
    {
        var c = x.Config;
        int N = c.BufferRows, A = c.Act, Mu = c.MemoryUnits;
        var rng = new System.Random(17);
        for (int l = 0; l < x.Learners; l++)
        {
            var r = new Learner(x, l);
            Assert.Equal(r.Loss(r.Mean, r.LogStd, r.Mem), o.Loss[l], 1e-4 * Math.Max(1, Math.Abs(o.Loss[l])));
            for (int k = 0; k < 3; k++)
            {
                double[] V(int n) => Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
                double[] vm = V(N * A), vs = V(A), vu = V(Mu);
                const double h = 1e-4;
                double[] Step(double[] a, double[] v, double t) => a.Select((e, i) => e + t * v[i]).ToArray();
                double fd = (r.Loss(Step(r.Mean, vm, h), Step(r.LogStd, vs, h), Step(r.Mem, vu, h))
                    - r.Loss(Step(r.Mean, vm, -h), Step(r.LogStd, vs, -h), Step(r.Mem, vu, -h))) / (2 * h);
                double dot = 0, scale = 0;
                for (int i = 0; i < N * A; i++) Add(vm[i], o.DMean[l * N * A + i] - x.DMean[l * N * A + i]);
                for (int a = 0; a < A; a++) Add(vs[a], o.G[l * x.Lay.Stride + x.Lay.LogStd + a] - x.G[l * x.Lay.Stride + x.Lay.LogStd + a]);
                for (int u = 0; u < Mu; u++) Add(vu[u], o.DMem[l * Mu + u] - x.DMem[l * Mu + u]);
                void Add(double v, double grad)
                {
                    dot += v * grad / Inputs.Scale;
                    scale += Math.Abs(v * grad / Inputs.Scale);
                }
                Assert.True(Math.Abs(dot - fd) <= 1e-3 * Math.Max(scale, 1e-3), $"learner {l}, direction {k}: v . grad {dot:g6} vs finite difference {fd:g6} (scale {scale:g3})");
            }
        }
    }

    private static void Close(string what, float[] expected, float[] actual, double rel = 1e-5)
        => VectorAssert.Close(what, expected, actual, rel, floor: 1e-6);

    private static void Same(Outputs r, Outputs o, double rel = 1e-5)
    {
        Close("loss", r.Loss, o.Loss, rel);
        Close("dmean", r.DMean, o.DMean, rel);
        Close("g", r.G, o.G, rel);
        Close("dmem", r.DMem, o.DMem, rel);
    }

    /// <summary>The released sizes (obs 29, act 8: N 512, 16/32 channels, ctx 32, head 16, minibatch 32), variants by name.</summary>
    private static NetworkConfig Released(string variant) => variant switch
    {
        "nomem" => new NetworkConfig(29, 8) { MemoryUnits = 0 },
        "memctx" => new NetworkConfig(29, 8) { MemoryThroughContext = true },
        _ => new NetworkConfig(29, 8),
    };

    /// <summary>A random small shape (GradientChecks.RandomConfig) with the memory units and MemoryThroughContext forced.</summary>
    private static NetworkConfig Small(int seed, int memory, bool throughContext)
        => GradientChecks.RandomConfig(seed) with { MemoryUnits = memory, MemoryThroughContext = throughContext };

    public static TheoryData<int, int, bool> SmallCases => new()
    {
        { 1, 0, false }, { 2, 3, false }, { 3, 2, true }, { 4, 0, true }, { 5, 3, true }, { 6, 1, false },
    };

    public static TheoryData<string> ReleasedCases => new() { "default", "nomem", "memctx" };

    /// <summary>float32 kernel against float64: 1e-4 of each entry's scale (1% of the vector's largest at least).</summary>
    private static void SameAsFloat64(Outputs r, Outputs o) => Same(r, o, 1e-4);

    [Theory]
    [MemberData(nameof(SmallCases))]
    public void CpuLauncherMatchesFloat64AtSmallShapes(int seed, int memory, bool throughContext)
    {
        var x = new Inputs(Small(seed, memory, throughContext), 6, seed, prefill: false);
        var r = Float64(x);
        using var d = new CpuDevice();
        SameAsFloat64(r, Run<CpuView<float>, CpuView<int>>(d, x));
        Assert.Contains(r.DMean, v => Math.Abs(v) > 1e-3f); // the gradients are not trivially zero
    }

    [Theory]
    [MemberData(nameof(ReleasedCases))]
    public void CpuLauncherMatchesFloat64AtReleasedShape(string variant)
    {
        var x = new Inputs(Released(variant), 4, 3, prefill: false);
        using var d = new CpuDevice();
        var o = Run<CpuView<float>, CpuView<int>>(d, x);
        MatchesFloat64AlongDirections(x, o);
        // the context path reaches rows that were not sampled (rows before the last M)
        int A = x.Config.Act;
        Assert.Contains(o.DMean.Take((x.Config.BufferRows - x.Config.ActSteps) * A), v => Math.Abs(v) > 1e-5f);
    }

    [Fact]
    public void AccumulatesIntoPrefilledGradients()
    {
        var x = new Inputs(Small(8, 2, true), 4, 8, prefill: true);
        var r = Float64(x);
        using var d = new CpuDevice();
        SameAsFloat64(r, Run<CpuView<float>, CpuView<int>>(d, x));
        using var il = IlgpuDevice.CreateCpuAccelerator();
        SameAsFloat64(r, Run<GpuView<float>, GpuView<int>>(il, x, 4));
    }

    [Theory]
    [MemberData(nameof(SmallCases))]
    public void IlgpuCpuAcceleratorMatchesFloat64AtSmallShapes(int seed, int memory, bool throughContext)
    {
        var x = new Inputs(Small(seed, memory, throughContext), 6, seed, prefill: false);
        var r = Float64(x);
        using var d = IlgpuDevice.CreateCpuAccelerator();
        SameAsFloat64(r, Run<GpuView<float>, GpuView<int>>(d, x, seed % 2 == 0 ? 4 : 8));
    }

    [Theory]
    [MemberData(nameof(ReleasedCases))]
    public void IlgpuCpuAcceleratorMatchesFloat64AtReleasedShape(string variant)
    {
        var x = new Inputs(Released(variant), 2, 5, prefill: false);
        using var d = IlgpuDevice.CreateCpuAccelerator();
        MatchesFloat64AlongDirections(x, Run<GpuView<float>, GpuView<int>>(d, x, 8));
    }

    [Fact]
    public void IlgpuDeviceMatchesFloat64WithItsOwnThreadCount()
    {
        var x = new Inputs(Small(9, 2, false), 4, 9, prefill: false);
        var r = Float64(x);
        using var d = IlgpuDevice.CreateCpuAccelerator();
        SameAsFloat64(r, Run<GpuView<float>, GpuView<int>>(d, x)); // LossNetwork's own thread count (the CPU accelerator's maximum)
    }

    [Fact]
    public void AllocatesNothingPerLearnerButTheLoss()
    {
        var x = new Inputs(Small(10, 2, false), 4, 10, prefill: false);
        using var d = new CpuDevice();
        long before = d.AllocatedBytes;
        using var net = new LossNetwork<CpuView<float>, CpuView<int>>(d, x.Lay, 4, 2);
        var sh = net.Shape;
        long conv = 2L * ((sh.TrajDim + sh.Act) * sh.K0 * sh.C0 + 2 * sh.K1 * sh.C0 * sh.C1) * sizeof(float); // per member (2 members): the reordered conv weights
        Assert.Equal(4L * sizeof(float) + conv, d.AllocatedBytes - before); // Loss and the conv weights, nothing per learner
    }

    [Fact]
    public void SharedBlockAtReleasedSizesIsWellUnder48KB()
    {
        var c = Released("default");
        var s = new LossLayout(c).Shape(1, 1, new LearnerLayout(c));
        Assert.Equal((102, 50), (s.Len0, s.Len1));
        // h0 + h1 + pool + ctx + conv0 const + head const + head act + row loss + rows + head mean
        Assert.Equal(102 * 16 + 50 * 32 + 32 + 32 + 16 + 16 + 32 * 16 + 32 + 32 + 32 * 8, LossGroup.SharedFloats(s));
        Assert.True(LossGroup.SharedFloats(s) * sizeof(float) <= IlgpuDevice.SharedBytesWithoutOptIn / 2);
    }

    [Fact]
    public void ABufferTooLargeForSharedMemoryDoesNotFitOnIlgpuDevicesAndRunsOnTheCpuLauncher()
    {
        var c = new NetworkConfig(29, 8) { BufferRows = 4096 }; // h0 alone: 818 x 16 floats
        var lay = new LearnerLayout(c);
        using var il = IlgpuDevice.CreateCpuAccelerator();
        var e = Assert.Throws<EpgException>(() => new LossNetwork<GpuView<float>, GpuView<int>>(il, lay, 1, 1));
        Assert.Equal(ExitCodes.DoesNotFit, e.ExitCode);
        using var d = new CpuDevice();
        using var net = new LossNetwork<CpuView<float>, CpuView<int>>(d, lay, 1, 1); // no limit: the scratch is ordinary memory
    }

    [Fact]
    public void LossGroupKernelCompilesToPtxWithSharedMemoryAndBarrier()
    {
        var t = typeof(LossGroupKernel<GpuView<float>, GpuView<int>, float, ScalarLanes>);
        Assert.Contains(t, PtxCompiler.AllGpuKernelTypes()); // so FoundationTests.PtxCompilesEveryKernel covers it
        string ptx = PtxCompiler.CompileToPtx(t);
        Assert.Contains("bar.sync", ptx);
        Assert.Contains(".shared", ptx);
    }
}
