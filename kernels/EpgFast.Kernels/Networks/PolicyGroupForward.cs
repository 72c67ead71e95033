using EpgFast.Kernels.Launch;
using EpgFast.Kernels.Memory;

namespace EpgFast.Kernels.Networks;

/// <summary>
/// Shape of the batched policy MLP forward as a group kernel: In -> H1 tanh -> H2 tanh -> Out linear, one
/// parameter block per learner (stride ParamStride; W row-major (out, in) at W1/W2/W3, biases at B1/B2/B3,
/// the same offsets as <c>MlpLayout</c>). The input is a column window of wider rows:
/// x[l, r, i] = X[(l * Rows + r) * XStride + XOffset + i].
/// Rows of a learner are cut into tiles of RowsPerGroup; one group per (learner, tile).
/// </summary>
public struct PolicyGroupShape
{
    public int Learners;
    public int Rows;
    public int In;
    public int H1;
    public int H2;
    public int Out;
    public int ParamStride;
    public int W1;
    public int W2;
    public int W3;
    public int B1;
    public int B2;
    public int B3;
    public int XStride;
    public int XOffset;
    /// <summary>Rows one group computes.</summary>
    public int RowsPerGroup;
    /// <summary>GPU threads per group.</summary>
    public int Threads;
    /// <summary>1: also write the hidden activations H1Out, H2Out (what a backward pass needs); 0: only the mean.</summary>
    public int StoreHidden;

    /// <summary>Floats of one learner's policy weights and biases (what a group stages in shared memory).</summary>
    public readonly int ParamCount => H1 * In + H2 * H1 + Out * H2 + H1 + H2 + Out;

    public readonly int TilesPerLearner => (Rows + RowsPerGroup - 1) / RowsPerGroup;

    /// <summary>Groups to launch.</summary>
    public readonly int Groups => Learners * TilesPerLearner;

    /// <summary>Shared floats for <paramref name="threads"/> threads: the staged parameters, then per thread an h1 and an h2 slice.</summary>
    public readonly int SharedFloatsFor(int threads) => ParamCount + (H1 + H2) * threads;

    /// <summary>Flops of the forward pass (2 per multiply-add, biases and tanh 1 each), all learners and rows.</summary>
    public readonly long ForwardFlops => (long)Learners * Rows * (2L * (In * H1 + H1 * H2 + H2 * Out) + H1 + H2 + Out);
}

/// <summary>
/// Batched policy forward, one group per (learner, tile of rows), the GPU layout: the learner's
/// weights are read from device memory once per group into shared memory and every row of the tile reads
/// them from there.
/// <para>Phase 1 (all threads, strided): copy W1, W2, W3, b1, b2, b3 of the learner into shared[0, ParamCount)
/// in that order. Barrier.</para>
/// <para>Phase 2 (strided over the tile's rows, one row per thread at a time): h1 = tanh(W1 x + b1),
/// h2 = tanh(W2 h1 + b2), y = W3 h2 + b3. At each step all threads of a warp read the same weight (a shared
/// memory broadcast). The hidden activations live in a per-thread slice of shared memory after the weights,
/// interleaved by thread (h1[j] at ParamCount + j * G + lane, h2[j] at ParamCount + H1 * G + j * G + lane, with
/// G the context's group size) so that the threads of a warp touch 32 different banks. Locals are not
/// possible (the hidden sizes are runtime values and kernels have no arrays), and a global scratch buffer
/// would make every activation read an uncoalesced device-memory access.</para>
/// Shared memory = ParamCount + (H1 + H2) * Threads floats: 6600 + 128 * 32 = 10696 floats (42.8 KB) for the Ant
/// policy (29 -> 64 -> 64 -> 8) at 32 threads; keep it below 48 KB (the CUDA default without opt-in).
/// Numerically the same sums in the same order as <see cref="DenseForwardKernel{TF}"/> up to its four-way
/// unrolling (float32 results agree to rounding).
/// </summary>
public struct PolicyGroupForwardKernel<TF> : IGroupKernel where TF : struct, IView<float>
{
    /// <summary>x: (Learners, Rows, XStride), columns [XOffset, XOffset + In) used</summary>
    public TF X;
    /// <summary>p: (Learners, ParamStride)</summary>
    public TF P;
    /// <summary>y: (Learners, Rows, Out), the policy mean</summary>
    public TF Y;
    /// <summary>h1: (Learners, Rows, H1), written only when S.StoreHidden = 1</summary>
    public TF H1Out;
    /// <summary>h2: (Learners, Rows, H2), written only when S.StoreHidden = 1</summary>
    public TF H2Out;
    public PolicyGroupShape S;

    public readonly int GroupSize => S.Threads;

    public readonly int SharedFloats => S.SharedFloatsFor(S.Threads);

    public readonly void Execute<TG>(ref TG g) where TG : struct, IGroupContext
    {
        TF x = X, p = P, y = Y, h1o = H1Out, h2o = H2Out;
        int nIn = S.In, nH1 = S.H1, nH2 = S.H2, nOut = S.Out;
        int tiles = S.TilesPerLearner;
        int group = g.GroupIndex;
        int l = group / tiles;
        int tileStart = (group - l * tiles) * S.RowsPerGroup;
        int tileEnd = tileStart + S.RowsPerGroup;
        if (tileEnd > S.Rows) tileEnd = S.Rows;
        int lane = g.Lane, gs = g.GroupSize;
        int pBase = l * S.ParamStride;

        // shared: [sW1 (H1, In) | sW2 (H2, H1) | sW3 (Out, H2) | sB1 (H1) | sB2 (H2) | sB3 (Out) | h1 slices (H1, G) | h2 slices (H2, G)]
        int sW1 = 0, sW2 = sW1 + nH1 * nIn, sW3 = sW2 + nH2 * nH1;
        int sB1 = sW3 + nOut * nH2, sB2 = sB1 + nH1, sB3 = sB2 + nH2;
        int sH1 = sB3 + nOut, sH2 = sH1 + nH1 * gs;

        // ---- phase 1: stage the learner's parameters ----
        for (int i = lane; i < nH1 * nIn; i += gs) g.SetShared(sW1 + i, p[pBase + S.W1 + i]);
        for (int i = lane; i < nH2 * nH1; i += gs) g.SetShared(sW2 + i, p[pBase + S.W2 + i]);
        for (int i = lane; i < nOut * nH2; i += gs) g.SetShared(sW3 + i, p[pBase + S.W3 + i]);
        for (int i = lane; i < nH1; i += gs) g.SetShared(sB1 + i, p[pBase + S.B1 + i]);
        for (int i = lane; i < nH2; i += gs) g.SetShared(sB2 + i, p[pBase + S.B2 + i]);
        for (int i = lane; i < nOut; i += gs) g.SetShared(sB3 + i, p[pBase + S.B3 + i]);
        g.Barrier();

        // ---- phase 2: rows of the tile, one per thread at a time ----
        for (int r = tileStart + lane; r < tileEnd; r += gs)
        {
            int row = l * S.Rows + r;
            int xBase = row * S.XStride + S.XOffset;
            for (int j = 0; j < nH1; j++)
            {
                float z = g.Shared(sB1 + j);
                int w = sW1 + j * nIn;
                for (int i = 0; i < nIn; i++) z += g.Shared(w + i) * x[xBase + i];
                float h = Act.Tanh(z);
                g.SetShared(sH1 + j * gs + lane, h);
                if (S.StoreHidden != 0) h1o[row * nH1 + j] = h;
            }
            for (int j = 0; j < nH2; j++)
            {
                float z = g.Shared(sB2 + j);
                int w = sW2 + j * nH1;
                for (int i = 0; i < nH1; i++) z += g.Shared(w + i) * g.Shared(sH1 + i * gs + lane);
                float h = Act.Tanh(z);
                g.SetShared(sH2 + j * gs + lane, h);
                if (S.StoreHidden != 0) h2o[row * nH2 + j] = h;
            }
            for (int o = 0; o < nOut; o++)
            {
                float z = g.Shared(sB3 + o);
                int w = sW3 + o * nH2;
                for (int i = 0; i < nH2; i++) z += g.Shared(w + i) * g.Shared(sH2 + i * gs + lane);
                y[row * nOut + o] = z;
            }
        }
    }
}
