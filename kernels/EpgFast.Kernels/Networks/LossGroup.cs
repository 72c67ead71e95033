using EpgFast.Kernels.Launch;
using EpgFast.Kernels.Memory;

namespace EpgFast.Kernels.Networks;

/// <summary>
/// Sizes of <see cref="LossGroupKernel{TF, TI, TV, TL}"/>: its threads per group and its shared block.
/// <para>Shared floats (one group = one learner), in this order:
/// <code>
/// h0     (Len0, C0)       conv0 output after leaky ReLU; overwritten in place by dz0 (conv0 pre-activation gradient)
/// h1     (Len1, C1)       conv1 output after leaky ReLU; overwritten in place by dz1
/// pool   (C1)             mean over time of h1; later dpool
/// ctx    (Ctx)            context vector; later dctx
/// cst    (C0)             conv0 bias + the time-constant channels (log-std, memory); later Scale * sum_t dz0
/// hc     (Hidden)         head bias + the row-constant head inputs (ctx, log-std, memory)
/// act    (Minibatch, Hidden) head hidden activations; overwritten in place by their gradients dz
/// row    (Minibatch)      row loss y / Minibatch
/// rows   (Minibatch)      the sampled buffer rows (learner-relative, as floats: exact below 2^24)
/// hmean  (Minibatch, Act) the head's gradient to the policy mean at each sampled row
/// </code>
/// 4160 floats (16.6 KB) at the released sizes (N = 512, 16/32 channels, ctx 32, head 16, minibatch 32, act 8);
/// independent of the thread count.</para>
/// </summary>
public static class LossGroup
{
    /// <summary>GPU threads per group (one learner): the big phases have 400-500 work items, the small ones 32-330.</summary>
    public const int DefaultThreads = 128;

    /// <summary>Shared floats one group needs for <paramref name="s"/>.</summary>
    public static int SharedFloats(in LossNetShape s)
        => s.Len0 * s.C0 + s.Len1 * s.C1 + s.C1 + s.Ctx + s.C0 + s.Hidden + s.Minibatch * s.Hidden + 2 * s.Minibatch + s.Minibatch * s.Act;
}

/// <summary>
/// The EPG loss network's forward and backward (the eight launches of LossNetwork.cs: <see cref="LossConv0ForwardKernel{TF}"/>
/// ... <see cref="LossConv0BackwardConstKernel{TF}"/>) as one group kernel, one group per learner, with every
/// intermediate in the group's shared memory (layout in <see cref="LossGroup"/>). phi is read from device
/// memory directly (all learners of a member share it, so it stays in cache). Same outputs: Loss[l] written,
/// Scale * gradients added to DMean (all buffer rows), to G at the log-std and to DMem.
/// <para>Phases, separated by barriers, each a loop over its work items strided by the group size:
/// (0) conv0's bias + time-constant channels per output channel, the sampled rows;
/// (1) conv0 (items: 4 time steps x a lane of channels); (2) conv1 (time x 4 channels); (3) mean over time; (4) dense ctx;
/// (5) the head's row-constant part per hidden unit; (6) head hidden per (row, 4 units); (7) head output and
/// its gradient per row; (8) sums over the minibatch: loss, dctx, log-std and memory gradients (4 columns per item),
/// the mean gradient per sampled row; (9) dpool; (10) dz1; (11) conv1 backward to dz0 (time x 4 channels);
/// (12) DMean per buffer row (head part at sampled rows, then the context part, 4 action channels at a time), and
/// sum_t dz0 per channel;
/// (13) the time-constant channels' gradients (log-std; memory with MemoryThroughContext).</para>
/// Summation orders follow the launches except that the time-constant inputs of conv0 and the row-constant
/// inputs of the head are summed once per learner (float32 results agree to rounding). Where an item computes
/// several outputs (4 units, columns or channels) it keeps each output's order and only interleaves their sums, so
/// the CPU's out-of-order core has independent chains to overlap.
/// </summary>
public struct LossGroupKernel<TF, TI, TV, TL> : IGroupKernel
    where TF : struct, IView<float> where TI : struct, IView<int> where TV : unmanaged where TL : struct, ILanes<TV>
{
    /// <summary>traj: (Learners, Rows, TrajDim)</summary>
    public TF Traj;
    /// <summary>mean: (Learners, Rows, Act), the policy mean at every buffer row</summary>
    public TF Mean;
    /// <summary>p: (Learners, ParamStride), log-std read at LogStdOffset</summary>
    public TF P;
    /// <summary>mem: (Learners, Mem)</summary>
    public TF MemV;
    /// <summary>phi: (Members, PhiStride)</summary>
    public TF Phi;
    /// <summary>
    /// conv0t: (Members, (TrajDim + Act) K0, C0), conv0's weights for the traj and mean channels with the output channel
    /// fastest (<see cref="LossConv0TransposeKernel{TF}"/>): phase 1 reads C0 / Width lanes of output channels from it.
    /// </summary>
    public TF Conv0T;
    /// <summary>conv1t: (Members, K1 C0, C1), conv1's weights with the output channel fastest (phase 2), and conv1b:
    /// (Members, K1 C1, C0), with the input channel fastest (phase 11); see <see cref="LossConv1TransposeKernel{TF}"/>.</summary>
    public TF Conv1T;
    public TF Conv1B;
    /// <summary>idx: sampled row indices, see Sel</summary>
    public TI Idx;
    /// <summary>loss: (Learners), written: L_phi (unscaled)</summary>
    public TF Loss;
    /// <summary>dmean: (Learners, Rows, Act), accumulated into</summary>
    public TF DMean;
    /// <summary>g: (Learners, ParamStride), log-std gradient accumulated at LogStdOffset</summary>
    public TF G;
    /// <summary>dmem: (Learners, Mem), accumulated into</summary>
    public TF DMem;
    public LossNetShape S;
    public RowSelection Sel;
    public float Scale;
    /// <summary>1: the memory's gradient also flows through the context path (see <see cref="LossConv0BackwardConstKernel{TF}"/>).</summary>
    public int MemoryThroughContext;
    /// <summary>GPU threads per group.</summary>
    public int Threads;

    public readonly int GroupSize => Threads;

    public readonly int SharedFloats => LossGroup.SharedFloats(S);

    public readonly void Execute<TG>(ref TG g) where TG : struct, IGroupContext
    {
        TF traj = Traj, mean = Mean, p = P, memV = MemV, phi = Phi, loss = Loss, dMean = DMean, gr = G, dMem = DMem;
        TI idx = Idx;
        int l = g.GroupIndex, lane = g.Lane, gs = g.GroupSize;
        int T = S.TrajDim, A = S.Act, Mu = S.Mem, inDim = S.InDim, headIn = S.HeadIn;
        int N = S.Rows, K0 = S.K0, S0 = S.S0, C0 = S.C0, Len0 = S.Len0, K1 = S.K1, S1 = S.S1, C1 = S.C1, Len1 = S.Len1;
        int nCtx = S.Ctx, Hd = S.Hidden, mb = S.Minibatch;
        int pb = S.PhiBase(l);
        int ls = l * S.ParamStride + S.LogStdOffset;
        int ws0 = inDim * K0, ws1 = C0 * K1;
        float inv = 1f / mb;
        // head input columns: [traj (T) | ctx | mean | logstd | mem]
        int cCtx = T, cMean = cCtx + nCtx, cStd = cMean + A, cMem = cStd + A;

        // shared layout (see LossGroup)
        int sH0 = 0, sH1 = sH0 + Len0 * C0, sPool = sH1 + Len1 * C1, sCtx = sPool + C1, sCst = sCtx + nCtx;
        int sHc = sCst + C0, sAct = sHc + Hd, sRow = sAct + mb * Hd, sRows = sRow + mb, sHM = sRows + mb;

        // ---- 0: conv0 bias + time-constant channels (log-std, memory) per output channel; the sampled rows ----
        for (int i = lane; i < C0 + mb; i += gs)
        {
            if (i < C0)
            {
                float z = phi[pb + S.Conv0B + i];
                int wo = pb + S.Conv0W + i * ws0 + (T + A) * K0;
                for (int j = 0; j < A + Mu; j++)
                {
                    float v = j < A ? p[ls + j] : memV[l * Mu + j - A];
                    z += LossSums.Taps(phi, wo + j * K0, K0) * v;
                }
                g.SetShared(sCst + i, z);
            }
            else
            {
                int j = i - C0;
                g.SetShared(sRows + j, Sel.RowBase + idx[l * Sel.IdxStride + Sel.IdxOffset + j]);
            }
        }
        g.Barrier();

        // ---- 1: conv0 over the traj and mean channels, one lane of output channels for 4 time steps per item ----
        // h0[t, o .. o + W) = leaky(cst[o ..] + sum_{c, k} x[S0 t + k, c] conv0t[c, k, o .. o + W)); W = 1 on the GPU (an item
        // per (4 t, o): consecutive threads read consecutive weights), 16 on the CPU (one Vector512 for C0 = 16); each
        // weight lane serves four time steps (four independent sums, each in the order c, k)
        TL lanes = default;
        TF conv0t = Conv0T;
        int width = lanes.Width;
        int q0 = C0 / width;
        int wt0 = l / S.LearnersPerMember * (T + A) * K0 * C0;
        int tq = (Len0 + 3) / 4;
        for (int i = lane; i < tq * q0; i += gs)
        {
            int tb = i / q0;
            int o0 = (i - tb * q0) * width;
            int t0 = tb * 4;
            int nt = Len0 - t0 < 4 ? Len0 - t0 : 4;
            int n0 = l * N + t0 * S0;
            int w = wt0 + o0;
            if (nt == 4)
            {
                TV z0 = lanes.Splat(0f), z1 = z0, z2 = z0, z3 = z0;
                int r1 = n0 + S0, r2 = r1 + S0, r3 = r2 + S0;
                for (int c = 0; c < T; c++)
                    for (int k = 0; k < K0; k++, w += C0)
                    {
                        TV wv = lanes.Load(conv0t, w);
                        z0 = lanes.MulAdd(lanes.Splat(traj[(n0 + k) * T + c]), wv, z0);
                        z1 = lanes.MulAdd(lanes.Splat(traj[(r1 + k) * T + c]), wv, z1);
                        z2 = lanes.MulAdd(lanes.Splat(traj[(r2 + k) * T + c]), wv, z2);
                        z3 = lanes.MulAdd(lanes.Splat(traj[(r3 + k) * T + c]), wv, z3);
                    }
                for (int a = 0; a < A; a++)
                    for (int k = 0; k < K0; k++, w += C0)
                    {
                        TV wv = lanes.Load(conv0t, w);
                        z0 = lanes.MulAdd(lanes.Splat(mean[(n0 + k) * A + a]), wv, z0);
                        z1 = lanes.MulAdd(lanes.Splat(mean[(r1 + k) * A + a]), wv, z1);
                        z2 = lanes.MulAdd(lanes.Splat(mean[(r2 + k) * A + a]), wv, z2);
                        z3 = lanes.MulAdd(lanes.Splat(mean[(r3 + k) * A + a]), wv, z3);
                    }
                Conv0Store(ref g, sH0 + t0 * C0 + o0, sCst + o0, z0);
                Conv0Store(ref g, sH0 + (t0 + 1) * C0 + o0, sCst + o0, z1);
                Conv0Store(ref g, sH0 + (t0 + 2) * C0 + o0, sCst + o0, z2);
                Conv0Store(ref g, sH0 + (t0 + 3) * C0 + o0, sCst + o0, z3);
                continue;
            }
            for (int t = t0; t < t0 + nt; t++)
            {
                int nt0 = l * N + t * S0;
                TV z = lanes.Splat(0f);
                w = wt0 + o0;
                for (int c = 0; c < T; c++)
                    for (int k = 0; k < K0; k++, w += C0)
                        z = lanes.MulAdd(lanes.Splat(traj[(nt0 + k) * T + c]), lanes.Load(conv0t, w), z);
                for (int a = 0; a < A; a++)
                    for (int k = 0; k < K0; k++, w += C0)
                        z = lanes.MulAdd(lanes.Splat(mean[(nt0 + k) * A + a]), lanes.Load(conv0t, w), z);
                Conv0Store(ref g, sH0 + t * C0 + o0, sCst + o0, z);
            }
        }
        g.Barrier();

        // ---- 2: conv1, one lane of output channels per item: h1[t, o .. o + W) = leaky(b + sum_{k, c} h0[S1 t + k, c] conv1t[k, c, o ..]) ----
        TF conv1t = Conv1T;
        int q1 = C1 / width;
        int wt1 = l / S.LearnersPerMember * K1 * C0 * C1;
        for (int i = lane; i < Len1 * q1; i += gs)
        {
            int t = i / q1;
            int o0 = (i - t * q1) * width;
            TV z = lanes.Load(phi, pb + S.Conv1B + o0);
            int x0 = sH0 + t * S1 * C0;
            int w = wt1 + o0;
            for (int k = 0; k < K1; k++)
                for (int c = 0; c < C0; c++, w += C1)
                    z = lanes.MulAdd(lanes.Splat(g.Shared(x0 + k * C0 + c)), lanes.Load(conv1t, w), z);
            int h = sH1 + t * C1 + o0;
            for (int j = 0; j < width; j++) g.SetShared(h + j, Act.Apply(Activation.LeakyRelu, lanes.Lane(z, j)));
        }
        g.Barrier();

        // ---- 3: mean over time ----
        float invLen1 = 1f / Len1;
        for (int c = lane; c < C1; c += gs)
        {
            float s = 0f;
            for (int t = 0; t < Len1; t++) s += g.Shared(sH1 + t * C1 + c);
            g.SetShared(sPool + c, s * invLen1);
        }
        g.Barrier();

        // ---- 4: ctx = Wc pool + bc ----
        for (int o = lane; o < nCtx; o += gs)
        {
            float z = phi[pb + S.CtxB + o];
            int w = pb + S.CtxW + o * C1;
            for (int c = 0; c < C1; c++) z += phi[w + c] * g.Shared(sPool + c);
            g.SetShared(sCtx + o, z);
        }
        g.Barrier();

        // ---- 5: the head's row-constant part per hidden unit: bias + ctx + log-std + memory ----
        for (int h = lane; h < Hd; h += gs)
        {
            int w = pb + S.HeadW0 + h * headIn;
            float z = phi[pb + S.HeadB0 + h];
            for (int c = 0; c < nCtx; c++) z += phi[w + cCtx + c] * g.Shared(sCtx + c);
            for (int a = 0; a < A; a++) z += phi[w + cStd + a] * p[ls + a];
            for (int m = 0; m < Mu; m++) z += phi[w + cMem + m] * memV[l * Mu + m];
            g.SetShared(sHc + h, z);
        }
        g.Barrier();

        // ---- 6: head hidden activations per (sampled row, block of 4 units: four independent sums) ----
        int hq = (Hd + 3) / 4;
        for (int i = lane; i < mb * hq; i += gs)
        {
            int j = i / hq;
            int h0 = (i - j * hq) * 4;
            int n = l * N + (int)g.Shared(sRows + j);
            int w = pb + S.HeadW0 + h0 * headIn;
            if (h0 + 4 <= Hd)
            {
                float z0 = g.Shared(sHc + h0), z1 = g.Shared(sHc + h0 + 1), z2 = g.Shared(sHc + h0 + 2), z3 = g.Shared(sHc + h0 + 3);
                for (int c = 0; c < T; c++)
                {
                    float x = traj[n * T + c];
                    z0 += phi[w + c] * x;
                    z1 += phi[w + headIn + c] * x;
                    z2 += phi[w + 2 * headIn + c] * x;
                    z3 += phi[w + 3 * headIn + c] * x;
                }
                for (int a = 0; a < A; a++)
                {
                    float x = mean[n * A + a];
                    z0 += phi[w + cMean + a] * x;
                    z1 += phi[w + headIn + cMean + a] * x;
                    z2 += phi[w + 2 * headIn + cMean + a] * x;
                    z3 += phi[w + 3 * headIn + cMean + a] * x;
                }
                int at = sAct + j * Hd + h0;
                g.SetShared(at, Act.Apply(Activation.LeakyRelu, z0));
                g.SetShared(at + 1, Act.Apply(Activation.LeakyRelu, z1));
                g.SetShared(at + 2, Act.Apply(Activation.LeakyRelu, z2));
                g.SetShared(at + 3, Act.Apply(Activation.LeakyRelu, z3));
                continue;
            }
            for (int h = h0; h < Hd; h++, w += headIn)
            {
                float z = g.Shared(sHc + h);
                for (int c = 0; c < T; c++) z += phi[w + c] * traj[n * T + c];
                for (int a = 0; a < A; a++) z += phi[w + cMean + a] * mean[n * A + a];
                g.SetShared(sAct + j * Hd + h, Act.Apply(Activation.LeakyRelu, z));
            }
        }
        g.Barrier();

        // ---- 7: head output per row (row loss y / mb) and, in place of the activations, dz = d(y / mb)/dz ----
        for (int j = lane; j < mb; j += gs)
        {
            float y = phi[pb + S.HeadB1];
            for (int h = 0; h < Hd; h++) y += phi[pb + S.HeadW1 + h] * g.Shared(sAct + j * Hd + h);
            g.SetShared(sRow + j, y * inv);
            for (int h = 0; h < Hd; h++)
            {
                float act = g.Shared(sAct + j * Hd + h);
                g.SetShared(sAct + j * Hd + h, phi[pb + S.HeadW1 + h] * Act.GradFromOutput(Activation.LeakyRelu, act) * inv);
            }
        }
        g.Barrier();

        // ---- 8: sums over the minibatch. part(j, col) = sum_h W0[h, T + col] dz[j, h], col over [ctx | mean | logstd | mem] ----
        // items: [loss (1) | blocks of 4 row-constant columns: dctx (Ctx), log-std (Act), memory (Mem) | mean per (row, a) (mb * Act)];
        // a block sums its four columns side by side (four independent sums, each in the order j, then h)
        int wHead = pb + S.HeadW0 + T;
        int nCols = nCtx + A + Mu, colBlocks = (nCols + 3) / 4;
        for (int i = lane; i < 1 + colBlocks + mb * A; i += gs)
        {
            if (i == 0)
            {
                float sum = 0f;
                for (int j = 0; j < mb; j++) sum += g.Shared(sRow + j);
                loss[l] = sum;
            }
            else if (i < 1 + colBlocks)
            {
                int e0 = (i - 1) * 4;
                int ne = nCols - e0 < 4 ? nCols - e0 : 4;
                // column of item e: ctx, then log-std (col Ctx + Act + a), then memory; past the last: the last again
                int c0 = HeadCol(e0, nCtx, A), c1 = HeadCol(e0 + (ne > 1 ? 1 : 0), nCtx, A);
                int c2 = HeadCol(e0 + (ne > 2 ? 2 : 0), nCtx, A), c3 = HeadCol(e0 + (ne > 3 ? 3 : 0), nCtx, A);
                float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
                for (int j = 0; j < mb; j++)
                {
                    int dz = sAct + j * Hd;
                    float p0 = 0f, p1 = 0f, p2 = 0f, p3 = 0f;
                    for (int h = 0; h < Hd; h++)
                    {
                        float d = g.Shared(dz + h);
                        int w = wHead + h * headIn;
                        p0 += phi[w + c0] * d;
                        p1 += phi[w + c1] * d;
                        p2 += phi[w + c2] * d;
                        p3 += phi[w + c3] * d;
                    }
                    s0 += p0;
                    s1 += p1;
                    s2 += p2;
                    s3 += p3;
                }
                for (int e = 0; e < ne; e++)
                {
                    int col = e == 0 ? c0 : (e == 1 ? c1 : (e == 2 ? c2 : c3));
                    float s = e == 0 ? s0 : (e == 1 ? s1 : (e == 2 ? s2 : s3));
                    if (col < nCtx) g.SetShared(sCtx + col, s); // dctx (ctx itself is no longer needed)
                    else if (col < nCtx + 2 * A) gr[ls + col - nCtx - A] += Scale * s;
                    else dMem[l * Mu + col - nCtx - 2 * A] += Scale * s;
                }
            }
            else
            {
                int k = i - (1 + colBlocks);
                int j = k / A;
                int a = k - j * A;
                g.SetShared(sHM + k, Part(ref g, wHead + nCtx + a, sAct + j * Hd, Hd, headIn));
            }
        }
        g.Barrier();

        // ---- 9: dpool = Wc^T dctx / Len1 ----
        for (int c = lane; c < C1; c += gs)
        {
            float s = 0f;
            for (int o = 0; o < nCtx; o++) s += phi[pb + S.CtxW + o * C1 + c] * g.Shared(sCtx + o);
            g.SetShared(sPool + c, s / Len1);
        }
        g.Barrier();

        // ---- 10: dz1[t, c] = dpool[c] leaky'(h1[t, c]), in place ----
        for (int i = lane; i < Len1 * C1; i += gs)
        {
            int c = i % C1;
            g.SetShared(sH1 + i, g.Shared(sPool + c) * Act.GradFromOutput(Activation.LeakyRelu, g.Shared(sH1 + i)));
        }
        g.Barrier();

        // ---- 11: conv1 backward, one lane of channels per item, in place:
        //         dz0[t0, c .. c + W) = leaky'(h0[t0, c ..]) sum_{k, o: S1 t1 + k = t0} conv1b[k, o, c ..] dz1[t1, o] ----
        TF conv1b = Conv1B;
        int wb1 = l / S.LearnersPerMember * K1 * C1 * C0;
        for (int i = lane; i < Len0 * q0; i += gs)
        {
            int t0 = i / q0;
            int c0 = (i - t0 * q0) * width;
            TV a = lanes.Splat(0f);
            for (int k = 0; k < K1; k++)
            {
                int d = t0 - k;
                if (d < 0) break;
                int t1 = d / S1;
                if (t1 * S1 != d || t1 >= Len1) continue;
                int zb = sH1 + t1 * C1;
                int w = wb1 + k * C1 * C0 + c0;
                for (int o = 0; o < C1; o++, w += C0)
                    a = lanes.MulAdd(lanes.Splat(g.Shared(zb + o)), lanes.Load(conv1b, w), a);
            }
            int h = sH0 + t0 * C0 + c0;
            for (int j = 0; j < width; j++)
                g.SetShared(h + j, lanes.Lane(a, j) * Act.GradFromOutput(Activation.LeakyRelu, g.Shared(h + j)));
        }
        g.Barrier();

        // ---- 12: DMean per buffer row n (the head's part where n was sampled, then conv0 backward); sum_t dz0 per channel ----
        for (int i = lane; i < N + C0; i += gs)
        {
            if (i < N)
            {
                int n = i;
                int sampled = 0;
                for (int j = 0; j < mb; j++)
                    if ((int)g.Shared(sRows + j) == n) sampled = 1;
                // the context part of four action channels at a time (four independent sums), then the head part
                for (int a0 = 0; a0 < A; a0 += 4)
                {
                    int na = A - a0 < 4 ? A - a0 : 4;
                    float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
                    for (int k = 0; k < K0; k++)
                    {
                        int d = n - k;
                        if (d < 0) break;
                        int t0 = d / S0;
                        if (t0 * S0 != d || t0 >= Len0) continue;
                        int w = pb + S.Conv0W + (T + a0) * K0 + k;
                        int zb = sH0 + t0 * C0;
                        if (na == 4)
                            for (int o = 0; o < C0; o++)
                            {
                                float dz = g.Shared(zb + o);
                                int wo = w + o * ws0;
                                s0 += phi[wo] * dz;
                                s1 += phi[wo + K0] * dz;
                                s2 += phi[wo + 2 * K0] * dz;
                                s3 += phi[wo + 3 * K0] * dz;
                            }
                        else
                            for (int o = 0; o < C0; o++)
                            {
                                float dz = g.Shared(zb + o);
                                int wo = w + o * ws0;
                                s0 += phi[wo] * dz;
                                if (na > 1) s1 += phi[wo + K0] * dz;
                                if (na > 2) s2 += phi[wo + 2 * K0] * dz;
                            }
                    }
                    for (int e = 0; e < na; e++)
                    {
                        int a = a0 + e;
                        int at = (l * N + n) * A + a;
                        float v = dMean[at];
                        if (sampled != 0)
                            for (int j = 0; j < mb; j++)
                                if ((int)g.Shared(sRows + j) == n) v += Scale * g.Shared(sHM + j * A + a);
                        float s = e == 0 ? s0 : (e == 1 ? s1 : (e == 2 ? s2 : s3));
                        dMean[at] = v + Scale * s;
                    }
                }
            }
            else
            {
                int o = i - N;
                float s = 0f;
                for (int t = 0; t < Len0; t++) s += g.Shared(sH0 + t * C0 + o);
                g.SetShared(sCst + o, s * Scale); // conv0's constant part is no longer needed
            }
        }
        g.Barrier();

        // ---- 13: the time-constant channels: log-std (and memory with MemoryThroughContext) ----
        int nConst = A + (MemoryThroughContext != 0 ? Mu : 0);
        for (int j = lane; j < nConst; j += gs)
        {
            int at = j < A ? ls + j : l * Mu + j - A;
            float v = j < A ? gr[at] : dMem[at];
            int wc = pb + S.Conv0W + (T + A + j) * K0;
            for (int o = 0; o < C0; o++) v += g.Shared(sCst + o) * LossSums.Taps(phi, wc + o * ws0, K0);
            if (j < A) gr[at] = v;
            else dMem[at] = v;
        }
    }

    /// <summary>h0[h .. h + W) = leaky(cst[c .. c + W) + z): a lane of conv0's outputs into shared memory.</summary>
    private static void Conv0Store<TG>(ref TG g, int h, int c, TV z) where TG : struct, IGroupContext
    {
        TL lanes = default;
        for (int j = 0; j < lanes.Width; j++) g.SetShared(h + j, Act.Apply(Activation.LeakyRelu, g.Shared(c + j) + lanes.Lane(z, j)));
    }

    /// <summary>The head input column (after the traj columns) of row-constant item e: ctx (e &lt; nCtx), then log-std, then memory (the mean columns skipped).</summary>
    private static int HeadCol(int e, int nCtx, int act) => e < nCtx ? e : e + act;

    /// <summary>part(j, col) = sum_h phi[w + h * headIn] dz[j, h] with dz at shared[dz + h]: the head's gradient to one input column at one row.</summary>
    private readonly float Part<TG>(ref TG g, int w, int dz, int hidden, int headIn) where TG : struct, IGroupContext
    {
        TF phi = Phi;
        float s = 0f;
        for (int h = 0; h < hidden; h++) s += phi[w + h * headIn] * g.Shared(dz + h);
        return s;
    }
}

/// <summary>
/// conv0t[m, (c K0 + k) C0 + o] = W0[o, c, k] of member m's phi for the traj and mean channels c &lt; TrajDim + Act (Chainer's
/// (C0, InDim, K0) layout turned output-channel-fastest), the layout <see cref="LossGroupKernel{TF, TI, TV, TL}"/>'s conv0 reads.
/// One work item per (member, c, k).
/// </summary>
public struct LossConv0TransposeKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>phi: (Members, PhiStride)</summary>
    public TF Phi;
    /// <summary>conv0t: (Members, (TrajDim + Act) K0, C0), written</summary>
    public TF Conv0T;
    public LossNetShape S;

    public readonly void Execute(int index)
    {
        TF t = Conv0T;
        int taps = (S.TrajDim + S.Act) * S.K0;
        int m = index / taps;
        int ck = index - m * taps;
        int w = m * S.PhiStride + S.Conv0W + ck; // W0[o, c, k] at o * InDim * K0 + c * K0 + k, and ck = c * K0 + k
        int ws0 = S.InDim * S.K0;
        for (int o = 0; o < S.C0; o++) t[index * S.C0 + o] = Phi[w + o * ws0];
    }
}

/// <summary>
/// Member m's conv1 weights W1[o, c, k] (Chainer's (C1, C0, K1)) in the two layouts <see cref="LossGroupKernel{TF, TI, TV, TL}"/>
/// reads: conv1t[m, (k C0 + c) C1 + o] (output channel fastest, the forward) and conv1b[m, (k C1 + o) C0 + c] (input channel
/// fastest, the backward). One work item per (member, k, c).
/// </summary>
public struct LossConv1TransposeKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>phi: (Members, PhiStride)</summary>
    public TF Phi;
    /// <summary>conv1t: (Members, K1 C0, C1), written</summary>
    public TF Conv1T;
    /// <summary>conv1b: (Members, K1 C1, C0), written</summary>
    public TF Conv1B;
    public LossNetShape S;

    public readonly void Execute(int index)
    {
        TF t = Conv1T, b = Conv1B;
        int per = S.K1 * S.C0;
        int m = index / per;
        int kc = index - m * per;
        int k = kc / S.C0, c = kc - k * S.C0;
        int w = m * S.PhiStride + S.Conv1W + c * S.K1 + k; // W1[o, c, k] at o * C0 * K1 + c * K1 + k
        int ws1 = S.C0 * S.K1;
        int tb = m * per * S.C1 + kc * S.C1;
        int bb = m * per * S.C1 + k * S.C1 * S.C0 + c;
        for (int o = 0; o < S.C1; o++)
        {
            float v = Phi[w + o * ws1];
            t[tb + o] = v;
            b[bb + o * S.C0] = v;
        }
    }
}
