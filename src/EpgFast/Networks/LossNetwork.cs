using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;

namespace EpgFast.Networks;

/// <summary>
/// The EPG loss network L_phi over a batch of learners (see <see cref="LossLayout"/> for phi and
/// <see cref="LossNetShape"/> for the architecture). phi is (Members, PhiSize); learner l uses phi row
/// l / LearnersPerMember, so W ES members with LearnersPerMember learners each run in one batch.
/// <para>ForwardBackward recomputes the whole network from its inputs (nothing is cached across calls):
/// the context path over all N buffer rows, the head at the minibatch rows, the loss per learner, and the
/// gradients to the policy mean at every buffer row (context path) and at the sampled rows (head), to the
/// log-std (both paths) and to the memory units (head; also context with MemoryThroughContext).</para>
/// </summary>
public sealed class LossNetwork<TF, TI> : IDisposable where TF : struct, IView<float> where TI : struct, IView<int>
{
    private readonly Device _device;
    private readonly int _memoryThroughContext;

    /// <param name="device">where the buffers live and the kernels run</param>
    /// <param name="learner">the learners' layout (sizes, the log-std's place in a parameter block)</param>
    /// <param name="learners">learners in the batch</param>
    /// <param name="learnersPerMember">consecutive learners that share one phi row</param>
    /// <param name="groupKernel">true: always the group kernel (<see cref="LossGroupKernel{TF, TI, TV, TL}"/>, one launch, intermediates in
    /// shared memory), false: always the eight launches, null (the default): the group kernel where it fits the device
    /// (see <see cref="UsesGroupKernel"/>).</param>
    public LossNetwork(Device device, LearnerLayout learner, int learners, int learnersPerMember, bool? groupKernel = null)
    {
        if (learnersPerMember <= 0 || learners % learnersPerMember != 0)
            throw new EpgException($"loss network: {learners} learners do not split into groups of {learnersPerMember}");
        _device = device;
        Layout = new LossLayout(learner.Config);
        Shape = Layout.Shape(learners, learnersPerMember, learner);
        _memoryThroughContext = learner.Config.MemoryThroughContext ? 1 : 0;
        _groupThreads = GroupThreads(device);
        bool fits = (long)LossGroup.SharedFloats(Shape) * sizeof(float) <= IlgpuDevice.MaxSharedBytes;
        if (groupKernel == true && !fits)
            throw new EpgException($"loss network: the group kernel needs {LossGroup.SharedFloats(Shape) * sizeof(float)} bytes of shared memory per learner; the limit is {IlgpuDevice.MaxSharedBytes}");
        UsesGroupKernel = groupKernel ?? fits;
        Loss = device.Allocate<float>(learners);
        if (UsesGroupKernel)
        {
            // one lane width for the three lanes phases: it divides both conv0's and conv1's channel counts
            _laneWidth = Math.Min(LaneWidths.Dividing(device, Shape.C0), LaneWidths.Dividing(device, Shape.C1)); // powers of two: the smaller divides both
            _conv0T = device.Allocate<float>(Members * (Shape.TrajDim + Shape.Act) * Shape.K0 * Shape.C0);
            _conv1T = device.Allocate<float>(Members * Shape.K1 * Shape.C0 * Shape.C1);
            _conv1B = device.Allocate<float>(Members * Shape.K1 * Shape.C0 * Shape.C1);
            return;
        }
        var s = Shape;
        _fwd = AllocateForward();
        DCtx = device.Allocate<float>(learners * s.Ctx);
        DPool = device.Allocate<float>(learners * s.C1);
        DZ0 = device.Allocate<float>(learners * s.Len0 * s.C0);
        DZ1 = device.Allocate<float>(learners * s.Len1 * s.C1);
    }

    /// <summary>Threads per group of the group kernel on <paramref name="device"/> (1 on the CPU launcher, which runs a group on one thread).</summary>
    private static int GroupThreads(Device device)
        => device is IlgpuDevice ilgpu ? Math.Min(LossGroup.DefaultThreads, ilgpu.Accelerator.MaxNumThreadsPerGroup) : 1;

    /// <summary>Forward activation buffers (the launch path's; the group path's only when read, see <see cref="H0"/>).</summary>
    private sealed record Forward(DeviceBuffer<float> H0, DeviceBuffer<float> H1, DeviceBuffer<float> Pool, DeviceBuffer<float> Ctx,
        DeviceBuffer<float> HeadAct, DeviceBuffer<float> RowLoss, DeviceBuffer<float> Part)
    {
        public IEnumerable<DeviceBuffer<float>> All => [H0, H1, Pool, Ctx, HeadAct, RowLoss, Part];
    }

    /// <summary>The inputs of the last ForwardBackward on the group path (to recompute the activations when they are read).</summary>
    private sealed record Inputs(DeviceBuffer<float> Phi, DeviceBuffer<float> Traj, DeviceBuffer<float> Mean, DeviceBuffer<float> P,
        DeviceBuffer<float> Mem, DeviceBuffer<int> Idx, RowSelection Sel);

    private readonly int _groupThreads;
    private readonly int _laneWidth;                // floats per lane of the group kernel's lanes phases (LaneWidths.Dividing)
    private readonly DeviceBuffer<float>? _conv0T;  // conv0t: (Members, (TrajDim + Act) K0, C0), the group path's conv0 weights
    private readonly DeviceBuffer<float>? _conv1T;  // conv1t: (Members, K1 C0, C1), conv1's weights for its forward
    private readonly DeviceBuffer<float>? _conv1B;  // conv1b: (Members, K1 C1, C0), conv1's weights for its backward
    private Forward? _fwd;

    /// <summary>The group kernel's buffers and settings of one call (its lane type chosen afterwards).</summary>
    private readonly record struct LossGroupArgs(TF Traj, TF Mean, TF P, TF MemV, TF Phi, TF Conv0T, TF Conv1T, TF Conv1B, TI Idx, TF Loss,
        TF DMean, TF G, TF DMem, RowSelection Sel, float Scale);

    private void LaunchGroup<TV, TL>(in LossGroupArgs a) where TV : unmanaged where TL : struct, ILanes<TV>
        => _device.LaunchGroups(Shape.Learners, new LossGroupKernel<TF, TI, TV, TL>
        {
            Traj = a.Traj, Mean = a.Mean, P = a.P, MemV = a.MemV, Phi = a.Phi, Conv0T = a.Conv0T, Conv1T = a.Conv1T, Conv1B = a.Conv1B, Idx = a.Idx, Loss = a.Loss,
            DMean = a.DMean, G = a.G, DMem = a.DMem, S = Shape, Sel = a.Sel, Scale = a.Scale,
            MemoryThroughContext = _memoryThroughContext, Threads = _groupThreads,
        });
    private Inputs? _last;
    private bool _fwdStale;

    private Forward AllocateForward()
    {
        var s = Shape;
        int L = s.Learners;
        return new Forward(
            _device.Allocate<float>(L * s.Len0 * s.C0), _device.Allocate<float>(L * s.Len1 * s.C1), _device.Allocate<float>(L * s.C1),
            _device.Allocate<float>(L * s.Ctx), _device.Allocate<float>(L * s.Minibatch * s.Hidden), _device.Allocate<float>(L * s.Minibatch),
            _device.Allocate<float>(L * s.Minibatch * s.PartDim));
    }

    public LossLayout Layout { get; }
    public LossNetShape Shape { get; }
    public int Learners => Shape.Learners;
    public int Members => Shape.Learners / Shape.LearnersPerMember;

    /// <summary>
    /// True: ForwardBackward is one launch of <see cref="LossGroupKernel{TF, TI, TV, TL}"/> (one group per learner, every
    /// intermediate in shared memory, so none of the per-learner scratch buffers below is allocated). The default
    /// wherever the shared block fits <see cref="IlgpuDevice.MaxSharedBytes"/> (16.6 KB at the released sizes): on
    /// ILGPU devices, and on the CPU launcher too, where a group runs on one thread over a cache-resident scratch block
    /// and is faster than the eight launches (bench/RESULTS.md, LossGroupBench). False: the eight launches.
    /// </summary>
    public bool UsesGroupKernel { get; }

    /// <summary>
    /// Activations of the last call: h0 (L, Len0, C0), h1 (L, Len1, C1), pool (L, C1), ctx (L, Ctx), head hidden (L, mb, Hidden).
    /// On the group path they live only in shared memory: the first read after a call allocates these buffers and
    /// recomputes them with the forward launches from the call's input buffers (so read them before changing those).
    /// </summary>
    public DeviceBuffer<float> H0 => Activations().H0;
    public DeviceBuffer<float> H1 => Activations().H1;
    public DeviceBuffer<float> Pool => Activations().Pool;
    public DeviceBuffer<float> Ctx => Activations().Ctx;
    public DeviceBuffer<float> HeadAct => Activations().HeadAct;
    /// <summary>Per-row scratch: row loss (L, mb), head gradient parts (L, mb, Ctx + 2 Act + Mem); recomputed like <see cref="H0"/> on the group path.</summary>
    public DeviceBuffer<float> RowLoss => Activations().RowLoss;
    public DeviceBuffer<float> Part => Activations().Part;
    /// <summary>Backward scratch of the launch path: dctx (L, Ctx), dpool (L, C1), dz0 (L, Len0, C0), dz1 (L, Len1, C1); null on the group path.</summary>
    public DeviceBuffer<float>? DCtx { get; }
    public DeviceBuffer<float>? DPool { get; }
    public DeviceBuffer<float>? DZ0 { get; }
    public DeviceBuffer<float>? DZ1 { get; }
    /// <summary>loss: (Learners), L_phi of the last call (unscaled).</summary>
    public DeviceBuffer<float> Loss { get; }

    /// <summary>Device bytes of the per-learner scratch (everything but Loss and the group path's per-member conv0 weights) the chosen path keeps allocated.</summary>
    public long ScratchBytes => ((_fwd?.All ?? []).Concat(new[] { DCtx, DPool, DZ0, DZ1 }.OfType<DeviceBuffer<float>>())).Sum(b => (long)b.Length * sizeof(float));

    private Forward Activations()
    {
        if (!UsesGroupKernel) return _fwd!;
        _fwd ??= AllocateForward();
        if (_fwdStale && _last is { } x)
        {
            RunForward(x.Phi.View<TF>(), x.Traj.View<TF>(), x.Mean.View<TF>(), x.P.View<TF>(), x.Mem.View<TF>(), x.Idx.View<TI>(), x.Sel, _fwd);
            _device.Synchronize();
            _fwdStale = false;
        }
        return _fwd;
    }

    /// <summary>The launch path's forward: conv0, conv1, pool + ctx, head (rows, hidden, row losses and the head's gradient parts).</summary>
    private void RunForward(TF phiV, TF trajV, TF meanV, TF pV, TF memV, TI idxV, RowSelection sel, Forward f)
    {
        var s = Shape;
        int L = s.Learners;
        _device.Launch(L * s.Len0, new LossConv0ForwardKernel<TF> { Traj = trajV, Mean = meanV, P = pV, MemV = memV, Phi = phiV, H0 = f.H0.View<TF>(), S = s });
        _device.Launch(L * s.Len1, new LossConv1ForwardKernel<TF> { H0 = f.H0.View<TF>(), Phi = phiV, H1 = f.H1.View<TF>(), S = s });
        _device.Launch(L, new LossContextForwardKernel<TF> { H1 = f.H1.View<TF>(), Phi = phiV, Pool = f.Pool.View<TF>(), CtxOut = f.Ctx.View<TF>(), S = s });
        _device.Launch(L * s.Minibatch, new LossHeadKernel<TF, TI>
        {
            Traj = trajV, Mean = meanV, P = pV, MemV = memV, CtxIn = f.Ctx.View<TF>(), Phi = phiV, Idx = idxV,
            HeadAct = f.HeadAct.View<TF>(), RowLoss = f.RowLoss.View<TF>(), Part = f.Part.View<TF>(), S = s, Sel = sel,
        });
    }

    /// <summary>
    /// Computes L_phi per learner into <see cref="Loss"/> and adds scale * its gradients to the accumulators.
    /// </summary>
    /// <param name="phi">(Members, PhiSize)</param>
    /// <param name="traj">(Learners, N, TrajDim): normalized, time-ordered trajectory rows (oldest first, zero padding at the start of life)</param>
    /// <param name="mean">(Learners, N, Act): the current policy's mean at every buffer row (PolicyBatch.Forward over traj's obs columns)</param>
    /// <param name="p">(Learners, Stride): learner parameters (the log-std is read from them)</param>
    /// <param name="mem">(Learners, MemoryUnits): memory units (MemoryBatch.Forward)</param>
    /// <param name="idx">sampled row indices (ints)</param>
    /// <param name="sel">row j of learner l is sel.RowBase + idx[l * sel.IdxStride + sel.IdxOffset + j], j &lt; Minibatch</param>
    /// <param name="scale">weight of L_phi in the total loss (1 - alpha)</param>
    /// <param name="dMean">(Learners, N, Act), accumulated into</param>
    /// <param name="g">(Learners, Stride): the log-std gradient is accumulated at LearnerLayout.LogStd</param>
    /// <param name="dMem">(Learners, MemoryUnits), accumulated into</param>
    public void ForwardBackward(DeviceBuffer<float> phi, DeviceBuffer<float> traj, DeviceBuffer<float> mean, DeviceBuffer<float> p,
        DeviceBuffer<float> mem, DeviceBuffer<int> idx, RowSelection sel, float scale,
        DeviceBuffer<float> dMean, DeviceBuffer<float> g, DeviceBuffer<float> dMem)
    {
        var s = Shape;
        int L = s.Learners;
        TF phiV = phi.View<TF>(), trajV = traj.View<TF>(), meanV = mean.View<TF>(), pV = p.View<TF>(), memV = mem.View<TF>();
        TI idxV = idx.View<TI>();
        if (UsesGroupKernel)
        {
            TF conv0t = _conv0T!.View<TF>(), conv1t = _conv1T!.View<TF>(), conv1b = _conv1B!.View<TF>();
            _device.Launch(Members * (s.TrajDim + s.Act) * s.K0, new LossConv0TransposeKernel<TF> { Phi = phiV, Conv0T = conv0t, S = s });
            _device.Launch(Members * s.K1 * s.C0, new LossConv1TransposeKernel<TF> { Phi = phiV, Conv1T = conv1t, Conv1B = conv1b, S = s });
            var k = new LossGroupArgs
            {
                Traj = trajV, Mean = meanV, P = pV, MemV = memV, Phi = phiV, Conv0T = conv0t, Conv1T = conv1t, Conv1B = conv1b, Idx = idxV,
                Loss = Loss.View<TF>(), DMean = dMean.View<TF>(), G = g.View<TF>(), DMem = dMem.View<TF>(), Sel = sel, Scale = scale,
            };
            switch (_laneWidth)
            {
                case 16: LaunchGroup<System.Runtime.Intrinsics.Vector512<float>, Lanes16>(k); break;
                case 8: LaunchGroup<System.Runtime.Intrinsics.Vector256<float>, Lanes8>(k); break;
                default: LaunchGroup<float, ScalarLanes>(k); break;
            }
            _last = new Inputs(phi, traj, mean, p, mem, idx, sel);
            _fwdStale = true;
            return;
        }
        var f = _fwd!;
        RunForward(phiV, trajV, meanV, pV, memV, idxV, sel, f);
        _device.Launch(L, new LossHeadReduceKernel<TF, TI>
        {
            RowLoss = f.RowLoss.View<TF>(), Part = f.Part.View<TF>(), Phi = phiV, Idx = idxV, Loss = Loss.View<TF>(), DCtx = DCtx!.View<TF>(),
            DPool = DPool!.View<TF>(), H1 = f.H1.View<TF>(), DZ1 = DZ1!.View<TF>(), DMean = dMean.View<TF>(), G = g.View<TF>(), DMem = dMem.View<TF>(), S = s, Sel = sel, Scale = scale,
        });
        _device.Launch(L * s.Len0, new LossConv1BackwardKernel<TF> { H0 = f.H0.View<TF>(), DZ1 = DZ1.View<TF>(), Phi = phiV, DZ0 = DZ0!.View<TF>(), S = s });
        _device.Launch(L * s.Rows, new LossConv0BackwardMeanKernel<TF> { DZ0 = DZ0.View<TF>(), Phi = phiV, DMean = dMean.View<TF>(), S = s, Scale = scale });
        _device.Launch(L, new LossConv0BackwardConstKernel<TF>
        {
            DZ0 = DZ0.View<TF>(), Phi = phiV, G = g.View<TF>(), DMem = dMem.View<TF>(), S = s, Scale = scale, MemoryThroughContext = _memoryThroughContext,
        });
    }

    /// <summary>Flops of one ForwardBackward over all learners.</summary>
    public long Flops => Layout.FlopsPerLearner * Learners;

    public void Dispose()
    {
        foreach (var b in (_fwd?.All ?? []).Concat(new[] { DCtx, DPool, DZ0, DZ1, Loss, _conv0T, _conv1T, _conv1B }.OfType<DeviceBuffer<float>>())) b.Dispose();
    }
}
