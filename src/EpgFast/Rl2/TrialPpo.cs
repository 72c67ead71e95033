using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;

namespace EpgFast.Rl2;

/// <summary>
/// PPO over trials, with the learners' PPO kernels (kernels/EpgFast.Kernels/Networks/Ppo.cs): each trial is one
/// episode of T steps. <see cref="Prepare"/>, once per epoch: the policy over the recorded trials as "old", GAE
/// (gamma, lambda) across the episode boundaries inside a trial (the done flag is the trial's end: 1 only at its
/// last step, where nothing is bootstrapped), value targets and advantages normalized per trial.
/// <see cref="Gradient"/>, once per pass: the loss -clipped surrogate + KlCoeff KL(old || new) + ValueScale
/// (v - vtarg)^2, averaged over the T steps of a trial and over the B trials, and its gradient w.r.t. p in
/// <see cref="GruPolicyBatch{TF}.Grad"/> (BPTT through every trial).
/// </summary>
public sealed class TrialPpo<TF, TI> : IDisposable where TF : struct, IView<float> where TI : struct, IView<int>
{
    private readonly Device _device;
    private readonly GruPolicyBatch<TF> _policy;
    private readonly PpoShape _loss;    // reads the shared log-std (parameter stride 0)
    private readonly PpoShape _reduce;  // writes the log-std gradient into the per-trial blocks

    public TrialPpo(Device device, GruPolicyBatch<TF> policy, PpoShape ppo, float valueScale)
    {
        _device = device;
        _policy = policy;
        var s = policy.Shape;
        int B = s.Trials, T = s.Steps, A = s.Act;
        _loss = ppo with { Learners = B, Steps = T, Minibatch = T, Act = A, ParamStride = 0, LogStdOffset = s.LogStd };
        _reduce = _loss with { ParamStride = s.ParamCount };
        ValueScale = valueScale;
        OldMean = device.Allocate<float>(B * T * A);
        OldLogStd = device.Allocate<float>(B * A);
        Adv = device.Allocate<float>(B * T);
        VTarg = device.Allocate<float>(B * T);
        Steps = device.Upload<int>(Enumerable.Range(0, T).ToArray());
        Terms = device.Allocate<float>(B * T * 3);
        Part = device.Allocate<float>(B * T * 2 * A);
        DV = device.Allocate<float>(B * T);
        DMean = device.Allocate<float>(B * T * A);
        Loss = device.Allocate<float>(B * 4);
    }

    public float ValueScale { get; }
    /// <summary>The policy before this epoch's update: mean (B, T, Act), log-std (B, Act) (one copy per trial).</summary>
    public DeviceBuffer<float> OldMean { get; }
    public DeviceBuffer<float> OldLogStd { get; }
    /// <summary>adv (normalized per trial), vtarg: (B, T)</summary>
    public DeviceBuffer<float> Adv { get; }
    public DeviceBuffer<float> VTarg { get; }
    /// <summary>steps: (T) = 0 .. T - 1, every trial's rows in order (index stride 0)</summary>
    public DeviceBuffer<int> Steps { get; }
    /// <summary>Loss scratch: terms (B, T, 3), parts (B, T, 2 Act), dv (B, T), dmean (B, T, Act).</summary>
    public DeviceBuffer<float> Terms { get; }
    public DeviceBuffer<float> Part { get; }
    public DeviceBuffer<float> DV { get; }
    public DeviceBuffer<float> DMean { get; }
    /// <summary>loss: (B, 4) = (total, -clipped surrogate, KlCoeff KL, value error) per trial, unscaled.</summary>
    public DeviceBuffer<float> Loss { get; }

    /// <summary>
    /// Once per epoch, after the trials were acted with p (policy.X filled): forward over the trials, old policy,
    /// GAE over outcome (B, T, 2) = (reward, trial end).
    /// </summary>
    public void Prepare(DeviceBuffer<float> p, DeviceBuffer<float> outcome)
    {
        var s = _policy.Shape;
        int B = s.Trials, T = s.Steps;
        _policy.Forward(p);
        _device.Launch(B * T, new CopyRowsKernel<TF> { Src = _policy.Mean.View<TF>(), Dst = OldMean.View<TF>(), SrcRows = T, SrcRow0 = 0, SrcStride = s.Act, SrcOffset = 0, Count = T, Cols = s.Act });
        _device.Launch(B, new CopyRowsKernel<TF> { Src = p.View<TF>(), Dst = OldLogStd.View<TF>(), SrcRows = 0, SrcRow0 = 0, SrcStride = 0, SrcOffset = s.LogStd, Count = 1, Cols = s.Act });
        _device.Launch(B, new GaeKernel<TF>
        {
            Traj = outcome.View<TF>(), Rows = T, RowBase = 0, RowStride = 2, RewardColumn = 0, DoneColumn = 1,
            Value = _policy.Value.View<TF>(), Adv = Adv.View<TF>(), VTarg = VTarg.View<TF>(), S = _loss,
        });
    }

    /// <summary>One pass: the loss at p and its gradient into policy.Grad.</summary>
    /// <param name="p">(P) the current parameters</param>
    /// <param name="actions">(B, T, Act), the actions as sampled</param>
    /// <param name="forwardDone">the policy's last Forward was at p (true right after <see cref="Prepare"/>), so it is not run again</param>
    public void Gradient(DeviceBuffer<float> p, DeviceBuffer<float> actions, bool forwardDone)
    {
        var s = _policy.Shape;
        int B = s.Trials, T = s.Steps;
        if (!forwardDone) _policy.Forward(p);
        _policy.G.Clear();
        DMean.Clear();
        float scale = 1f / B;
        _device.Launch(B * T, new PpoLossKernel<TF, TI>
        {
            Mean = _policy.Mean.View<TF>(), P = p.View<TF>(), OldMean = OldMean.View<TF>(), OldLogStd = OldLogStd.View<TF>(), Actions = actions.View<TF>(),
            Adv = Adv.View<TF>(), VTarg = VTarg.View<TF>(), Value = _policy.Value.View<TF>(), Idx = Steps.View<TI>(), Terms = Terms.View<TF>(), Part = Part.View<TF>(),
            DV = DV.View<TF>(), S = _loss, MeanRows = T, MeanRowBase = 0, IdxStride = 0, IdxOffset = 0, Scale = scale,
        });
        _device.Launch(B, new PpoReduceKernel<TF, TI>
        {
            Terms = Terms.View<TF>(), Part = Part.View<TF>(), Idx = Steps.View<TI>(), Loss = Loss.View<TF>(), DMean = DMean.View<TF>(), G = _policy.G.View<TF>(),
            S = _reduce, MeanRows = T, MeanRowBase = 0, IdxStride = 0, IdxOffset = 0, Scale = scale,
        });
        _policy.Backward(p, DMean, DV, ValueScale);
        _policy.SumGradient();
    }

    public void Dispose()
    {
        foreach (var b in new[] { OldMean, OldLogStd, Adv, VTarg, Terms, Part, DV, DMean, Loss }) b.Dispose();
        Steps.Dispose();
    }
}
