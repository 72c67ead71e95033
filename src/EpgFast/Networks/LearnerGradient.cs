using EpgFast.Backends;
using EpgFast.Diagnostics;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;

namespace EpgFast.Networks;

/// <summary>
/// One inner-loop update's gradients for a batch of learners: the total loss
/// (1 - alpha) L_phi + alpha L_PPO of one minibatch, differentiated w.r.t. every learner parameter
/// (policy, log-std, value net, memory) into the explicit accumulator <see cref="G"/> (Learners, Stride).
/// <para>Per update: BeginUpdate (memory and policy forward on the N buffer rows, PPO's Prepare),
/// Shuffle (a permutation of the M newest steps per learner), then for k = 0 .. M / Minibatch - 1:
/// Minibatch(k, ...) and AdamBatch.Step(p, G) (which also clears G).</para>
/// <para>Recomputed in every Minibatch call (the parameters changed in the previous Adam step): the memory
/// units, the policy on all N buffer rows (mean and hidden activations, needed because the loss's context
/// path sees the policy's outputs at every row and the gradient flows back through all of them), the
/// whole loss network, the value net on the minibatch rows. Fixed for the update: traj, the PPO snapshot
/// (old policy, advantages, value targets). The first Minibatch after BeginUpdate reuses BeginUpdate's
/// forward pass: do not change p between them.</para>
/// </summary>
public sealed class LearnerGradient<TF, TI> : IDisposable where TF : struct, IView<float> where TI : struct, IView<int>
{
    private readonly Device _device;
    private bool _forwardFresh;

    public LearnerGradient(Device device, LearnerLayout layout, int learners, int learnersPerMember)
    {
        _device = device;
        Layout = layout;
        Learners = learners;
        var c = layout.Config;
        var bytes = new DeviceBytes(device);
        Policy = new PolicyBatch<TF>(device, layout, learners, c.BufferRows);
        bytes.Mark("policy (update)");
        Memory = new MemoryBatch<TF>(device, layout, learners);
        Loss = new LossNetwork<TF, TI>(device, layout, learners, learnersPerMember);
        bytes.Mark("loss network, memory units");
        Ppo = layout.HasValue ? new PpoLoss<TF, TI>(device, layout, learners) : null;
        bytes.Mark("ppo + value net");
        DMean = device.Allocate<float>(learners * c.BufferRows * c.Act);
        DMem = device.Allocate<float>(learners * Math.Max(1, c.MemoryUnits));
        G = device.Allocate<float>(learners * layout.Stride);
        Perm = device.Allocate<int>(learners * c.ActSteps);
        bytes.Mark("gradient, dmean, memory");
        BytesByPart = bytes.Parts;
        EpgRowBase = c.BufferRows - c.ActSteps;
    }

    public LearnerLayout Layout { get; }
    /// <summary>When set, each step of BeginUpdate and Minibatch books its time here (profiling only).</summary>
    public PhaseTimer? Profile { get; set; }
    public int Learners { get; }
    /// <summary>Device bytes this object allocated, by part (all learners).</summary>
    public IReadOnlyList<(string Part, long Bytes)> BytesByPart { get; }
    public PolicyBatch<TF> Policy { get; }
    public MemoryBatch<TF> Memory { get; }
    public LossNetwork<TF, TI> Loss { get; }
    /// <summary>PPO and its value nets; null in a lean learner (<see cref="NetworkConfig.Ppo"/> false).</summary>
    public PpoLoss<TF, TI>? Ppo { get; }
    /// <summary>dmean: (Learners, N, Act), cleared and filled by each Minibatch call</summary>
    public DeviceBuffer<float> DMean { get; }
    /// <summary>dmem: (Learners, MemoryUnits), cleared and filled by each Minibatch call</summary>
    public DeviceBuffer<float> DMem { get; }
    /// <summary>g: (Learners, Stride), the gradient accumulator (Minibatch adds to it; AdamBatch.Step consumes and clears it)</summary>
    public DeviceBuffer<float> G { get; }
    /// <summary>perm: (Learners, M), the minibatch order of the M newest steps (Shuffle)</summary>
    public DeviceBuffer<int> Perm { get; }

    /// <summary>
    /// Where the loss head's sampled rows sit in the buffer: row = EpgRowBase + perm value = N - M + perm value, the M
    /// newest steps, the same rows PPO trains on (the released code indexes the buffer with the permutation itself,
    /// the oldest M rows, padding early in life: a defect not copied).
    /// </summary>
    public int EpgRowBase { get; }

    /// <summary>
    /// Start of an update: memory and policy forward over the buffer, then PPO's Prepare (when the learner has PPO).
    /// traj (L, N, TrajDim) normalized and time-ordered (RunningNormalizer.Advance), rewards and done flags raw.
    /// </summary>
    public void BeginUpdate(DeviceBuffer<float> p, DeviceBuffer<float> traj)
    {
        var c = Layout.Config;
        Memory.Forward(p);
        Policy.Forward(p, traj, c.BufferRows, c.TrajDim, 0);
        Profile?.Mark("update: memory + policy forward (N rows)");
        if (Ppo is not null)
        {
            Ppo.Prepare(p, traj, Policy.Mean);
            Profile?.Mark("update: ppo");
        }
        _forwardFresh = true;
    }

    /// <summary>A fresh minibatch order: Perm[l] = a random permutation of 0..M-1 from Philox.Stream(Minibatch, epoch, learnerBase + l), counter block <paramref name="counter"/> (e.g. the update index).</summary>
    public void Shuffle(ulong seed, uint epoch, int learnerBase, long counter, int streamPeriod = 0)
        => _device.Launch(Learners, new PermutationKernel<TI> { Perm = Perm.View<TI>(), Count = Layout.Config.ActSteps, Seed = seed, Epoch = epoch, LearnerBase = learnerBase, StreamPeriod = streamPeriod, Counter = counter });

    /// <summary>
    /// Adds the gradient of (1 - alpha) L_phi + alpha L_PPO for minibatch k (rows Perm[l, k mb .. (k + 1) mb)) to G.
    /// Loss values: Loss.Loss (L) and Ppo.Loss (L, 4), both unscaled. The memory gets its gradient when the layout holds its
    /// weights (<see cref="NetworkConfig.TrainMemory"/>); alpha &gt; 0 needs a layout with PPO (<see cref="NetworkConfig.Ppo"/>).
    /// </summary>
    /// <param name="k">minibatch index, 0 .. M / Minibatch - 1</param>
    /// <param name="p">(L, Stride) learner parameters</param>
    /// <param name="phi">(Members, PhiSize)</param>
    /// <param name="traj">(L, N, TrajDim), as in BeginUpdate</param>
    /// <param name="alpha">PPO's weight (1 early in meta-training, annealed to 0; 0 at test time)</param>
    public void Minibatch(int k, DeviceBuffer<float> p, DeviceBuffer<float> phi, DeviceBuffer<float> traj, float alpha)
    {
        var c = Layout.Config;
        CheckAlpha(alpha);
        if (!_forwardFresh)
        {
            Memory.Forward(p);
            Policy.Forward(p, traj, c.BufferRows, c.TrajDim, 0);
            Profile?.Mark("update: memory + policy forward (N rows)");
        }
        _forwardFresh = false;
        DMean.Clear();
        DMem.Clear();
        var sel = new RowSelection { RowBase = EpgRowBase, IdxStride = c.ActSteps, IdxOffset = k * c.Minibatch };
        Loss.ForwardBackward(phi, traj, Policy.Mean, p, Memory.Mem, Perm, sel, 1f - alpha, DMean, G, DMem);
        Profile?.Mark("update: loss network");
        if (alpha != 0f)
        {
            Ppo!.ForwardBackward(p, Policy.Mean, Perm, c.ActSteps, k * c.Minibatch, alpha, DMean, G);
            Profile?.Mark("update: ppo");
        }
        Policy.Backward(p, traj, c.TrajDim, 0, DMean, G);
        if (Layout.HasMemoryWeights) Memory.Backward(DMem, G);
        Profile?.Mark("update: policy backward (N rows)");
    }

    /// <summary>Throws a one-line EpgException when alpha &gt; 0 but the learners were built without PPO.</summary>
    public void CheckAlpha(float alpha)
    {
        if (alpha != 0f && Ppo is null)
            throw new EpgException($"alpha = {alpha} needs PPO, but these learners were built without it (NetworkConfig.Ppo = false)", 2);
    }

    /// <summary>Approximate flops of one Minibatch call over all learners (policy forward + backward on N rows, loss network, PPO with its value net).</summary>
    public long MinibatchFlops
    {
        get
        {
            var c = Layout.Config;
            var pol = Layout.Policy;
            long policy = (long)Learners * c.BufferRows * (pol.ForwardFlopsPerRow + pol.BackwardFlopsPerRow);
            long value = 0;
            if (Layout.HasValue)
            {
                var val = Layout.Value;
                value = (long)Learners * c.Minibatch * (val.ForwardFlopsPerRow + val.BackwardFlopsPerRow);
            }
            return policy + Loss.Flops + value;
        }
    }

    public void Dispose()
    {
        Policy.Dispose();
        Memory.Dispose();
        Loss.Dispose();
        Ppo?.Dispose();
        DMean.Dispose();
        DMem.Dispose();
        G.Dispose();
        Perm.Dispose();
    }
}
