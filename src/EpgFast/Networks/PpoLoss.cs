using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;

namespace EpgFast.Networks;

/// <summary>
/// PPO, the bootstrapping loss: clipped surrogate + KlCoeff KL(old || new) + squared value error on the M newest
/// steps, with a 64-64 tanh value net in each learner's parameter block (released agents.py).
/// <para>Prepare, once per update before the minibatches: the value net on the M newest observations, GAE
/// (gamma, lambda), value targets, normalized advantages, and a snapshot of the policy (mean at those rows,
/// log-std) as "old". ForwardBackward, once per minibatch: the value net on the minibatch's observations
/// (recomputed with the current weights), the loss per learner and its gradients (to the policy mean rows,
/// the log-std, the value net).</para>
/// </summary>
public sealed class PpoLoss<TF, TI> : IDisposable where TF : struct, IView<float> where TI : struct, IView<int>
{
    private readonly Device _device;
    private readonly LearnerLayout _layout;

    public PpoLoss(Device device, LearnerLayout layout, int learners)
    {
        _device = device;
        _layout = layout;
        var c = layout.Config;
        Shape = new PpoShape
        {
            Learners = learners, Steps = c.ActSteps, Minibatch = c.Minibatch, Act = c.Act, Gamma = c.Gamma, Lambda = c.Lambda,
            Clip = c.ClipRange, KlCoeff = c.KlCoeff, AdvEps = c.AdvantageEps, ParamStride = layout.Stride, LogStdOffset = layout.LogStd,
        };
        int M = c.ActSteps, mb = c.Minibatch;
        Value = new MlpBatch<TF>(device, layout.Value, learners, M);
        Actions = device.Allocate<float>(learners * M * c.Act);
        ObsM = device.Allocate<float>(learners * M * c.Obs);
        VPred = device.Allocate<float>(learners * M);
        Adv = device.Allocate<float>(learners * M);
        VTarg = device.Allocate<float>(learners * M);
        OldMean = device.Allocate<float>(learners * M * c.Act);
        OldLogStd = device.Allocate<float>(learners * c.Act);
        ObsMb = device.Allocate<float>(learners * mb * c.Obs);
        Terms = device.Allocate<float>(learners * mb * 3);
        Part = device.Allocate<float>(learners * mb * 2 * c.Act);
        DV = device.Allocate<float>(learners * mb);
        Loss = device.Allocate<float>(learners * 4);
    }

    public PpoShape Shape { get; }
    public int Learners => Shape.Learners;
    /// <summary>The value nets (activations of the last forward).</summary>
    public MlpBatch<TF> Value { get; }
    /// <summary>actions: (L, M, Act), the raw actions of the M newest steps, step s at row s % M (<see cref="RecordAction"/>)</summary>
    public DeviceBuffer<float> Actions { get; }
    /// <summary>obsM: (L, M, Obs), the M newest normalized observations (from Prepare)</summary>
    public DeviceBuffer<float> ObsM { get; }
    /// <summary>vpred, adv (normalized), vtarg: (L, M), from Prepare</summary>
    public DeviceBuffer<float> VPred { get; }
    public DeviceBuffer<float> Adv { get; }
    public DeviceBuffer<float> VTarg { get; }
    /// <summary>The policy before the update: mean (L, M, Act) at the M newest rows, log-std (L, Act).</summary>
    public DeviceBuffer<float> OldMean { get; }
    public DeviceBuffer<float> OldLogStd { get; }
    /// <summary>Minibatch scratch: obs (L, mb, Obs), terms (L, mb, 3), parts (L, mb, 2 Act), dv (L, mb).</summary>
    public DeviceBuffer<float> ObsMb { get; }
    public DeviceBuffer<float> Terms { get; }
    public DeviceBuffer<float> Part { get; }
    public DeviceBuffer<float> DV { get; }
    /// <summary>loss: (L, 4) = (total, -clipped surrogate, KlCoeff KL, value error), minibatch means, unscaled.</summary>
    public DeviceBuffer<float> Loss { get; }

    /// <summary>During acting, every step: keeps the sampled actions (L, Act) of life step <paramref name="step"/>.</summary>
    public void RecordAction(DeviceBuffer<float> actions, int step)
        => _device.Launch(Learners, new PpoRecordActionKernel<TF>
        {
            Actions = actions.View<TF>(), Window = Actions.View<TF>(), Steps = Shape.Steps, Act = Shape.Act, Step = step,
        });

    /// <summary>
    /// Once per update. The M newest steps are buffer rows [N - M, N) of traj and policyMean.
    /// </summary>
    /// <param name="p">(L, Stride) learner parameters (value net and log-std read)</param>
    /// <param name="traj">(L, N, TrajDim), normalized observations in columns [0, Obs); raw rewards and done flags</param>
    /// <param name="policyMean">(L, N, Act): the policy mean at every buffer row, before this update</param>
    public void Prepare(DeviceBuffer<float> p, DeviceBuffer<float> traj, DeviceBuffer<float> policyMean)
    {
        var c = _layout.Config;
        int L = Learners, M = c.ActSteps, N = c.BufferRows, T = c.TrajDim;
        _device.Launch(L * M, new CopyRowsKernel<TF> { Src = traj.View<TF>(), Dst = ObsM.View<TF>(), SrcRows = N, SrcRow0 = N - M, SrcStride = T, SrcOffset = 0, Count = M, Cols = c.Obs });
        Value.Forward(p, ObsM, M, c.Obs, 0);
        _device.Launch(L * M, new CopyRowsKernel<TF> { Src = Value.Y.View<TF>(), Dst = VPred.View<TF>(), SrcRows = M, SrcRow0 = 0, SrcStride = 1, SrcOffset = 0, Count = M, Cols = 1 });
        _device.Launch(L, new GaeKernel<TF>
        {
            Traj = traj.View<TF>(), Rows = N, RowBase = N - M, RowStride = T, RewardColumn = c.Traj.RewardCol, DoneColumn = c.Traj.DoneCol, Value = VPred.View<TF>(), Adv = Adv.View<TF>(), VTarg = VTarg.View<TF>(), S = Shape,
        });
        _device.Launch(L * M, new CopyRowsKernel<TF> { Src = policyMean.View<TF>(), Dst = OldMean.View<TF>(), SrcRows = N, SrcRow0 = N - M, SrcStride = c.Act, SrcOffset = 0, Count = M, Cols = c.Act });
        _device.Launch(L, new CopyRowsKernel<TF> { Src = p.View<TF>(), Dst = OldLogStd.View<TF>(), SrcRows = 1, SrcRow0 = 0, SrcStride = _layout.Stride, SrcOffset = _layout.LogStd, Count = 1, Cols = c.Act });
    }

    /// <summary>
    /// Once per minibatch: L_PPO per learner into <see cref="Loss"/>, scale * its gradients added to dMean
    /// (at buffer rows N - M + m), to the log-std and the value net in g.
    /// </summary>
    /// <param name="p">(L, Stride) current learner parameters</param>
    /// <param name="mean">(L, N, Act): the current policy mean at every buffer row</param>
    /// <param name="idx">PPO steps m in [0, M): row j of learner l at idx[l * idxStride + idxOffset + j]</param>
    /// <param name="idxStride">ints per learner in idx</param>
    /// <param name="idxOffset">first index of this minibatch in a learner's idx row</param>
    /// <param name="scale">weight of L_PPO in the total loss (alpha)</param>
    /// <param name="dMean">(L, N, Act), accumulated into</param>
    /// <param name="g">(L, Stride), accumulated into</param>
    public void ForwardBackward(DeviceBuffer<float> p, DeviceBuffer<float> mean, DeviceBuffer<int> idx,
        int idxStride, int idxOffset, float scale, DeviceBuffer<float> dMean, DeviceBuffer<float> g)
    {
        var c = _layout.Config;
        int L = Learners, M = c.ActSteps, N = c.BufferRows, mb = c.Minibatch;
        TI idxV = idx.View<TI>();
        _device.Launch(L * mb, new GatherRowsKernel<TF, TI>
        {
            Src = ObsM.View<TF>(), Idx = idxV, Dst = ObsMb.View<TF>(), SrcRows = M, SrcRow0 = 0, SrcStride = c.Obs, SrcOffset = 0,
            IdxStride = idxStride, IdxOffset = idxOffset, Count = mb, Cols = c.Obs,
        });
        Value.Forward(p, ObsMb, mb, c.Obs, 0);
        _device.Launch(L * mb, new PpoLossKernel<TF, TI>
        {
            Mean = mean.View<TF>(), P = p.View<TF>(), OldMean = OldMean.View<TF>(), OldLogStd = OldLogStd.View<TF>(), Actions = Actions.View<TF>(),
            Adv = Adv.View<TF>(), VTarg = VTarg.View<TF>(), Value = Value.Y.View<TF>(), Idx = idxV, Terms = Terms.View<TF>(), Part = Part.View<TF>(),
            DV = DV.View<TF>(), S = Shape, MeanRows = N, MeanRowBase = N - M, IdxStride = idxStride, IdxOffset = idxOffset, Scale = scale,
        });
        _device.Launch(L, new PpoReduceKernel<TF, TI>
        {
            Terms = Terms.View<TF>(), Part = Part.View<TF>(), Idx = idxV, Loss = Loss.View<TF>(), DMean = dMean.View<TF>(), G = g.View<TF>(),
            S = Shape, MeanRows = N, MeanRowBase = N - M, IdxStride = idxStride, IdxOffset = idxOffset, Scale = scale,
        });
        Value.Backward(p, ObsMb, c.Obs, 0, DV, g);
    }

    public void Dispose()
    {
        Value.Dispose();
        foreach (var b in new[] { Actions, ObsM, VPred, Adv, VTarg, OldMean, OldLogStd, ObsMb, Terms, Part, DV, Loss }) b.Dispose();
    }
}
