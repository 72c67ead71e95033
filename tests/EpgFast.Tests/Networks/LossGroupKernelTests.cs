using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;
using EpgFast.Networks;
using EpgFast.Validation.Networks;
using Xunit;

namespace EpgFast.Tests.Networks;

/// <summary>
/// The loss network as one group kernel (<see cref="LossGroupKernel{TF, TI, TV, TL}"/>, intermediates in shared memory)
/// against the eight launches of <see cref="LossNetwork{TF, TI}"/> on the CPU launcher: Loss, dMean, g and dMem as
/// whole vectors, on the CPU launcher (a group = one thread) and on ILGPU's CPU accelerator (real groups of 4, 8 or
/// 16 threads with shared memory and barriers), at random small shapes and the released shape, memory units on/off,
/// MemoryThroughContext on/off, sampled rows with repeats and two phi rows.
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
    /// ForwardBackward on <paramref name="d"/>: through <see cref="LossNetwork{TF, TI}"/> with the given path, or,
    /// with <paramref name="threads"/> set, the group kernel launched directly with that many threads per group.
    /// </summary>
    private static Outputs Run<TF, TI>(Device d, Inputs x, bool? group, int threads = 0)
        where TF : struct, IView<float> where TI : struct, IView<int>
    {
        using var b = new Buffers(d, x);
        using var net = new LossNetwork<TF, TI>(d, x.Lay, x.Learners, 2, group);
        Assert.Equal(group ?? true, net.UsesGroupKernel);
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

    /// <summary>The reference: the eight launches on the CPU launcher.</summary>
    private static Outputs Launches(Inputs x)
    {
        using var d = new CpuDevice();
        return Run<CpuView<float>, CpuView<int>>(d, x, false);
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

    [Theory]
    [MemberData(nameof(SmallCases))]
    public void CpuLauncherGroupMatchesLaunchesAtSmallShapes(int seed, int memory, bool throughContext)
    {
        var x = new Inputs(Small(seed, memory, throughContext), 6, seed, prefill: false);
        var r = Launches(x);
        using var d = new CpuDevice();
        Same(r, Run<CpuView<float>, CpuView<int>>(d, x, true));
        Assert.Contains(r.DMean, v => Math.Abs(v) > 1e-3f); // the gradients are not trivially zero
    }

    [Theory]
    [MemberData(nameof(ReleasedCases))]
    public void CpuLauncherGroupMatchesLaunchesAtReleasedShape(string variant)
    {
        var x = new Inputs(Released(variant), 4, 3, prefill: false);
        var r = Launches(x);
        using var d = new CpuDevice();
        Same(r, Run<CpuView<float>, CpuView<int>>(d, x, null)); // the default path on the CPU launcher is the group kernel
        // the context path reaches rows that were not sampled (rows before the last M)
        int A = x.Config.Act;
        Assert.Contains(r.DMean.Take((x.Config.BufferRows - x.Config.ActSteps) * A), v => Math.Abs(v) > 1e-5f);
    }

    [Fact]
    public void GroupAccumulatesIntoPrefilledGradients()
    {
        var x = new Inputs(Small(8, 2, true), 4, 8, prefill: true);
        var r = Launches(x);
        using var d = new CpuDevice();
        Same(r, Run<CpuView<float>, CpuView<int>>(d, x, true));
        using var il = IlgpuDevice.CreateCpuAccelerator();
        Same(r, Run<GpuView<float>, GpuView<int>>(il, x, null, 4));
    }

    [Theory]
    [MemberData(nameof(SmallCases))]
    public void IlgpuCpuAcceleratorGroupMatchesLaunchesAtSmallShapes(int seed, int memory, bool throughContext)
    {
        var x = new Inputs(Small(seed, memory, throughContext), 6, seed, prefill: false);
        var r = Launches(x);
        using var d = IlgpuDevice.CreateCpuAccelerator();
        Same(r, Run<GpuView<float>, GpuView<int>>(d, x, null, seed % 2 == 0 ? 4 : 8));
    }

    [Theory]
    [MemberData(nameof(ReleasedCases))]
    public void IlgpuCpuAcceleratorGroupMatchesLaunchesAtReleasedShape(string variant)
    {
        var x = new Inputs(Released(variant), 2, 5, prefill: false);
        var r = Launches(x);
        using var d = IlgpuDevice.CreateCpuAccelerator();
        Same(r, Run<GpuView<float>, GpuView<int>>(d, x, null, 8));
    }

    [Fact]
    public void IlgpuDeviceUsesTheGroupKernelByDefault()
    {
        var x = new Inputs(Small(9, 2, false), 4, 9, prefill: false);
        var r = Launches(x);
        using var d = IlgpuDevice.CreateCpuAccelerator();
        Same(r, Run<GpuView<float>, GpuView<int>>(d, x, null)); // LossNetwork's own thread count (the CPU accelerator's maximum)
    }

    [Fact]
    public void GroupPathAllocatesNoScratchAndRecomputesActivationsWhenRead()
    {
        var x = new Inputs(Small(10, 2, false), 4, 10, prefill: false);
        using var d = new CpuDevice();
        using var b = new Buffers(d, x);
        long before = d.AllocatedBytes;
        using var grp = new LossNetwork<CpuView<float>, CpuView<int>>(d, x.Lay, 4, 2, true);
        var sh = grp.Shape;
        long conv0t = 2L * ((sh.TrajDim + sh.Act) * sh.K0 * sh.C0 + 2 * sh.K1 * sh.C0 * sh.C1) * sizeof(float); // per member (2 members): the transposed conv weights
        Assert.Equal(4L * sizeof(float) + conv0t, d.AllocatedBytes - before); // Loss and conv0t, nothing per learner
        Assert.Equal(0, grp.ScratchBytes);
        Assert.Null(grp.DZ0);
        using var lau = new LossNetwork<CpuView<float>, CpuView<int>>(d, x.Lay, 4, 2, false);
        Assert.True(lau.ScratchBytes > 0);
        b.ForwardBackward(grp);
        b.ForwardBackward(lau);
        Close("h0", lau.H0.ToArray(), grp.H0.ToArray());
        Close("h1", lau.H1.ToArray(), grp.H1.ToArray());
        Close("ctx", lau.Ctx.ToArray(), grp.Ctx.ToArray());
        Close("rowloss", lau.RowLoss.ToArray(), grp.RowLoss.ToArray());
        Close("loss", lau.Loss.ToArray(), grp.Loss.ToArray());
    }

    [Fact]
    public void SharedBlockAtReleasedSizesIsWellUnder48KB()
    {
        var c = Released("default");
        var s = new LossLayout(c).Shape(1, 1, new LearnerLayout(c));
        Assert.Equal((102, 50), (s.Len0, s.Len1));
        // h0 + h1 + pool + ctx + conv0 const + head const + head act + row loss + rows + head mean
        Assert.Equal(102 * 16 + 50 * 32 + 32 + 32 + 16 + 16 + 32 * 16 + 32 + 32 + 32 * 8, LossGroup.SharedFloats(s));
        Assert.True(LossGroup.SharedFloats(s) * sizeof(float) <= IlgpuDevice.MaxSharedBytes / 2);
    }

    [Fact]
    public void TooLargeBufferFallsBackToTheLaunches()
    {
        var c = new NetworkConfig(29, 8) { BufferRows = 4096 }; // h0 alone: 818 x 16 floats
        var lay = new LearnerLayout(c);
        using var d = new CpuDevice();
        using var net = new LossNetwork<CpuView<float>, CpuView<int>>(d, lay, 1, 1);
        Assert.False(net.UsesGroupKernel);
        Assert.Throws<EpgException>(() => new LossNetwork<CpuView<float>, CpuView<int>>(d, lay, 1, 1, true));
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
