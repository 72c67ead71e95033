using System.Runtime.CompilerServices;
using EpgFast.Kernels.Launch;
using EpgFast.Kernels.Memory;

namespace EpgFast.Kernels.Networks;

/// <summary>
/// The policy MLP the group kernels compute: In -> H1 tanh -> H2 tanh -> Out linear for Rows rows of each of
/// Learners learners, one parameter block per learner (stride ParamStride; W row-major (out, in) at W1/W2/W3, biases
/// at B1/B2/B3, the same offsets as <c>MlpLayout</c>). The input is a column window of wider rows:
/// x[l, r, i] = X[(l * Rows + r) * XStride + XOffset + i].
/// </summary>
public struct PolicyMlpShape
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

    /// <summary>Floats of one learner's policy weights and biases.</summary>
    public readonly int ParamCount => H1 * In + H2 * H1 + Out * H2 + H1 + H2 + Out;

    /// <summary>Multiply-adds of one row's forward pass through the three layers.</summary>
    public readonly int MacsPerRow => In * H1 + H1 * H2 + H2 * Out;

    /// <summary>
    /// Row stride of a weight matrix with <paramref name="cols"/> columns staged in shared memory: odd, so that threads
    /// reading the same column of consecutive rows hit distinct banks (a stride of 64 would put them all in one).
    /// </summary>
    public static int Padded(int cols) => cols % 2 == 0 ? cols + 1 : cols;

    /// <summary>Shared floats of the staged W1, W2, W3 (padded rows).</summary>
    public readonly int W1Floats => H1 * Padded(In);
    public readonly int W2Floats => H2 * Padded(H1);
    public readonly int W3Floats => Out * Padded(H2);
}

/// <summary>
/// Shape of the batched policy MLP forward as a group kernel (<see cref="PolicyGroupForwardKernel{TF}"/>): the MLP M,
/// whose rows of a learner are cut into chunks of RowsPerGroup, one group per (learner, chunk), each chunk walked in
/// tiles of TileRows.
/// </summary>
public struct PolicyGroupShape
{
    public PolicyMlpShape M;
    /// <summary>Rows one group computes (the learner's weights are staged once per group).</summary>
    public int RowsPerGroup;
    /// <summary>Rows per tile: the tile's inputs and hidden activations live in shared memory.</summary>
    public int TileRows;
    /// <summary>GPU threads per group.</summary>
    public int Threads;

    public readonly int TilesPerLearner => (M.Rows + RowsPerGroup - 1) / RowsPerGroup;

    /// <summary>Groups to launch.</summary>
    public readonly int Groups => M.Learners * TilesPerLearner;

    /// <summary>Shared floats: the staged parameters (weight rows padded), then one tile's x, h1 and h2 (the same for any thread count).</summary>
    public readonly int SharedFloats => M.W1Floats + M.W2Floats + M.W3Floats + M.H1 + M.H2 + M.Out + TileRows * (M.In + M.H1 + M.H2);

    /// <summary>Flops of the forward pass (2 per multiply-add, biases and tanh 1 each), all learners and rows.</summary>
    public readonly long ForwardFlops => (long)M.Learners * M.Rows * (2L * M.MacsPerRow + M.H1 + M.H2 + M.Out);
}

/// <summary>
/// Batched policy forward, one group per (learner, chunk of RowsPerGroup rows): the learner's
/// weights are read from device memory once per group into shared memory, and the chunk is walked in tiles whose
/// inputs and activations stay in shared memory:
/// <list type="number">
/// <item>stage W1, W2, W3, b1, b2, b3 (in that order); barrier;</item>
/// <item>per tile: load x; barrier; h1 = tanh(W1 x + b1), one (row, unit) pair per thread; barrier;
/// h2 = tanh(W2 h1 + b2); barrier; y = W3 h2 + b3 written to Y; barrier.</item>
/// </list>
/// In the pair phases the threads of a warp take consecutive units of one row: they read the same column of
/// consecutive weight rows, staged with an odd row stride (<see cref="PolicyMlpShape.Padded"/>) so that the 32 reads
/// fall in 32 banks, broadcast the row's inputs, and write Y coalesced. The hidden activations are not kept: the
/// backward (<see cref="PolicyGroupBackwardKernel{TF}"/>) recomputes them. Every phase has TileRows x units
/// work items (16 x 64 = 1024 for the hidden layers), so a 256-thread group is busy. Shared memory: the padded weights
/// and biases plus TileRows (In + H1 + H2) floats = 6672 + 16 x 157 = 9184 (36.7 KB) for the Ant policy, under the
/// 48 KB CUDA default. On the CPU launcher one thread runs the group.
/// Sums: bias first, then the inputs in order in four partial sums (float32 results agree with the CPU launcher's
/// lanes passes to rounding).
/// </summary>
public struct PolicyGroupForwardKernel<TF> : IGroupKernel where TF : struct, IView<float>
{
    /// <summary>x: (Learners, Rows, XStride), columns [XOffset, XOffset + In) used</summary>
    public TF X;
    /// <summary>p: (Learners, ParamStride)</summary>
    public TF P;
    /// <summary>y: (Learners, Rows, Out), the policy mean</summary>
    public TF Y;
    public PolicyGroupShape S;

    public readonly int GroupSize => S.Threads;

    public readonly int SharedFloats => S.SharedFloats;

    public readonly void Execute<TG>(ref TG g) where TG : struct, IGroupContext
    {
        TF x = X, p = P, y = Y;
        int nIn = S.M.In, nH1 = S.M.H1, nH2 = S.M.H2, nOut = S.M.Out, tileRows = S.TileRows;
        int chunks = S.TilesPerLearner;
        int group = g.GroupIndex;
        int l = group / chunks;
        int chunkStart = (group - l * chunks) * S.RowsPerGroup;
        int chunkEnd = chunkStart + S.RowsPerGroup < S.M.Rows ? chunkStart + S.RowsPerGroup : S.M.Rows;
        int lane = g.Lane, gs = g.GroupSize;
        int pBase = l * S.M.ParamStride;

        // shared: [sW1 (H1, In) | sW2 (H2, H1) | sW3 (Out, H2) | sB1 (H1) | sB2 (H2) | sB3 (Out) | tile: x (T, In) | h1 (T, H1) | h2 (T, H2)]
        int ld1 = PolicyMlpShape.Padded(nIn), ld2 = PolicyMlpShape.Padded(nH1), ld3 = PolicyMlpShape.Padded(nH2);
        int sW1 = 0, sW2 = sW1 + S.M.W1Floats, sW3 = sW2 + S.M.W2Floats;
        int sB1 = sW3 + S.M.W3Floats, sB2 = sB1 + nH1, sB3 = sB2 + nH2;
        int sX = sB3 + nOut, sH1 = sX + tileRows * nIn, sH2 = sH1 + tileRows * nH1;

        PolicyTiles.StageMatrix(ref g, p, pBase + S.M.W1, sW1, nH1, nIn, ld1);
        PolicyTiles.StageMatrix(ref g, p, pBase + S.M.W2, sW2, nH2, nH1, ld2);
        PolicyTiles.StageMatrix(ref g, p, pBase + S.M.W3, sW3, nOut, nH2, ld3);
        PolicyTiles.Stage(ref g, p, pBase + S.M.B1, sB1, nH1);
        PolicyTiles.Stage(ref g, p, pBase + S.M.B2, sB2, nH2);
        PolicyTiles.Stage(ref g, p, pBase + S.M.B3, sB3, nOut);
        g.Barrier();

        for (int t0 = chunkStart; t0 < chunkEnd; t0 += tileRows)
        {
            int rows = chunkEnd - t0 < tileRows ? chunkEnd - t0 : tileRows;
            int row0 = l * S.M.Rows + t0;
            PolicyTiles.LoadX(ref g, x, row0, S.M.XStride, S.M.XOffset, sX, nIn, rows);
            g.Barrier();
            PolicyTiles.DenseTile(ref g, sW1, ld1, sB1, sX, nIn, sH1, nH1, rows, 1);
            g.Barrier();
            PolicyTiles.DenseTile(ref g, sW2, ld2, sB2, sH1, nH1, sH2, nH2, rows, 1);
            g.Barrier();
            // y = W3 h2 + b3 straight to device memory
            for (int e = lane; e < rows * nOut; e += gs)
            {
                int r = e / nOut, o = e - r * nOut;
                y[row0 * nOut + e] = PolicyTiles.Dot(ref g, sB3 + o, sW3 + o * ld3, sH2 + r * nH2, nH2);
            }
            g.Barrier();
        }
    }
}

/// <summary>The tile phases the policy group kernels share (each strided over the group's threads).</summary>
public static class PolicyTiles
{
    /// <summary>shared[to + i] = src[from + i] for i &lt; n.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Stage<TG, TF>(ref TG g, TF src, int from, int to, int n) where TG : struct, IGroupContext where TF : struct, IView<float>
    {
        for (int i = g.Lane; i < n; i += g.GroupSize) g.SetShared(to + i, src[from + i]);
    }

    /// <summary>A (rows, cols) row-major matrix into shared memory with row stride ld: shared[to + r * ld + c] = src[from + r * cols + c].</summary>
    public static void StageMatrix<TG, TF>(ref TG g, TF src, int from, int to, int rows, int cols, int ld)
        where TG : struct, IGroupContext where TF : struct, IView<float>
    {
        for (int e = g.Lane; e < rows * cols; e += g.GroupSize)
        {
            int r = e / cols;
            g.SetShared(to + r * ld + (e - r * cols), src[from + e]);
        }
    }

    /// <summary>The tile's inputs: shared[sX + r * nIn + i] = x[(row0 + r) * xStride + xOffset + i] for r &lt; rows.</summary>
    public static void LoadX<TG, TF>(ref TG g, TF x, int row0, int xStride, int xOffset, int sX, int nIn, int rows)
        where TG : struct, IGroupContext where TF : struct, IView<float>
    {
        for (int e = g.Lane; e < rows * nIn; e += g.GroupSize)
        {
            int r = e / nIn;
            g.SetShared(sX + e, x[(row0 + r) * xStride + xOffset + (e - r * nIn)]);
        }
    }

    /// <summary>shared[b] + sum_i shared[w + i] shared[v + i] over n terms, four partial sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot<TG>(ref TG g, int b, int w, int v, int n) where TG : struct, IGroupContext
    {
        float z0 = 0f, z1 = 0f, z2 = 0f, z3 = 0f;
        int i = 0;
        for (; i + 4 <= n; i += 4)
        {
            z0 += g.Shared(w + i) * g.Shared(v + i);
            z1 += g.Shared(w + i + 1) * g.Shared(v + i + 1);
            z2 += g.Shared(w + i + 2) * g.Shared(v + i + 2);
            z3 += g.Shared(w + i + 3) * g.Shared(v + i + 3);
        }
        for (; i < n; i++) z0 += g.Shared(w + i) * g.Shared(v + i);
        return g.Shared(b) + ((z0 + z1) + (z2 + z3));
    }

    /// <summary>
    /// Tile layer: out[r, j] = act(b[j] + sum_i W[j, i] in[r, i]) for r &lt; rows, j &lt; nOut (tanh: 1, linear: 0), one pair
    /// per thread; W staged with row stride ld.
    /// </summary>
    public static void DenseTile<TG>(ref TG g, int sW, int ld, int sB, int sIn, int nIn, int sOut, int nOut, int rows, int tanh) where TG : struct, IGroupContext
    {
        for (int e = g.Lane; e < rows * nOut; e += g.GroupSize)
        {
            int r = e / nOut, j = e - r * nOut;
            float z = Dot(ref g, sB + j, sW + j * ld, sIn + r * nIn, nIn);
            g.SetShared(sOut + e, tanh != 0 ? Act.Tanh(z) : z);
        }
    }
}

/// <summary>
/// Shape of the fused policy backward (<see cref="PolicyGroupBackwardKernel{TF}"/>): the MLP M, one group per
/// learner, its rows cut into tiles of TileRows.
/// </summary>
public struct PolicyBackwardShape
{
    public PolicyMlpShape M;
    /// <summary>Rows per tile: the tile's inputs, activations and gradients live in shared memory.</summary>
    public int TileRows;
    /// <summary>GPU threads per group.</summary>
    public int Threads;

    /// <summary>Shared floats of the staged weights: W2, W3, W1, b1, b2.</summary>
    public readonly int WeightFloats => M.W2Floats + M.W3Floats + M.W1Floats + M.H1 + M.H2;

    /// <summary>Shared floats of one tile: x (In), h1, h2, dz1, dz2 and dz3 (Out) per row.</summary>
    public readonly int TileFloats => TileRows * (M.In + 2 * M.H1 + 2 * M.H2 + M.Out);

    public readonly int SharedFloats => WeightFloats + TileFloats;

    /// <summary>Flops of one launch (2 per multiply-add; the recomputed forward included).</summary>
    public readonly long Flops
    {
        get
        {
            long backward = 2L * M.MacsPerRow + 2L * (M.H1 * M.H2 + M.H2 * M.Out) + 3L * (M.H1 + M.H2) + M.Out;
            long forward = 2L * (M.In * M.H1 + M.H1 * M.H2) + M.H1 + M.H2;
            return (long)M.Learners * M.Rows * (backward + forward);
        }
    }
}

/// <summary>
/// The policy's backward pass over all of a learner's rows as one group kernel, fused: g += d(sum dY . y)/d(W, b)
/// for the three layers, with every intermediate (the tile's inputs, hidden activations and their gradients) in
/// shared memory instead of device buffers of (Learners, Rows, H) floats. One group per learner (its gradient
/// block is written by that group alone: no atomics); the learner's rows are walked in tiles of TileRows:
/// <list type="number">
/// <item>stage W2, W3, W1, b1, b2 in shared memory; barrier;</item>
/// <item>per tile: load x and dz3 = dY (linear output); barrier; recompute h1 = tanh(W1 x + b1), then
/// h2 = tanh(W2 h1 + b2), a barrier after each;</item>
/// <item>dz2 = (1 - h2^2) W3^T dz3, one (row, unit) pair per thread; barrier;</item>
/// <item>dz1 = (1 - h1^2) W2^T dz2; barrier;</item>
/// <item>every gradient entry, one per thread: g[W1 (o, i)] += sum_r dz1[r, o] x[r, i], likewise W2 over h1, W3 over
/// h2, biases sum_r dz[r, o]; barrier (the next tile reuses the shared block).</item>
/// </list>
/// Tiles are row-major (row, unit): in the pair phases the threads of a warp take consecutive units of one row,
/// so they read consecutive weights (no bank conflicts) and broadcast the row's value. Shared memory for the Ant
/// policy (29 -> 64 -> 64 -> 8) with 16-row tiles (weight rows padded to an odd stride): 11352 floats (45 KB), under
/// the 48 KB CUDA default. Nothing per row is kept between the forward and this pass but the input.
/// On the CPU launcher one thread runs the group over a scratch block that stays in L1/L2.
/// The float64 reference (NetworkReference.Mlp) is its oracle; float32 results agree with the CPU launcher's lanes
/// passes to rounding.
/// </summary>
public struct PolicyGroupBackwardKernel<TF> : IGroupKernel where TF : struct, IView<float>
{
    /// <summary>x: (Learners, Rows, XStride), the forward's input, columns [XOffset, XOffset + In) used</summary>
    public TF X;
    /// <summary>p: (Learners, ParamStride)</summary>
    public TF P;
    /// <summary>dy: (Learners, Rows, Out), the gradient at the output (the policy mean)</summary>
    public TF DY;
    /// <summary>g: (Learners, ParamStride), accumulated into at the policy's offsets</summary>
    public TF G;
    public PolicyBackwardShape S;

    public readonly int GroupSize => S.Threads;

    public readonly int SharedFloats => S.SharedFloats;

    public readonly void Execute<TG>(ref TG g) where TG : struct, IGroupContext
    {
        TF x = X, p = P, dy = DY, grad = G;
        int nIn = S.M.In, nH1 = S.M.H1, nH2 = S.M.H2, nOut = S.M.Out, tileRows = S.TileRows;
        int l = g.GroupIndex;
        int lane = g.Lane, gs = g.GroupSize;
        int pBase = l * S.M.ParamStride;

        // shared: [sW2 (H2, H1) | sW3 (Out, H2) | sW1 (H1, In) | sB1 (H1) | sB2 (H2)
        //          | tile: x (T, In) | h1 (T, H1) | h2 (T, H2) | dz1 (T, H1) | dz2 (T, H2) | dz3 (T, Out)]
        int ld1 = PolicyMlpShape.Padded(nIn), ld2 = PolicyMlpShape.Padded(nH1), ld3 = PolicyMlpShape.Padded(nH2);
        int sW2 = 0, sW3 = sW2 + S.M.W2Floats, sW1 = sW3 + S.M.W3Floats;
        int sB1 = sW1 + S.M.W1Floats, sB2 = sB1 + nH1;
        int sX = S.WeightFloats;
        int sH1 = sX + tileRows * nIn, sH2 = sH1 + tileRows * nH1;
        int sD1 = sH2 + tileRows * nH2, sD2 = sD1 + tileRows * nH1, sD3 = sD2 + tileRows * nH2;

        // ---- stage the weights ----
        PolicyTiles.StageMatrix(ref g, p, pBase + S.M.W2, sW2, nH2, nH1, ld2);
        PolicyTiles.StageMatrix(ref g, p, pBase + S.M.W3, sW3, nOut, nH2, ld3);
        PolicyTiles.StageMatrix(ref g, p, pBase + S.M.W1, sW1, nH1, nIn, ld1);
        PolicyTiles.Stage(ref g, p, pBase + S.M.B1, sB1, nH1);
        PolicyTiles.Stage(ref g, p, pBase + S.M.B2, sB2, nH2);
        g.Barrier();

        for (int t0 = 0; t0 < S.M.Rows; t0 += tileRows)
        {
            int rows = S.M.Rows - t0 < tileRows ? S.M.Rows - t0 : tileRows;
            int row0 = l * S.M.Rows + t0;

            // ---- load the tile: x and dz3 = dy ----
            PolicyTiles.LoadX(ref g, x, row0, S.M.XStride, S.M.XOffset, sX, nIn, rows);
            for (int e = lane; e < rows * nOut; e += gs) g.SetShared(sD3 + e, dy[row0 * nOut + e]);
            g.Barrier();

            // ---- recompute the hidden activations of the tile ----
            PolicyTiles.DenseTile(ref g, sW1, ld1, sB1, sX, nIn, sH1, nH1, rows, 1);
            g.Barrier();
            PolicyTiles.DenseTile(ref g, sW2, ld2, sB2, sH1, nH1, sH2, nH2, rows, 1);
            g.Barrier();

            // ---- back through layer 3, then layer 2: dz_prev = (1 - h^2) W^T dz ----
            BackTile(ref g, sW3, ld3, sD3, nOut, sH2, sD2, nH2, rows);
            g.Barrier();
            BackTile(ref g, sW2, ld2, sD2, nH2, sH1, sD1, nH1, rows);
            g.Barrier();

            // ---- parameter gradients, one entry per thread ----
            WeightGrad(ref g, grad, pBase + S.M.W1, sD1, nH1, sX, nIn, rows);
            WeightGrad(ref g, grad, pBase + S.M.W2, sD2, nH2, sH1, nH1, rows);
            WeightGrad(ref g, grad, pBase + S.M.W3, sD3, nOut, sH2, nH2, rows);
            BiasGrad(ref g, grad, pBase + S.M.B1, sD1, nH1, rows);
            BiasGrad(ref g, grad, pBase + S.M.B2, sD2, nH2, rows);
            BiasGrad(ref g, grad, pBase + S.M.B3, sD3, nOut, rows);
            g.Barrier();
        }
    }

    /// <summary>
    /// Tile backward through a dense layer into a tanh layer: dPrev[r, j] = (1 - h[r, j]^2) sum_o W[o, j] dz[r, o]
    /// (W: (nOut, nPrev) staged with row stride ld), one (r, j) pair per thread.
    /// </summary>
    private static void BackTile<TG>(ref TG g, int sW, int ld, int sDz, int nOut, int sH, int sDPrev, int nPrev, int rows) where TG : struct, IGroupContext
    {
        for (int e = g.Lane; e < rows * nPrev; e += g.GroupSize)
        {
            int r = e / nPrev, j = e - r * nPrev;
            int dz = sDz + r * nOut, w = sW + j;
            float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
            int o = 0;
            for (; o + 4 <= nOut; o += 4)
            {
                s0 += g.Shared(w + o * ld) * g.Shared(dz + o);
                s1 += g.Shared(w + (o + 1) * ld) * g.Shared(dz + o + 1);
                s2 += g.Shared(w + (o + 2) * ld) * g.Shared(dz + o + 2);
                s3 += g.Shared(w + (o + 3) * ld) * g.Shared(dz + o + 3);
            }
            for (; o < nOut; o++) s0 += g.Shared(w + o * ld) * g.Shared(dz + o);
            float h = g.Shared(sH + e);
            g.SetShared(sDPrev + e, (1f - h * h) * ((s0 + s1) + (s2 + s3)));
        }
    }

    /// <summary>
    /// grad[w + o * nIn + i] += sum_r dz[r, o] in[r, i] over the tile's rows, one (o, i) entry per thread
    /// (consecutive threads take consecutive i: coalesced gradient writes, broadcast dz reads).
    /// </summary>
    private static void WeightGrad<TG>(ref TG g, TF grad, int w, int sDz, int nOut, int sIn, int nIn, int rows) where TG : struct, IGroupContext
    {
        int lane = g.Lane, gs = g.GroupSize;
        int o = lane / nIn, i = lane - o * nIn;
        for (int e = lane; e < nOut * nIn; e += gs)
        {
            float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
            int r = 0;
            for (; r + 4 <= rows; r += 4)
            {
                s0 += g.Shared(sDz + r * nOut + o) * g.Shared(sIn + r * nIn + i);
                s1 += g.Shared(sDz + (r + 1) * nOut + o) * g.Shared(sIn + (r + 1) * nIn + i);
                s2 += g.Shared(sDz + (r + 2) * nOut + o) * g.Shared(sIn + (r + 2) * nIn + i);
                s3 += g.Shared(sDz + (r + 3) * nOut + o) * g.Shared(sIn + (r + 3) * nIn + i);
            }
            for (; r < rows; r++) s0 += g.Shared(sDz + r * nOut + o) * g.Shared(sIn + r * nIn + i);
            grad[w + e] += (s0 + s1) + (s2 + s3);
            // next entry: i += gs, carried into o (one division per wrap; on the CPU gs = 1, so rarely)
            i += gs;
            if (i >= nIn)
            {
                int q = i / nIn;
                o += q;
                i -= q * nIn;
            }
        }
    }

    /// <summary>grad[b + o] += sum_r dz[r, o] over the tile's rows, one unit per thread.</summary>
    private static void BiasGrad<TG>(ref TG g, TF grad, int b, int sDz, int n, int rows) where TG : struct, IGroupContext
    {
        for (int o = g.Lane; o < n; o += g.GroupSize)
        {
            float s = 0f;
            for (int r = 0; r < rows; r++) s += g.Shared(sDz + r * n + o);
            grad[b + o] += s;
        }
    }
}
