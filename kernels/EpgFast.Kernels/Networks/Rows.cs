using EpgFast.Kernels.Launch;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Random;

namespace EpgFast.Kernels.Networks;

/// <summary>
/// Copies Cols columns of Count rows per learner: dst[l, j, c] = src[l, SrcRow0 + j, SrcOffset + c] with
/// src rows (Learners, SrcRows, SrcStride) and dst packed (Learners, Count, Cols). Rows per learner may be 1
/// with SrcRows = 1 to copy a per-learner vector out of a parameter block. One work item per (learner, row).
/// </summary>
public struct CopyRowsKernel<TF> : IKernel where TF : struct, IView<float>
{
    public TF Src;
    public TF Dst;
    public int SrcRows;
    public int SrcRow0;
    public int SrcStride;
    public int SrcOffset;
    public int Count;
    public int Cols;

    public readonly void Execute(int index)
    {
        TF src = Src, dst = Dst;
        int l = index / Count;
        int j = index - l * Count;
        int s = (l * SrcRows + SrcRow0 + j) * SrcStride + SrcOffset;
        for (int c = 0; c < Cols; c++) dst[index * Cols + c] = src[s + c];
    }
}

/// <summary>
/// Gathers rows by index: dst[l, j, c] = src[l, SrcRow0 + Idx[l * IdxStride + IdxOffset + j], SrcOffset + c],
/// dst packed (Learners, Count, Cols). One work item per (learner, row).
/// </summary>
public struct GatherRowsKernel<TF, TI> : IKernel where TF : struct, IView<float> where TI : struct, IView<int>
{
    public TF Src;
    public TI Idx;
    public TF Dst;
    public int SrcRows;
    public int SrcRow0;
    public int SrcStride;
    public int SrcOffset;
    public int IdxStride;
    public int IdxOffset;
    public int Count;
    public int Cols;

    public readonly void Execute(int index)
    {
        TF src = Src, dst = Dst;
        TI idx = Idx;
        int l = index / Count;
        int j = index - l * Count;
        int s = (l * SrcRows + SrcRow0 + idx[l * IdxStride + IdxOffset + j]) * SrcStride + SrcOffset;
        for (int c = 0; c < Cols; c++) dst[index * Cols + c] = src[s + c];
    }
}

/// <summary>
/// A uniformly random permutation of 0 .. Count-1 per learner (Fisher-Yates), for minibatches: uniform number
/// i of the stream Philox.Stream(Minibatch, Epoch, LearnerBase + l) at counter base Counter * Count picks the
/// swap at position Count - 1 - i. One work item per learner.
/// </summary>
public struct PermutationKernel<TI> : IKernel where TI : struct, IView<int>
{
    /// <summary>perm: (Learners, Count), written</summary>
    public TI Perm;
    public int Count;
    public ulong Seed;
    public uint Epoch;
    public int LearnerBase;
    /// <summary>&gt; 0: learners this far apart get the same order (see Philox.LearnerStream).</summary>
    public int StreamPeriod;
    public long Counter;

    public readonly void Execute(int l)
    {
        TI perm = Perm;
        int b = l * Count;
        for (int i = 0; i < Count; i++) perm[b + i] = i;
        ulong stream = Philox.LearnerStream(RandomStreams.Minibatch, Epoch, LearnerBase, l, StreamPeriod);
        ulong c0 = (ulong)(Counter * Count);
        for (int i = Count - 1; i > 0; i--)
        {
            int k = (int)(Philox.UniformAt(Seed, stream, c0 + (ulong)(Count - 1 - i)) * (i + 1));
            if (k > i) k = i;
            int tmp = perm[b + i];
            perm[b + i] = perm[b + k];
            perm[b + k] = tmp;
        }
    }
}

/// <summary>Sets Count floats starting at Offset to Value (e.g. clears an accumulation buffer). One work item per element.</summary>
public struct FillKernel<TF> : IKernel where TF : struct, IView<float>
{
    public TF Data;
    public int Offset;
    public float Value;

    public readonly void Execute(int i)
    {
        TF data = Data;
        data[Offset + i] = Value;
    }
}
