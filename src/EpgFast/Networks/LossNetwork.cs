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

    public LossNetwork(Device device, LearnerLayout learner, int learners, int learnersPerMember)
    {
        if (learnersPerMember <= 0 || learners % learnersPerMember != 0)
            throw new EpgException($"loss network: {learners} learners do not split into groups of {learnersPerMember}");
        _device = device;
        Layout = new LossLayout(learner.Config);
        Shape = Layout.Shape(learners, learnersPerMember, learner);
        _memoryThroughContext = learner.Config.MemoryThroughContext ? 1 : 0;
        var s = Shape;
        H0 = device.Allocate<float>(learners * s.Len0 * s.C0);
        H1 = device.Allocate<float>(learners * s.Len1 * s.C1);
        Pool = device.Allocate<float>(learners * s.C1);
        Ctx = device.Allocate<float>(learners * s.Ctx);
        HeadAct = device.Allocate<float>(learners * s.Minibatch * s.Hidden);
        RowLoss = device.Allocate<float>(learners * s.Minibatch);
        Part = device.Allocate<float>(learners * s.Minibatch * s.PartDim);
        DCtx = device.Allocate<float>(learners * s.Ctx);
        DPool = device.Allocate<float>(learners * s.C1);
        DZ0 = device.Allocate<float>(learners * s.Len0 * s.C0);
        DZ1 = device.Allocate<float>(learners * s.Len1 * s.C1);
        Loss = device.Allocate<float>(learners);
    }

    public LossLayout Layout { get; }
    public LossNetShape Shape { get; }
    public int Learners => Shape.Learners;
    public int Members => Shape.Learners / Shape.LearnersPerMember;

    /// <summary>Activations of the last call: h0 (L, Len0, C0), h1 (L, Len1, C1), pool (L, C1), ctx (L, Ctx), head hidden (L, mb, Hidden).</summary>
    public DeviceBuffer<float> H0 { get; }
    public DeviceBuffer<float> H1 { get; }
    public DeviceBuffer<float> Pool { get; }
    public DeviceBuffer<float> Ctx { get; }
    public DeviceBuffer<float> HeadAct { get; }
    /// <summary>Per-row scratch: row loss (L, mb), head gradient parts (L, mb, Ctx + 2 Act + Mem).</summary>
    public DeviceBuffer<float> RowLoss { get; }
    public DeviceBuffer<float> Part { get; }
    /// <summary>Backward scratch: dctx (L, Ctx), dpool (L, C1), dz0 (L, Len0, C0), dz1 (L, Len1, C1).</summary>
    public DeviceBuffer<float> DCtx { get; }
    public DeviceBuffer<float> DPool { get; }
    public DeviceBuffer<float> DZ0 { get; }
    public DeviceBuffer<float> DZ1 { get; }
    /// <summary>loss: (Learners), L_phi of the last call (unscaled).</summary>
    public DeviceBuffer<float> Loss { get; }

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
        _device.Launch(L * s.Len0, new LossConv0ForwardKernel<TF> { Traj = trajV, Mean = meanV, P = pV, MemV = memV, Phi = phiV, H0 = H0.View<TF>(), S = s });
        _device.Launch(L * s.Len1, new LossConv1ForwardKernel<TF> { H0 = H0.View<TF>(), Phi = phiV, H1 = H1.View<TF>(), S = s });
        _device.Launch(L, new LossContextForwardKernel<TF> { H1 = H1.View<TF>(), Phi = phiV, Pool = Pool.View<TF>(), CtxOut = Ctx.View<TF>(), S = s });
        _device.Launch(L * s.Minibatch, new LossHeadKernel<TF, TI>
        {
            Traj = trajV, Mean = meanV, P = pV, MemV = memV, CtxIn = Ctx.View<TF>(), Phi = phiV, Idx = idxV,
            HeadAct = HeadAct.View<TF>(), RowLoss = RowLoss.View<TF>(), Part = Part.View<TF>(), S = s, Sel = sel,
        });
        _device.Launch(L, new LossHeadReduceKernel<TF, TI>
        {
            RowLoss = RowLoss.View<TF>(), Part = Part.View<TF>(), Phi = phiV, Idx = idxV, Loss = Loss.View<TF>(), DCtx = DCtx.View<TF>(),
            DPool = DPool.View<TF>(), H1 = H1.View<TF>(), DZ1 = DZ1.View<TF>(), DMean = dMean.View<TF>(), G = g.View<TF>(), DMem = dMem.View<TF>(), S = s, Sel = sel, Scale = scale,
        });
        _device.Launch(L * s.Len0, new LossConv1BackwardKernel<TF> { H0 = H0.View<TF>(), DZ1 = DZ1.View<TF>(), Phi = phiV, DZ0 = DZ0.View<TF>(), S = s });
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
        foreach (var b in new[] { H0, H1, Pool, Ctx, HeadAct, RowLoss, Part, DCtx, DPool, DZ0, DZ1, Loss }) b.Dispose();
    }
}
