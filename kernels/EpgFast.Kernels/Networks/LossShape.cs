using System.Runtime.CompilerServices;
using EpgFast.Kernels.Launch;
using EpgFast.Kernels.Memory;

namespace EpgFast.Kernels.Networks;

/// <summary>
/// Shape of the EPG loss network L_phi (released losses.py, Conv1DLoss) batched over learners.
/// <para>Per buffer row n (time order, oldest first) the network's input row (InDim) is
/// [traj row (TrajDim) | policy mean (Act) | policy logstd (Act) | memory (Mem)], read from
/// Traj (Learners, Rows, TrajDim), Mean (Learners, Rows, Act), the learner's log-std in its
/// parameter block and Mem (Learners, Mem) without being copied.</para>
/// <para>Context path over all Rows: conv1d (K0, stride S0, C0 channels) -> leaky ReLU ->
/// conv1d (K1, S1, C1) -> leaky ReLU -> mean over time -> dense Ctx (no activation).</para>
/// <para>Head per sampled row: [traj row | ctx | mean | logstd | mem] (HeadIn) -> dense Hidden ->
/// leaky ReLU -> dense 1; the loss is the mean over the Minibatch rows.</para>
/// phi is one vector per ES member (PhiStride floats); learner l uses member l / LearnersPerMember.
/// The offsets below are relative to a member's phi row (see the host's LossLayout for the order).
/// </summary>
public struct LossNetShape
{
    public int Learners;
    public int LearnersPerMember;
    public int PhiStride;
    /// <summary>N: buffer rows (time steps) the context path sees.</summary>
    public int Rows;
    public int TrajDim;
    public int Act;
    public int Mem;
    public int K0, S0, C0, Len0;
    public int K1, S1, C1, Len1;
    public int Ctx;
    public int Hidden;
    public int Minibatch;
    /// <summary>Learner parameter block stride and the log-std offset in it (read in forward, gradient added in backward).</summary>
    public int ParamStride;
    public int LogStdOffset;
    public int HeadW0, HeadB0, HeadW1, HeadB1, Conv0W, Conv0B, Conv1W, Conv1B, CtxW, CtxB;

    public readonly int InDim => TrajDim + 2 * Act + Mem;
    public readonly int HeadIn => TrajDim + Ctx + 2 * Act + Mem;
    /// <summary>Per sampled row, the head's gradient parts kept: [ctx | mean | logstd | mem].</summary>
    public readonly int PartDim => Ctx + 2 * Act + Mem;
    public readonly int PhiBase(int learner) => learner / LearnersPerMember * PhiStride;
}

/// <summary>Which buffer rows a minibatch uses: row j of learner l is RowBase + Idx[l * IdxStride + IdxOffset + j].</summary>
public struct RowSelection
{
    public int RowBase;
    public int IdxStride;
    public int IdxOffset;
}

/// <summary>Small sums of the loss network's group kernel.</summary>
public static class LossSums
{
    /// <summary>sum_k phi[wc + k], k &lt; taps: a conv channel's weights summed over its taps (for time-constant inputs).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Taps<TF>(TF phi, int wc, int taps) where TF : struct, IView<float>
    {
        float s = 0f;
        for (int k = 0; k < taps; k++) s += phi[wc + k];
        return s;
    }
}
