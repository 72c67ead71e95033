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

/// <summary>
/// Context path, first convolution: h0[l, t, o] = leaky(b[o] + sum_{c, k} W0[o, c, k] x[l, S0 t + k, c])
/// with x the input row (traj | mean | logstd | mem; W0 is Chainer's (C0, InDim, K0)). The log-std and
/// memory channels are constant in time, so their taps are summed first. One work item per (learner, t).
/// </summary>
public struct LossConv0ForwardKernel<TF> : IKernel where TF : struct, IView<float>
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
    /// <summary>h0: (Learners, Len0, C0), written (after leaky ReLU)</summary>
    public TF H0;
    public LossNetShape S;

    public readonly void Execute(int index)
    {
        TF traj = Traj, mean = Mean, p = P, memV = MemV, phi = Phi, h0 = H0;
        int l = index / S.Len0;
        int t = index - l * S.Len0;
        int n0 = l * S.Rows + t * S.S0;
        int inDim = S.InDim;
        int pb = S.PhiBase(l);
        int ls = l * S.ParamStride + S.LogStdOffset;
        int K0 = S.K0, T = S.TrajDim, A = S.Act, ws = inDim * K0;
        int o = 0;
        // Four output channels at a time: each input value is loaded once for four independent accumulators.
        for (; o + 4 <= S.C0; o += 4)
        {
            int b = pb + S.Conv0B + o;
            float z0 = phi[b], z1 = phi[b + 1], z2 = phi[b + 2], z3 = phi[b + 3];
            int wo = pb + S.Conv0W + o * ws;
            for (int c = 0; c < T; c++)
            {
                int wc = wo + c * K0;
                int x = n0 * T + c;
                for (int k = 0; k < K0; k++)
                {
                    float v = traj[x + k * T];
                    z0 += phi[wc + k] * v;
                    z1 += phi[wc + ws + k] * v;
                    z2 += phi[wc + 2 * ws + k] * v;
                    z3 += phi[wc + 3 * ws + k] * v;
                }
            }
            for (int a = 0; a < A; a++)
            {
                int wc = wo + (T + a) * K0;
                int x = n0 * A + a;
                for (int k = 0; k < K0; k++)
                {
                    float v = mean[x + k * A];
                    z0 += phi[wc + k] * v;
                    z1 += phi[wc + ws + k] * v;
                    z2 += phi[wc + 2 * ws + k] * v;
                    z3 += phi[wc + 3 * ws + k] * v;
                }
            }
            int nConst = A + S.Mem;
            for (int j = 0; j < nConst; j++)
            {
                float v = j < A ? p[ls + j] : memV[l * S.Mem + j - A];
                int wc = wo + (T + A + j) * K0;
                for (int k = 0; k < K0; k++)
                {
                    z0 += phi[wc + k] * v;
                    z1 += phi[wc + ws + k] * v;
                    z2 += phi[wc + 2 * ws + k] * v;
                    z3 += phi[wc + 3 * ws + k] * v;
                }
            }
            h0[index * S.C0 + o] = Act.Apply(Activation.LeakyRelu, z0);
            h0[index * S.C0 + o + 1] = Act.Apply(Activation.LeakyRelu, z1);
            h0[index * S.C0 + o + 2] = Act.Apply(Activation.LeakyRelu, z2);
            h0[index * S.C0 + o + 3] = Act.Apply(Activation.LeakyRelu, z3);
        }
        for (; o < S.C0; o++)
        {
            float z = phi[pb + S.Conv0B + o];
            int wo = pb + S.Conv0W + o * inDim * S.K0;
            for (int c = 0; c < S.TrajDim; c++)
            {
                int wc = wo + c * S.K0;
                int x = n0 * S.TrajDim + c;
                for (int k = 0; k < S.K0; k++) z += phi[wc + k] * traj[x + k * S.TrajDim];
            }
            for (int a = 0; a < S.Act; a++)
            {
                int wc = wo + (S.TrajDim + a) * S.K0;
                int x = n0 * S.Act + a;
                for (int k = 0; k < S.K0; k++) z += phi[wc + k] * mean[x + k * S.Act];
            }
            for (int a = 0; a < S.Act; a++)
            {
                int wc = wo + (S.TrajDim + S.Act + a) * S.K0;
                float wsum = 0f;
                for (int k = 0; k < S.K0; k++) wsum += phi[wc + k];
                z += wsum * p[ls + a];
            }
            for (int m = 0; m < S.Mem; m++)
            {
                int wc = wo + (S.TrajDim + 2 * S.Act + m) * S.K0;
                float wsum = 0f;
                for (int k = 0; k < S.K0; k++) wsum += phi[wc + k];
                z += wsum * memV[l * S.Mem + m];
            }
            h0[index * S.C0 + o] = Act.Apply(Activation.LeakyRelu, z);
        }
    }
}

/// <summary>
/// Context path, second convolution: h1[l, t, o] = leaky(b[o] + sum_{c, k} W1[o, c, k] h0[l, S1 t + k, c]).
/// One work item per (learner, t).
/// </summary>
public struct LossConv1ForwardKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>h0: (Learners, Len0, C0)</summary>
    public TF H0;
    /// <summary>phi: (Members, PhiStride)</summary>
    public TF Phi;
    /// <summary>h1: (Learners, Len1, C1), written (after leaky ReLU)</summary>
    public TF H1;
    public LossNetShape S;

    public readonly void Execute(int index)
    {
        TF h0 = H0, phi = Phi, h1 = H1;
        int l = index / S.Len1;
        int t = index - l * S.Len1;
        int pb = S.PhiBase(l);
        int x0 = (l * S.Len0 + t * S.S1) * S.C0;
        int C0 = S.C0, K1 = S.K1, ws = C0 * K1;
        int o = 0;
        for (; o + 4 <= S.C1; o += 4)
        {
            int b = pb + S.Conv1B + o;
            float z0 = phi[b], z1 = phi[b + 1], z2 = phi[b + 2], z3 = phi[b + 3];
            int wo = pb + S.Conv1W + o * ws;
            for (int k = 0; k < K1; k++)
                for (int c = 0; c < C0; c++)
                {
                    float v = h0[x0 + k * C0 + c];
                    int wc = wo + c * K1 + k;
                    z0 += phi[wc] * v;
                    z1 += phi[wc + ws] * v;
                    z2 += phi[wc + 2 * ws] * v;
                    z3 += phi[wc + 3 * ws] * v;
                }
            h1[index * S.C1 + o] = Act.Apply(Activation.LeakyRelu, z0);
            h1[index * S.C1 + o + 1] = Act.Apply(Activation.LeakyRelu, z1);
            h1[index * S.C1 + o + 2] = Act.Apply(Activation.LeakyRelu, z2);
            h1[index * S.C1 + o + 3] = Act.Apply(Activation.LeakyRelu, z3);
        }
        for (; o < S.C1; o++)
        {
            float z = phi[pb + S.Conv1B + o];
            int wo = pb + S.Conv1W + o * S.C0 * S.K1;
            for (int c = 0; c < S.C0; c++)
            {
                int wc = wo + c * S.K1;
                for (int k = 0; k < S.K1; k++) z += phi[wc + k] * h0[x0 + k * S.C0 + c];
            }
            h1[index * S.C1 + o] = Act.Apply(Activation.LeakyRelu, z);
        }
    }
}

/// <summary>
/// Context path, pooling and dense: pool[l, c] = mean_t h1[l, t, c]; ctx[l, :] = Wc pool + bc.
/// One work item per learner.
/// </summary>
public struct LossContextForwardKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>h1: (Learners, Len1, C1)</summary>
    public TF H1;
    /// <summary>phi: (Members, PhiStride)</summary>
    public TF Phi;
    /// <summary>pool: (Learners, C1), written</summary>
    public TF Pool;
    /// <summary>ctx: (Learners, Ctx), written</summary>
    public TF CtxOut;
    public LossNetShape S;

    public readonly void Execute(int l)
    {
        TF h1 = H1, phi = Phi, pool = Pool, ctx = CtxOut;
        int pb = S.PhiBase(l);
        float inv = 1f / S.Len1;
        for (int c = 0; c < S.C1; c++)
        {
            float s = 0f;
            for (int t = 0; t < S.Len1; t++) s += h1[(l * S.Len1 + t) * S.C1 + c];
            pool[l * S.C1 + c] = s * inv;
        }
        for (int o = 0; o < S.Ctx; o++)
        {
            float z = phi[pb + S.CtxB + o];
            int w = pb + S.CtxW + o * S.C1;
            for (int c = 0; c < S.C1; c++) z += phi[w + c] * pool[l * S.C1 + c];
            ctx[l * S.Ctx + o] = z;
        }
    }
}

/// <summary>
/// Loss head forward and backward for one sampled row j of learner l (buffer row n from the
/// selection): a = leaky(Wh [traj_n | ctx | mean_n | logstd | mem] + bh) (Hidden); y = wo . a + bo;
/// the row's share of the loss is y / Minibatch. Backward of that share to the head's non-data inputs
/// [ctx | mean_n | logstd | mem] is written to Part (the traj columns are data and get no gradient).
/// One work item per (learner, minibatch row); <see cref="LossHeadReduceKernel{TF, TI}"/> sums the rows.
/// </summary>
public struct LossHeadKernel<TF, TI> : IKernel where TF : struct, IView<float> where TI : struct, IView<int>
{
    /// <summary>traj: (Learners, Rows, TrajDim)</summary>
    public TF Traj;
    /// <summary>mean: (Learners, Rows, Act)</summary>
    public TF Mean;
    /// <summary>p: (Learners, ParamStride), log-std read at LogStdOffset</summary>
    public TF P;
    /// <summary>mem: (Learners, Mem)</summary>
    public TF MemV;
    /// <summary>ctx: (Learners, Ctx)</summary>
    public TF CtxIn;
    /// <summary>phi: (Members, PhiStride)</summary>
    public TF Phi;
    /// <summary>idx: sampled row indices, see Sel</summary>
    public TI Idx;
    /// <summary>hidden: (Learners, Minibatch, Hidden), written (after leaky ReLU)</summary>
    public TF HeadAct;
    /// <summary>rowLoss: (Learners, Minibatch), written: y / Minibatch</summary>
    public TF RowLoss;
    /// <summary>part: (Learners, Minibatch, PartDim), written: d(y / Minibatch) / d[ctx | mean | logstd | mem]</summary>
    public TF Part;
    public LossNetShape S;
    public RowSelection Sel;

    public readonly void Execute(int index)
    {
        TF traj = Traj, mean = Mean, p = P, memV = MemV, ctxIn = CtxIn, phi = Phi, headAct = HeadAct, rowLoss = RowLoss, part = Part;
        TI idx = Idx;
        int l = index / S.Minibatch;
        int j = index - l * S.Minibatch;
        int n = l * S.Rows + Sel.RowBase + idx[l * Sel.IdxStride + Sel.IdxOffset + j];
        int pb = S.PhiBase(l);
        int headIn = S.HeadIn;
        int ls = l * S.ParamStride + S.LogStdOffset;
        int cCtx = S.TrajDim, cMean = cCtx + S.Ctx, cStd = cMean + S.Act, cMem = cStd + S.Act;
        float y = phi[pb + S.HeadB1];
        for (int h = 0; h < S.Hidden; h++)
        {
            int w = pb + S.HeadW0 + h * headIn;
            float z = phi[pb + S.HeadB0 + h];
            for (int c = 0; c < S.TrajDim; c++) z += phi[w + c] * traj[n * S.TrajDim + c];
            for (int c = 0; c < S.Ctx; c++) z += phi[w + cCtx + c] * ctxIn[l * S.Ctx + c];
            for (int a = 0; a < S.Act; a++) z += phi[w + cMean + a] * mean[n * S.Act + a];
            for (int a = 0; a < S.Act; a++) z += phi[w + cStd + a] * p[ls + a];
            for (int m = 0; m < S.Mem; m++) z += phi[w + cMem + m] * memV[l * S.Mem + m];
            float act = Act.Apply(Activation.LeakyRelu, z);
            headAct[index * S.Hidden + h] = act;
            y += phi[pb + S.HeadW1 + h] * act;
        }
        float inv = 1f / S.Minibatch;
        rowLoss[index] = y * inv;
        int pd = S.PartDim;
        for (int c = 0; c < pd; c++) part[index * pd + c] = 0f;
        for (int h = 0; h < S.Hidden; h++)
        {
            float dz = phi[pb + S.HeadW1 + h] * Act.GradFromOutput(Activation.LeakyRelu, headAct[index * S.Hidden + h]) * inv;
            int w = pb + S.HeadW0 + h * headIn + cCtx;
            for (int c = 0; c < pd; c++) part[index * pd + c] += phi[w + c] * dz;
        }
    }
}

/// <summary>
/// Sums the head's rows for one learner: loss[l] = sum_j rowLoss; adds Scale * d/dmean to DMean at
/// the sampled buffer rows, Scale * d/dlogstd to the learner's gradient block, Scale * d/dmem to DMem;
/// keeps dctx (unscaled), dpool = Wc^T dctx / Len1 and dz1 = dpool leaky'(h1) for the context path's backward.
/// One work item per learner (sequential over the minibatch, so repeated rows are safe).
/// </summary>
public struct LossHeadReduceKernel<TF, TI> : IKernel where TF : struct, IView<float> where TI : struct, IView<int>
{
    /// <summary>rowLoss: (Learners, Minibatch)</summary>
    public TF RowLoss;
    /// <summary>part: (Learners, Minibatch, PartDim)</summary>
    public TF Part;
    /// <summary>phi: (Members, PhiStride)</summary>
    public TF Phi;
    /// <summary>idx: sampled row indices, see Sel</summary>
    public TI Idx;
    /// <summary>loss: (Learners), written: L_phi (unscaled)</summary>
    public TF Loss;
    /// <summary>dctx: (Learners, Ctx), written</summary>
    public TF DCtx;
    /// <summary>dpool: (Learners, C1), written</summary>
    public TF DPool;
    /// <summary>h1: (Learners, Len1, C1), the second convolution's output</summary>
    public TF H1;
    /// <summary>dz1: (Learners, Len1, C1), written: the gradient at the second convolution's pre-activation</summary>
    public TF DZ1;
    /// <summary>dmean: (Learners, Rows, Act), accumulated into</summary>
    public TF DMean;
    /// <summary>g: (Learners, ParamStride), log-std gradient accumulated at LogStdOffset</summary>
    public TF G;
    /// <summary>dmem: (Learners, Mem), accumulated into</summary>
    public TF DMem;
    public LossNetShape S;
    public RowSelection Sel;
    public float Scale;

    public readonly void Execute(int l)
    {
        TF rowLoss = RowLoss, part = Part, phi = Phi, loss = Loss, dCtx = DCtx, dPool = DPool, h1 = H1, dz1 = DZ1, dMean = DMean, g = G, dMem = DMem;
        TI idx = Idx;
        int mb = S.Minibatch, pd = S.PartDim;
        int pb = S.PhiBase(l);
        float sum = 0f;
        for (int j = 0; j < mb; j++) sum += rowLoss[l * mb + j];
        loss[l] = sum;
        for (int c = 0; c < S.Ctx; c++)
        {
            float s = 0f;
            for (int j = 0; j < mb; j++) s += part[(l * mb + j) * pd + c];
            dCtx[l * S.Ctx + c] = s;
        }
        for (int c = 0; c < S.C1; c++)
        {
            float s = 0f;
            for (int o = 0; o < S.Ctx; o++) s += phi[pb + S.CtxW + o * S.C1 + c] * dCtx[l * S.Ctx + o];
            dPool[l * S.C1 + c] = s / S.Len1;
        }
        // dz1[t, c] = dpool[c] leaky'(h1[t, c]): the mean over time spreads dpool evenly over the steps.
        for (int t = 0; t < S.Len1; t++)
            for (int c = 0; c < S.C1; c++)
            {
                int i = (l * S.Len1 + t) * S.C1 + c;
                dz1[i] = dPool[l * S.C1 + c] * Act.GradFromOutput(Activation.LeakyRelu, h1[i]);
            }
        for (int j = 0; j < mb; j++)
        {
            int n = l * S.Rows + Sel.RowBase + idx[l * Sel.IdxStride + Sel.IdxOffset + j];
            for (int a = 0; a < S.Act; a++) dMean[n * S.Act + a] += Scale * part[(l * mb + j) * pd + S.Ctx + a];
        }
        for (int a = 0; a < S.Act; a++)
            g[l * S.ParamStride + S.LogStdOffset + a] += Scale * LossSums.OverRows(part, l, mb, pd, S.Ctx + S.Act + a);
        for (int m = 0; m < S.Mem; m++)
            dMem[l * S.Mem + m] += Scale * LossSums.OverRows(part, l, mb, pd, S.Ctx + 2 * S.Act + m);
    }
}

/// <summary>
/// Context backward through the second convolution: dz0[t0, c] = leaky'(h0[t0, c]) sum_{k, o: S1 t1 + k = t0}
/// W1[o, c, k] dz1[t1, o], with dz1 from <see cref="LossHeadReduceKernel{TF, TI}"/>. Four input channels at a time
/// accumulate in registers. One work item per (learner, t0).
/// </summary>
public struct LossConv1BackwardKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>h0: (Learners, Len0, C0)</summary>
    public TF H0;
    /// <summary>dz1: (Learners, Len1, C1)</summary>
    public TF DZ1;
    /// <summary>phi: (Members, PhiStride)</summary>
    public TF Phi;
    /// <summary>dz0: (Learners, Len0, C0), written (gradient at conv0's pre-activation)</summary>
    public TF DZ0;
    public LossNetShape S;

    public readonly void Execute(int index)
    {
        TF h0 = H0, dz1 = DZ1, phi = Phi, dz0 = DZ0;
        int l = index / S.Len0;
        int t0 = index - l * S.Len0;
        int pb = S.PhiBase(l);
        int C0 = S.C0, C1 = S.C1, K1 = S.K1, wo = C0 * K1;
        int c = 0;
        for (; c + 4 <= C0; c += 4)
        {
            float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f;
            for (int k = 0; k < K1; k++)
            {
                int d = t0 - k;
                if (d < 0) break;
                int t1 = d / S.S1;
                if (t1 * S.S1 != d || t1 >= S.Len1) continue;
                int zb = (l * S.Len1 + t1) * C1;
                int w = pb + S.Conv1W + c * K1 + k;
                for (int o = 0; o < C1; o++)
                {
                    float g = dz1[zb + o];
                    int wk = w + o * wo;
                    a0 += phi[wk] * g;
                    a1 += phi[wk + K1] * g;
                    a2 += phi[wk + 2 * K1] * g;
                    a3 += phi[wk + 3 * K1] * g;
                }
            }
            int hi = index * C0 + c;
            dz0[hi] = a0 * Act.GradFromOutput(Activation.LeakyRelu, h0[hi]);
            dz0[hi + 1] = a1 * Act.GradFromOutput(Activation.LeakyRelu, h0[hi + 1]);
            dz0[hi + 2] = a2 * Act.GradFromOutput(Activation.LeakyRelu, h0[hi + 2]);
            dz0[hi + 3] = a3 * Act.GradFromOutput(Activation.LeakyRelu, h0[hi + 3]);
        }
        for (; c < C0; c++)
        {
            float acc = 0f;
            for (int k = 0; k < K1; k++)
            {
                int d = t0 - k;
                if (d < 0) break;
                int t1 = d / S.S1;
                if (t1 * S.S1 != d || t1 >= S.Len1) continue;
                int zb = (l * S.Len1 + t1) * C1;
                int w = pb + S.Conv1W + c * K1 + k;
                for (int o = 0; o < C1; o++) acc += phi[w + o * wo] * dz1[zb + o];
            }
            dz0[index * C0 + c] = acc * Act.GradFromOutput(Activation.LeakyRelu, h0[index * C0 + c]);
        }
    }
}

/// <summary>
/// Context backward through the first convolution to the policy mean at every buffer row:
/// DMean[l, n, a] += Scale * sum_{k, t0: S0 t0 + k = n} sum_o W0[o, TrajDim + a, k] dz0[t0, o].
/// One work item per (learner, buffer row n).
/// </summary>
public struct LossConv0BackwardMeanKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>dz0: (Learners, Len0, C0)</summary>
    public TF DZ0;
    /// <summary>phi: (Members, PhiStride)</summary>
    public TF Phi;
    /// <summary>dmean: (Learners, Rows, Act), accumulated into</summary>
    public TF DMean;
    public LossNetShape S;
    public float Scale;

    public readonly void Execute(int index)
    {
        TF dz0 = DZ0, phi = Phi, dMean = DMean;
        int l = index / S.Rows;
        int n = index - l * S.Rows;
        int pb = S.PhiBase(l);
        int inDim = S.InDim;
        for (int a = 0; a < S.Act; a++)
        {
            float s = 0f;
            for (int k = 0; k < S.K0; k++)
            {
                int d = n - k;
                if (d < 0) break;
                int t0 = d / S.S0;
                if (t0 * S.S0 != d || t0 >= S.Len0) continue;
                int w = pb + S.Conv0W + (S.TrajDim + a) * S.K0 + k;
                for (int o = 0; o < S.C0; o++) s += phi[w + o * inDim * S.K0] * dz0[(l * S.Len0 + t0) * S.C0 + o];
            }
            dMean[index * S.Act + a] += Scale * s;
        }
    }
}

/// <summary>
/// Context backward to the time-constant channels: the log-std channel a gets
/// Scale * sum_o (sum_k W0[o, TrajDim + Act + a, k]) (sum_t0 dz0[t0, o]), added to the learner's
/// gradient block. With MemoryThroughContext = 1 the memory channels get the same treatment (added to
/// DMem); the released code detaches the memory in the context path (0, the default).
/// One work item per learner.
/// </summary>
public struct LossConv0BackwardConstKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>dz0: (Learners, Len0, C0)</summary>
    public TF DZ0;
    /// <summary>phi: (Members, PhiStride)</summary>
    public TF Phi;
    /// <summary>g: (Learners, ParamStride), log-std gradient accumulated at LogStdOffset</summary>
    public TF G;
    /// <summary>dmem: (Learners, Mem), accumulated into when MemoryThroughContext = 1</summary>
    public TF DMem;
    public LossNetShape S;
    public float Scale;
    public int MemoryThroughContext;

    public readonly void Execute(int l)
    {
        TF dz0 = DZ0, phi = Phi, g = G, dMem = DMem;
        int pb = S.PhiBase(l);
        int inDim = S.InDim;
        for (int o = 0; o < S.C0; o++)
        {
            float s = 0f;
            for (int t = 0; t < S.Len0; t++) s += dz0[(l * S.Len0 + t) * S.C0 + o];
            s *= Scale;
            int wo = pb + S.Conv0W + o * inDim * S.K0;
            for (int a = 0; a < S.Act; a++)
                g[l * S.ParamStride + S.LogStdOffset + a] += s * LossSums.Taps(phi, wo + (S.TrajDim + S.Act + a) * S.K0, S.K0);
            if (MemoryThroughContext == 0) continue;
            for (int m = 0; m < S.Mem; m++)
                dMem[l * S.Mem + m] += s * LossSums.Taps(phi, wo + (S.TrajDim + 2 * S.Act + m) * S.K0, S.K0);
        }
    }
}

/// <summary>Small sums the loss network's backward kernels share.</summary>
public static class LossSums
{
    /// <summary>sum_j part[(l * mb + j) * pd + col], j &lt; mb: a head-gradient column summed over the minibatch rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float OverRows<TF>(TF part, int l, int mb, int pd, int col) where TF : struct, IView<float>
    {
        float s = 0f;
        for (int j = 0; j < mb; j++) s += part[(l * mb + j) * pd + col];
        return s;
    }

    /// <summary>sum_k phi[wc + k], k &lt; taps: a conv channel's weights summed over its taps (for time-constant inputs).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Taps<TF>(TF phi, int wc, int taps) where TF : struct, IView<float>
    {
        float s = 0f;
        for (int k = 0; k < taps; k++) s += phi[wc + k];
        return s;
    }
}
