using EpgFast.Kernels.Launch;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Random;

namespace EpgFast.Kernels.Networks;

/// <summary>The random stream a learner's initial weights come from: Philox.LearnerStream(Kind, Epoch, LearnerBase, l, StreamPeriod) under Seed.</summary>
public struct InitStream
{
    public ulong Seed;
    public uint Kind;
    public uint Epoch;
    public int LearnerBase;
    /// <summary>&gt; 0: learners this far apart get the same weights (see Philox.LearnerStream).</summary>
    public int StreamPeriod;

    /// <summary>
    /// Draws column j of an (outputs x inputs) Gaussian matrix, z_o at counter + o * inputs + j of learner l's stream, into
    /// dst[at + o * stride], and returns the factor that brings it to Euclidean norm <paramref name="scale"/>:
    /// scale / sqrt(sum_o z_o^2), the squares summed in the order o = 0, 1, ...
    /// </summary>
    public readonly float DrawColumn<TF>(TF dst, int at, int stride, int l, int counter, int inputs, int outputs, int j, float scale)
        where TF : struct, IView<float>
    {
        ulong stream = Philox.LearnerStream(Kind, Epoch, LearnerBase, l, StreamPeriod);
        float sq = 0f;
        for (int o = 0; o < outputs; o++)
        {
            float z = Philox.NormalAt(Seed, stream, (ulong)(counter + o * inputs + j));
            dst[at + o * stride] = z;
            sq += z * z;
        }
        return scale / MathF.Sqrt(sq);
    }
}

/// <summary>
/// The released EPG code's weight initialization (networks.py, NN and Memory): W (Out x In) drawn
/// from N(0, 1), then every column j (the weights leaving input j) rescaled to Euclidean norm
/// <c>Scale</c> (1.0 for hidden layers, 0.01 for the last layer and the memory). Biases are left
/// as they are (the host clears the block first: zero biases, zero log-std).
/// Weight W[o, j] of learner l draws normal number Counter + o * In + j of its <see cref="InitStream"/>.
/// One work item per (learner, column j).
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
    public InitStream Stream;

    public readonly void Execute(int index)
    {
        TF p = P;
        int l = index / In;
        int j = index - l * In;
        int w = l * ParamStride + ParamOffset + j;
        float k = Stream.DrawColumn(p, w, In, l, Counter, In, Out, j, Scale);
        for (int o = 0; o < Out; o++) p[w + o * In] *= k;
    }
}
