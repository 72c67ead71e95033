using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;

namespace EpgFast.Networks;

/// <summary>
/// The EPG loss network L_phi over a batch of learners (see <see cref="LossLayout"/> for phi and
/// <see cref="LossNetShape"/> for the architecture). phi is (Members, PhiSize); learner l uses phi row
/// l / LearnersPerMember, so W ES members with LearnersPerMember learners each run in one batch.
/// <para>One path on every device, the group kernel (<see cref="LossGroupKernel{TF, TI, TV, TL}"/>). ForwardBackward
/// recomputes the whole network from its inputs (nothing is cached across calls):
/// the context path over all N buffer rows, the head at the minibatch rows, the loss per learner, and the
/// gradients to the policy mean at every buffer row (context path) and at the sampled rows (head), to the
/// log-std (both paths) and to the memory units (head; also context with MemoryThroughContext).</para>
/// </summary>
public sealed class LossNetwork<TF, TI> : IDisposable where TF : struct, IView<float> where TI : struct, IView<int>
{
    private readonly Device _device;
    private readonly int _memoryThroughContext;
    private readonly int _groupThreads;             // threads per group (1 on the CPU launcher, which runs a group on one thread)
    private readonly int _laneWidth;                // floats per lane of the group kernel's lanes phases (LaneWidths.Dividing)
    private readonly DeviceBuffer<float> _conv0T;   // conv0t: (Members, (TrajDim + Act) K0, C0), conv0's weights for its forward
    private readonly DeviceBuffer<float> _conv1T;   // conv1t: (Members, K1 C0, C1), conv1's weights for its forward
    private readonly DeviceBuffer<float> _conv1B;   // conv1b: (Members, K1 C1, C0), conv1's weights for its backward

    /// <param name="device">where the buffers live and the kernels run</param>
    /// <param name="learner">the learners' layout (sizes, the log-std's place in a parameter block)</param>
    /// <param name="learners">learners in the batch</param>
    /// <param name="learnersPerMember">consecutive learners that share one phi row</param>
    public LossNetwork(Device device, LearnerLayout learner, int learners, int learnersPerMember)
    {
        if (learnersPerMember <= 0 || learners % learnersPerMember != 0)
            throw new EpgException($"loss network: {learners} learners do not split into groups of {learnersPerMember}");
        _device = device;
        Layout = new LossLayout(learner.Config);
        Shape = Layout.Shape(learners, learnersPerMember, learner);
        _memoryThroughContext = learner.Config.MemoryThroughContext ? 1 : 0;
        long shared = LossGroup.SharedFloats(Shape);
        if (!device.SharedFits(shared))
            throw EpgException.DoesNotFit($"does not fit: the loss network's group kernel needs {shared * sizeof(float)} bytes of shared memory per learner; this device allows {device.MaxSharedBytes}");
        _groupThreads = device.GroupThreads(LossGroup.DefaultThreads);
        // one lane width for the three lanes phases: it divides both conv0's and conv1's channel counts
        _laneWidth = Math.Min(LaneWidths.Dividing(device, Shape.C0), LaneWidths.Dividing(device, Shape.C1)); // powers of two: the smaller divides both
        Loss = device.Allocate<float>(learners);
        _conv0T = device.Allocate<float>(Members * (Shape.TrajDim + Shape.Act) * Shape.K0 * Shape.C0);
        _conv1T = device.Allocate<float>(Members * Shape.K1 * Shape.C0 * Shape.C1);
        _conv1B = device.Allocate<float>(Members * Shape.K1 * Shape.C0 * Shape.C1);
    }

    public LossLayout Layout { get; }
    public LossNetShape Shape { get; }
    public int Learners => Shape.Learners;
    public int Members => Shape.Learners / Shape.LearnersPerMember;

    /// <summary>loss: (Learners), L_phi of the last call (unscaled).</summary>
    public DeviceBuffer<float> Loss { get; }

    /// <summary>
    /// Computes L_phi per learner into <see cref="Loss"/> and adds scale * its gradients to the accumulators: two small
    /// launches put each member's conv weights in the orders the kernel reads, then one launch of
    /// <see cref="LossGroupKernel{TF, TI, TV, TL}"/> (one group per learner, every intermediate in the group's shared block).
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
        TF phiV = phi.View<TF>(), conv0t = _conv0T.View<TF>(), conv1t = _conv1T.View<TF>(), conv1b = _conv1B.View<TF>();
        _device.Launch(Members * (s.TrajDim + s.Act) * s.K0, new LossConv0TransposeKernel<TF> { Phi = phiV, Conv0T = conv0t, S = s });
        _device.Launch(Members * s.K1 * s.C0, new LossConv1TransposeKernel<TF> { Phi = phiV, Conv1T = conv1t, Conv1B = conv1b, S = s });
        var k = new LossGroupArgs
        {
            Traj = traj.View<TF>(), Mean = mean.View<TF>(), P = p.View<TF>(), MemV = mem.View<TF>(), Phi = phiV, Conv0T = conv0t, Conv1T = conv1t,
            Conv1B = conv1b, Idx = idx.View<TI>(), Loss = Loss.View<TF>(), DMean = dMean.View<TF>(), G = g.View<TF>(), DMem = dMem.View<TF>(),
            Sel = sel, Scale = scale,
        };
        switch (_laneWidth)
        {
            case 16: LaunchGroup<System.Runtime.Intrinsics.Vector512<float>, Lanes16>(k); break;
            case 8: LaunchGroup<System.Runtime.Intrinsics.Vector256<float>, Lanes8>(k); break;
            default: LaunchGroup<float, ScalarLanes>(k); break;
        }
    }

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

    /// <summary>Flops of one ForwardBackward over all learners.</summary>
    public long Flops => Layout.FlopsPerLearner * Learners;

    public void Dispose()
    {
        Loss.Dispose();
        _conv0T.Dispose();
        _conv1T.Dispose();
        _conv1B.Dispose();
    }
}
