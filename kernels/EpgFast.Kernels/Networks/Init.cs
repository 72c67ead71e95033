using EpgFast.Kernels.Launch;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Random;

namespace EpgFast.Kernels.Networks;

/// <summary>
/// The released EPG code's weight initialization (networks.py, NN and Memory): W (Out x In) drawn
/// from N(0, 1), then every column j (the weights leaving input j) rescaled to Euclidean norm
/// <c>Scale</c> (1.0 for hidden layers, 0.01 for the last layer and the memory). Biases are left
/// as they are (the host clears the block first: zero biases, zero log-std).
/// Weight W[o, j] of learner l draws normal number Counter + o * In + j of the stream
/// Philox.Stream(StreamKind, Epoch, LearnerBase + l). One work item per (learner, column j).
/// </summary>
public struct ColumnNormalInitKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>p: (Learners, ParamStride); W at ParamOffset, row-major (Out, In)</summary>
    public TF P;
    public int ParamStride;
    public int ParamOffset;
    /// <summary>The weights' first draw counter: their offset in the full learner layout (equal to ParamOffset unless the block is lean).</summary>
    public int Counter;
    public int In;
    public int Out;
    public float Scale;
    public ulong Seed;
    public uint StreamKind;
    public uint Epoch;
    public int LearnerBase;
    /// <summary>&gt; 0: learners this far apart get the same weights (see Philox.LearnerStream).</summary>
    public int StreamPeriod;

    public readonly void Execute(int index)
    {
        TF p = P;
        int l = index / In;
        int j = index - l * In;
        ulong stream = Philox.LearnerStream(StreamKind, Epoch, LearnerBase, l, StreamPeriod);
        int w = l * ParamStride + ParamOffset;
        float sq = 0f;
        for (int o = 0; o < Out; o++)
        {
            float z = Philox.NormalAt(Seed, stream, (ulong)(Counter + o * In + j));
            p[w + o * In + j] = z;
            sq += z * z;
        }
        float k = Scale / MathF.Sqrt(sq);
        for (int o = 0; o < Out; o++) p[w + o * In + j] *= k;
    }
}
