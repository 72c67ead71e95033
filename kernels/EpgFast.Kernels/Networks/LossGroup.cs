using EpgFast.Kernels.Launch;
using EpgFast.Kernels.Memory;

namespace EpgFast.Kernels.Networks;

/// <summary>
/// Sizes of <see cref="LossGroupKernel{TF, TI, TV, TL}"/>: its threads per group and its shared block (laid out by
/// <see cref="LossGroupLayout"/>): 4160 floats (16.6 KB) at the released sizes (N = 512, 16/32 channels, ctx 32,
/// head 16, minibatch 32, act 8), independent of the thread count.
/// </summary>
public static class LossGroup
{
    /// <summary>GPU threads per group (one learner): the big phases have 400-500 work items, the small ones 32-330.</summary>
    public const int DefaultThreads = 128;

    /// <summary>Shared floats one group needs for <paramref name="s"/>.</summary>
    public static int SharedFloats(in LossNetShape s) => new LossGroupLayout(s).Floats;
}

/// <summary>
/// The shared block of one <see cref="LossGroupKernel{TF, TI, TV, TL}"/> group (one learner): the offset, in floats,
/// of each region, in this order, each computed once from the shape. The backward pass writes its gradients over
/// forward regions that are no longer read; each such reuse has its own name (an alias with the same offset and shape).
/// </summary>
public readonly struct LossGroupLayout
{
    /// <summary>h0: (Len0, C0), conv0's output after leaky ReLU.</summary>
    public readonly int H0;
    /// <summary>h1: (Len1, C1), conv1's output after leaky ReLU.</summary>
    public readonly int H1;
    /// <summary>pool: (C1), the mean of h1 over time.</summary>
    public readonly int Pool;
    /// <summary>ctx: (Ctx), the context vector.</summary>
    public readonly int Ctx;
    /// <summary>cst: (C0), conv0's bias plus the taps of its time-constant input channels (log-std, memory).</summary>
    public readonly int Conv0Const;
    /// <summary>hc: (Hidden), the head's bias plus its row-constant inputs' part (ctx, log-std, memory).</summary>
    public readonly int HeadConst;
    /// <summary>act: (Minibatch, Hidden), the head's hidden activations at the sampled rows.</summary>
    public readonly int HeadAct;
    /// <summary>row: (Minibatch), the row losses y / Minibatch.</summary>
    public readonly int RowLoss;
    /// <summary>rows: (Minibatch), the sampled buffer rows (learner-relative, as floats: exact below 2^24).</summary>
    public readonly int Rows;
    /// <summary>hmean: (Minibatch, Act), the head's gradient to the policy mean at each sampled row.</summary>
    public readonly int HeadMean;
    /// <summary>The block's size in floats.</summary>
    public readonly int Floats;

    public LossGroupLayout(in LossNetShape s)
    {
        H0 = 0;
        H1 = H0 + s.Len0 * s.C0;
        Pool = H1 + s.Len1 * s.C1;
        Ctx = Pool + s.C1;
        Conv0Const = Ctx + s.Ctx;
        HeadConst = Conv0Const + s.C0;
        HeadAct = HeadConst + s.Hidden;
        RowLoss = HeadAct + s.Minibatch * s.Hidden;
        Rows = RowLoss + s.Minibatch;
        HeadMean = Rows + s.Minibatch;
        Floats = HeadMean + s.Minibatch * s.Act;
    }

    /// <summary>dz: (Minibatch, Hidden), the gradient of the scaled row loss to the head's hidden pre-activations, written over act by HeadOutput.</summary>
    public int HeadDz => HeadAct;
    /// <summary>dctx: (Ctx), the loss's gradient to the context vector, written over ctx by MinibatchSums.</summary>
    public int DCtx => Ctx;
    /// <summary>dpool: (C1), the loss's gradient to pool, written over pool by PoolBackward.</summary>
    public int DPool => Pool;
    /// <summary>dz1: (Len1, C1), the gradient to conv1's pre-activations, written over h1 by Conv1ActivationBackward.</summary>
    public int Dz1 => H1;
    /// <summary>dz0: (Len0, C0), the gradient to conv0's pre-activations, written over h0 by Conv1Backward.</summary>
    public int Dz0 => H0;
    /// <summary>dcst: (C0), Scale * sum over time of dz0, written over cst by Conv0Backward.</summary>
    public int Dz0Sum => Conv0Const;
}

/// <summary>
/// The EPG loss network's forward and backward (the architecture in <see cref="LossNetShape"/>; its float64
/// reference is the validation project's NetworkReference.LossNet) as one group kernel, one group per learner, with every
/// intermediate in the group's shared memory (regions in <see cref="LossGroupLayout"/>). phi is read from device
/// memory directly (all learners of a member share it, so it stays in cache). Same outputs: Loss[l] written,
/// Scale * gradients added to DMean (all buffer rows), to G at the log-std and to DMem.
/// <para>
/// <see cref="Execute"/> runs fourteen phases separated by barriers, each a loop over its work items strided by the
/// group size: the forward (<see cref="Conv0ConstAndRows"/>, <see cref="Conv0Forward"/>, <see cref="Conv1Forward"/>,
/// <see cref="PoolForward"/>, <see cref="ContextForward"/>, <see cref="HeadConstForward"/>, <see cref="HeadHiddenForward"/>,
/// <see cref="HeadOutput"/>), the sums over the minibatch (<see cref="MinibatchSums"/>) and the backward through the
/// context path (<see cref="PoolBackward"/>, <see cref="Conv1ActivationBackward"/>, <see cref="Conv1Backward"/>,
/// <see cref="Conv0Backward"/>, <see cref="ConstChannelsBackward"/>).
/// </para>
/// The time-constant inputs of conv0 and the row-constant inputs of the head are summed once per learner (float32
/// results agree with the float64 reference to rounding). Where an item computes
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
    /// fastest (<see cref="LossConv0TransposeKernel{TF}"/>): <see cref="Conv0Forward"/> reads C0 / Width lanes of output channels from it.
    /// </summary>
    public TF Conv0T;
    /// <summary>conv1t: (Members, K1 C0, C1), conv1's weights with the output channel fastest (<see cref="Conv1Forward"/>), and conv1b:
    /// (Members, K1 C1, C0), with the input channel fastest (<see cref="Conv1Backward"/>); see <see cref="LossConv1TransposeKernel{TF}"/>.</summary>
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
    /// <summary>1: the memory's gradient also flows through the context path (see <see cref="ConstChannelsBackward"/>); 0: the released code's detached context memory.</summary>
    public int MemoryThroughContext;
    /// <summary>GPU threads per group.</summary>
    public int Threads;

    public readonly int GroupSize => Threads;

    public readonly int SharedFloats => LossGroup.SharedFloats(S);

    /// <summary>Group kernel: learner g.GroupIndex's loss and gradients, as the phases below with a barrier after each.</summary>
    public readonly void Execute<TG>(ref TG g) where TG : struct, IGroupContext
    {
        var sh = new LossGroupLayout(S);
        // forward
        Conv0ConstAndRows(ref g, sh);
        g.Barrier();
        Conv0Forward(ref g, sh);
        g.Barrier();
        Conv1Forward(ref g, sh);
        g.Barrier();
        PoolForward(ref g, sh);
        g.Barrier();
        ContextForward(ref g, sh);
        g.Barrier();
        HeadConstForward(ref g, sh);
        g.Barrier();
        HeadHiddenForward(ref g, sh);
        g.Barrier();
        HeadOutput(ref g, sh);
        g.Barrier();
        // the loss and the head's gradients
        MinibatchSums(ref g, sh);
        g.Barrier();
        // backward through the context path
        PoolBackward(ref g, sh);
        g.Barrier();
        Conv1ActivationBackward(ref g, sh);
        g.Barrier();
        Conv1Backward(ref g, sh);
        g.Barrier();
        Conv0Backward(ref g, sh);
        g.Barrier();
        ConstChannelsBackward(ref g, sh);
    }

    /// <summary>Offset of learner <paramref name="l"/>'s log-std in P and G.</summary>
    private readonly int LogStdAt(int l) => l * S.ParamStride + S.LogStdOffset;

    /// <summary>
    /// cst[o] = conv0's bias + sum over the time-constant channels (log-std, memory) of their taps times their value,
    /// per output channel o; rows[j] = the sampled buffer rows. Items: C0 channels, then Minibatch rows.
    /// </summary>
    private readonly void Conv0ConstAndRows<TG>(ref TG g, in LossGroupLayout sh) where TG : struct, IGroupContext
    {
        TF p = P, memV = MemV, phi = Phi;
        TI idx = Idx;
        int l = g.GroupIndex;
        int T = S.TrajDim, A = S.Act, Mu = S.Mem, K0 = S.K0, C0 = S.C0, mb = S.Minibatch;
        int pb = S.PhiBase(l), ls = LogStdAt(l);
        int ws0 = S.InDim * K0;
        for (int i = g.Lane; i < C0 + mb; i += g.GroupSize)
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
                g.SetShared(sh.Conv0Const + i, z);
            }
            else
            {
                int j = i - C0;
                g.SetShared(sh.Rows + j, Sel.RowBase + idx[l * Sel.IdxStride + Sel.IdxOffset + j]);
            }
        }
    }

    /// <summary>
    /// conv0 over the traj and mean channels: h0[t, o .. o + W) = leaky(cst[o ..] + sum_{c, k} x[S0 t + k, c] conv0t[c, k, o .. o + W)).
    /// Items: (4 time steps, a lane of W output channels); W = 1 on the GPU (consecutive threads read consecutive
    /// weights), 16 on the CPU (one Vector512 for C0 = 16). Each weight lane serves four time steps (four independent
    /// sums, each in the order c, k); the last block of fewer than four time steps sums them one at a time.
    /// </summary>
    private readonly void Conv0Forward<TG>(ref TG g, in LossGroupLayout sh) where TG : struct, IGroupContext
    {
        TL lanes = default;
        int width = lanes.Width;
        int Len0 = S.Len0;
        int q0 = S.C0 / width;
        int tq = (Len0 + 3) / 4;
        for (int i = g.Lane; i < tq * q0; i += g.GroupSize)
        {
            int tb = i / q0;
            int o0 = (i - tb * q0) * width;
            int t0 = tb * 4;
            int nt = Len0 - t0 < 4 ? Len0 - t0 : 4;
            if (nt == 4)
            {
                Conv0Forward4(ref g, sh, t0, o0);
                continue;
            }
            for (int t = t0; t < t0 + nt; t++) Conv0Forward1(ref g, sh, t, o0);
        }
    }

    /// <summary>h0[t0 .. t0 + 4, o0 .. o0 + W) (see <see cref="Conv0Forward"/>): four time steps' sums side by side, one weight load each.</summary>
    private readonly void Conv0Forward4<TG>(ref TG g, in LossGroupLayout sh, int t0, int o0) where TG : struct, IGroupContext
    {
        TL lanes = default;
        TF traj = Traj, mean = Mean, conv0t = Conv0T;
        int l = g.GroupIndex;
        int T = S.TrajDim, A = S.Act, K0 = S.K0, S0 = S.S0, C0 = S.C0;
        int n0 = l * S.Rows + t0 * S0;
        int w = l / S.LearnersPerMember * (T + A) * K0 * C0 + o0;
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
        Conv0Store(ref g, sh.H0 + t0 * C0 + o0, sh.Conv0Const + o0, z0);
        Conv0Store(ref g, sh.H0 + (t0 + 1) * C0 + o0, sh.Conv0Const + o0, z1);
        Conv0Store(ref g, sh.H0 + (t0 + 2) * C0 + o0, sh.Conv0Const + o0, z2);
        Conv0Store(ref g, sh.H0 + (t0 + 3) * C0 + o0, sh.Conv0Const + o0, z3);
    }

    /// <summary>h0[t, o0 .. o0 + W) (see <see cref="Conv0Forward"/>): one time step, the same sum as one of <see cref="Conv0Forward4"/>'s.</summary>
    private readonly void Conv0Forward1<TG>(ref TG g, in LossGroupLayout sh, int t, int o0) where TG : struct, IGroupContext
    {
        TL lanes = default;
        TF traj = Traj, mean = Mean, conv0t = Conv0T;
        int l = g.GroupIndex;
        int T = S.TrajDim, A = S.Act, K0 = S.K0, C0 = S.C0;
        int nt0 = l * S.Rows + t * S.S0;
        TV z = lanes.Splat(0f);
        int w = l / S.LearnersPerMember * (T + A) * K0 * C0 + o0;
        for (int c = 0; c < T; c++)
            for (int k = 0; k < K0; k++, w += C0)
                z = lanes.MulAdd(lanes.Splat(traj[(nt0 + k) * T + c]), lanes.Load(conv0t, w), z);
        for (int a = 0; a < A; a++)
            for (int k = 0; k < K0; k++, w += C0)
                z = lanes.MulAdd(lanes.Splat(mean[(nt0 + k) * A + a]), lanes.Load(conv0t, w), z);
        Conv0Store(ref g, sh.H0 + t * C0 + o0, sh.Conv0Const + o0, z);
    }

    /// <summary>h0[h .. h + W) = leaky(cst[c .. c + W) + z): a lane of conv0's outputs into shared memory.</summary>
    private static void Conv0Store<TG>(ref TG g, int h, int c, TV z) where TG : struct, IGroupContext
    {
        TL lanes = default;
        for (int j = 0; j < lanes.Width; j++) g.SetShared(h + j, Act.Apply(Activation.LeakyRelu, g.Shared(c + j) + lanes.Lane(z, j)));
    }

    /// <summary>conv1: h1[t, o .. o + W) = leaky(b[o ..] + sum_{k, c} h0[S1 t + k, c] conv1t[k, c, o ..]). Items: (t, a lane of W output channels).</summary>
    private readonly void Conv1Forward<TG>(ref TG g, in LossGroupLayout sh) where TG : struct, IGroupContext
    {
        TL lanes = default;
        TF phi = Phi, conv1t = Conv1T;
        int l = g.GroupIndex;
        int width = lanes.Width;
        int K1 = S.K1, C0 = S.C0, C1 = S.C1;
        int pb = S.PhiBase(l);
        int q1 = C1 / width;
        int wt1 = l / S.LearnersPerMember * K1 * C0 * C1;
        for (int i = g.Lane; i < S.Len1 * q1; i += g.GroupSize)
        {
            int t = i / q1;
            int o0 = (i - t * q1) * width;
            TV z = lanes.Load(phi, pb + S.Conv1B + o0);
            int x0 = sh.H0 + t * S.S1 * C0;
            int w = wt1 + o0;
            for (int k = 0; k < K1; k++)
                for (int c = 0; c < C0; c++, w += C1)
                    z = lanes.MulAdd(lanes.Splat(g.Shared(x0 + k * C0 + c)), lanes.Load(conv1t, w), z);
            int h = sh.H1 + t * C1 + o0;
            for (int j = 0; j < width; j++) g.SetShared(h + j, Act.Apply(Activation.LeakyRelu, lanes.Lane(z, j)));
        }
    }

    /// <summary>pool[c] = mean over time of h1[t, c]. Items: channels.</summary>
    private readonly void PoolForward<TG>(ref TG g, in LossGroupLayout sh) where TG : struct, IGroupContext
    {
        int C1 = S.C1, Len1 = S.Len1;
        float invLen1 = 1f / Len1;
        for (int c = g.Lane; c < C1; c += g.GroupSize)
        {
            float s = 0f;
            for (int t = 0; t < Len1; t++) s += g.Shared(sh.H1 + t * C1 + c);
            g.SetShared(sh.Pool + c, s * invLen1);
        }
    }

    /// <summary>ctx = Wc pool + bc. Items: context units.</summary>
    private readonly void ContextForward<TG>(ref TG g, in LossGroupLayout sh) where TG : struct, IGroupContext
    {
        TF phi = Phi;
        int pb = S.PhiBase(g.GroupIndex);
        int C1 = S.C1;
        for (int o = g.Lane; o < S.Ctx; o += g.GroupSize)
        {
            float z = phi[pb + S.CtxB + o];
            int w = pb + S.CtxW + o * C1;
            for (int c = 0; c < C1; c++) z += phi[w + c] * g.Shared(sh.Pool + c);
            g.SetShared(sh.Ctx + o, z);
        }
    }

    /// <summary>
    /// hc[h] = the head's row-constant part per hidden unit h: bias + its weights times ctx, log-std and memory
    /// (head input columns: [traj (TrajDim) | ctx | mean | log-std | mem]). Items: hidden units.
    /// </summary>
    private readonly void HeadConstForward<TG>(ref TG g, in LossGroupLayout sh) where TG : struct, IGroupContext
    {
        TF p = P, memV = MemV, phi = Phi;
        int l = g.GroupIndex;
        int A = S.Act, Mu = S.Mem, nCtx = S.Ctx, headIn = S.HeadIn;
        int pb = S.PhiBase(l), ls = LogStdAt(l);
        int cCtx = S.TrajDim, cStd = cCtx + nCtx + A, cMem = cStd + A;
        for (int h = g.Lane; h < S.Hidden; h += g.GroupSize)
        {
            int w = pb + S.HeadW0 + h * headIn;
            float z = phi[pb + S.HeadB0 + h];
            for (int c = 0; c < nCtx; c++) z += phi[w + cCtx + c] * g.Shared(sh.Ctx + c);
            for (int a = 0; a < A; a++) z += phi[w + cStd + a] * p[ls + a];
            for (int m = 0; m < Mu; m++) z += phi[w + cMem + m] * memV[l * Mu + m];
            g.SetShared(sh.HeadConst + h, z);
        }
    }

    /// <summary>
    /// act[j, h] = leaky(hc[h] + the head's weights times the traj and mean at sampled row j). Items: (row j, a block of
    /// 4 hidden units: four independent sums); a last block of fewer than 4 units sums them one at a time.
    /// </summary>
    private readonly void HeadHiddenForward<TG>(ref TG g, in LossGroupLayout sh) where TG : struct, IGroupContext
    {
        int Hd = S.Hidden;
        int hq = (Hd + 3) / 4;
        for (int i = g.Lane; i < S.Minibatch * hq; i += g.GroupSize)
        {
            int j = i / hq;
            int h0 = (i - j * hq) * 4;
            int n = g.GroupIndex * S.Rows + (int)g.Shared(sh.Rows + j);
            if (h0 + 4 <= Hd)
            {
                HeadHidden4(ref g, sh, j, n, h0);
                continue;
            }
            HeadHiddenTail(ref g, sh, j, n, h0);
        }
    }

    /// <summary>act[j, h0 .. h0 + 4) for sampled row j at buffer row n (see <see cref="HeadHiddenForward"/>): four units' sums side by side, each input read once.</summary>
    private readonly void HeadHidden4<TG>(ref TG g, in LossGroupLayout sh, int j, int n, int h0) where TG : struct, IGroupContext
    {
        TF traj = Traj, mean = Mean, phi = Phi;
        int l = g.GroupIndex;
        int T = S.TrajDim, A = S.Act, headIn = S.HeadIn;
        int cMean = T + S.Ctx;
        int w = S.PhiBase(l) + S.HeadW0 + h0 * headIn;
        float z0 = g.Shared(sh.HeadConst + h0), z1 = g.Shared(sh.HeadConst + h0 + 1), z2 = g.Shared(sh.HeadConst + h0 + 2), z3 = g.Shared(sh.HeadConst + h0 + 3);
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
        int at = sh.HeadAct + j * S.Hidden + h0;
        g.SetShared(at, Act.Apply(Activation.LeakyRelu, z0));
        g.SetShared(at + 1, Act.Apply(Activation.LeakyRelu, z1));
        g.SetShared(at + 2, Act.Apply(Activation.LeakyRelu, z2));
        g.SetShared(at + 3, Act.Apply(Activation.LeakyRelu, z3));
    }

    /// <summary>act[j, h0 .. Hidden) for sampled row j at buffer row n (see <see cref="HeadHiddenForward"/>): the units one at a time, each sum as in <see cref="HeadHidden4"/>.</summary>
    private readonly void HeadHiddenTail<TG>(ref TG g, in LossGroupLayout sh, int j, int n, int h0) where TG : struct, IGroupContext
    {
        TF traj = Traj, mean = Mean, phi = Phi;
        int l = g.GroupIndex;
        int T = S.TrajDim, A = S.Act, Hd = S.Hidden, headIn = S.HeadIn;
        int cMean = T + S.Ctx;
        int w = S.PhiBase(l) + S.HeadW0 + h0 * headIn;
        for (int h = h0; h < Hd; h++, w += headIn)
        {
            float z = g.Shared(sh.HeadConst + h);
            for (int c = 0; c < T; c++) z += phi[w + c] * traj[n * T + c];
            for (int a = 0; a < A; a++) z += phi[w + cMean + a] * mean[n * A + a];
            g.SetShared(sh.HeadAct + j * Hd + h, Act.Apply(Activation.LeakyRelu, z));
        }
    }

    /// <summary>
    /// The head's output y per sampled row j: row[j] = y / Minibatch, and, over act in place, dz[j, h] = d(y / Minibatch) / dz
    /// at the hidden pre-activations. Items: rows.
    /// </summary>
    private readonly void HeadOutput<TG>(ref TG g, in LossGroupLayout sh) where TG : struct, IGroupContext
    {
        TF phi = Phi;
        int pb = S.PhiBase(g.GroupIndex);
        int Hd = S.Hidden, mb = S.Minibatch;
        float inv = 1f / mb;
        for (int j = g.Lane; j < mb; j += g.GroupSize)
        {
            float y = phi[pb + S.HeadB1];
            for (int h = 0; h < Hd; h++) y += phi[pb + S.HeadW1 + h] * g.Shared(sh.HeadAct + j * Hd + h);
            g.SetShared(sh.RowLoss + j, y * inv);
            for (int h = 0; h < Hd; h++)
            {
                float act = g.Shared(sh.HeadAct + j * Hd + h);
                g.SetShared(sh.HeadDz + j * Hd + h, phi[pb + S.HeadW1 + h] * Act.GradFromOutput(Activation.LeakyRelu, act) * inv);
            }
        }
    }

    /// <summary>
    /// The sums over the minibatch, with part(j, col) = sum_h W0[h, TrajDim + col] dz[j, h] (col over the head input
    /// columns after the traj: [ctx | mean | log-std | mem]). Items: the loss (1: Loss[l] = sum_j row[j]); blocks of 4
    /// row-constant columns (<see cref="ConstColumnSums"/>: dctx, log-std, memory); and the mean per (row j, action a):
    /// hmean[j, a] = part(j, Ctx + a).
    /// </summary>
    private readonly void MinibatchSums<TG>(ref TG g, in LossGroupLayout sh) where TG : struct, IGroupContext
    {
        TF loss = Loss;
        int l = g.GroupIndex;
        int A = S.Act, Hd = S.Hidden, mb = S.Minibatch;
        int wHead = S.PhiBase(l) + S.HeadW0 + S.TrajDim;
        int colBlocks = (S.Ctx + A + S.Mem + 3) / 4;
        for (int i = g.Lane; i < 1 + colBlocks + mb * A; i += g.GroupSize)
        {
            if (i == 0)
            {
                float sum = 0f;
                for (int j = 0; j < mb; j++) sum += g.Shared(sh.RowLoss + j);
                loss[l] = sum;
            }
            else if (i < 1 + colBlocks)
            {
                ConstColumnSums(ref g, sh, i - 1);
            }
            else
            {
                int k = i - (1 + colBlocks);
                int j = k / A;
                int a = k - j * A;
                g.SetShared(sh.HeadMean + k, Part(ref g, wHead + S.Ctx + a, sh.HeadDz + j * Hd, Hd, S.HeadIn));
            }
        }
    }

    /// <summary>
    /// Block <paramref name="block"/> of 4 row-constant columns (ctx, then log-std, then memory; see <see cref="HeadCol"/>):
    /// sum_j part(j, col) for each, side by side (four independent sums, each in the order j, then h; past the last
    /// column the last is summed again and dropped). Writes dctx[col], and adds Scale times the sum to G at the log-std
    /// or to DMem.
    /// </summary>
    private readonly void ConstColumnSums<TG>(ref TG g, in LossGroupLayout sh, int block) where TG : struct, IGroupContext
    {
        TF phi = Phi, gr = G, dMem = DMem;
        int l = g.GroupIndex;
        int A = S.Act, Mu = S.Mem, nCtx = S.Ctx, Hd = S.Hidden, headIn = S.HeadIn;
        int wHead = S.PhiBase(l) + S.HeadW0 + S.TrajDim;
        int ls = LogStdAt(l);
        int nCols = nCtx + A + Mu;
        int e0 = block * 4;
        int ne = nCols - e0 < 4 ? nCols - e0 : 4;
        int c0 = HeadCol(e0, nCtx, A), c1 = HeadCol(e0 + (ne > 1 ? 1 : 0), nCtx, A);
        int c2 = HeadCol(e0 + (ne > 2 ? 2 : 0), nCtx, A), c3 = HeadCol(e0 + (ne > 3 ? 3 : 0), nCtx, A);
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        for (int j = 0; j < S.Minibatch; j++)
        {
            int dz = sh.HeadDz + j * Hd;
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
            if (col < nCtx) g.SetShared(sh.DCtx + col, s);
            else if (col < nCtx + 2 * A) gr[ls + col - nCtx - A] += Scale * s;
            else dMem[l * Mu + col - nCtx - 2 * A] += Scale * s;
        }
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

    /// <summary>dpool = Wc' dctx / Len1. Items: channels.</summary>
    private readonly void PoolBackward<TG>(ref TG g, in LossGroupLayout sh) where TG : struct, IGroupContext
    {
        TF phi = Phi;
        int pb = S.PhiBase(g.GroupIndex);
        int C1 = S.C1, Len1 = S.Len1;
        for (int c = g.Lane; c < C1; c += g.GroupSize)
        {
            float s = 0f;
            for (int o = 0; o < S.Ctx; o++) s += phi[pb + S.CtxW + o * C1 + c] * g.Shared(sh.DCtx + o);
            g.SetShared(sh.DPool + c, s / Len1);
        }
    }

    /// <summary>dz1[t, c] = dpool[c] leaky'(h1[t, c]), over h1 in place. Items: (t, c).</summary>
    private readonly void Conv1ActivationBackward<TG>(ref TG g, in LossGroupLayout sh) where TG : struct, IGroupContext
    {
        int C1 = S.C1;
        for (int i = g.Lane; i < S.Len1 * C1; i += g.GroupSize)
        {
            int c = i % C1;
            g.SetShared(sh.Dz1 + i, g.Shared(sh.DPool + c) * Act.GradFromOutput(Activation.LeakyRelu, g.Shared(sh.H1 + i)));
        }
    }

    /// <summary>
    /// conv1 backward, over h0 in place: dz0[t0, c .. c + W) = leaky'(h0[t0, c ..]) sum_{k, o: S1 t1 + k = t0} conv1b[k, o, c ..] dz1[t1, o].
    /// Items: (t0, a lane of W channels).
    /// </summary>
    private readonly void Conv1Backward<TG>(ref TG g, in LossGroupLayout sh) where TG : struct, IGroupContext
    {
        TL lanes = default;
        TF conv1b = Conv1B;
        int l = g.GroupIndex;
        int width = lanes.Width;
        int K1 = S.K1, S1 = S.S1, C0 = S.C0, C1 = S.C1, Len1 = S.Len1;
        int q0 = C0 / width;
        int wb1 = l / S.LearnersPerMember * K1 * C1 * C0;
        for (int i = g.Lane; i < S.Len0 * q0; i += g.GroupSize)
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
                int zb = sh.Dz1 + t1 * C1;
                int w = wb1 + k * C1 * C0 + c0;
                for (int o = 0; o < C1; o++, w += C0)
                    a = lanes.MulAdd(lanes.Splat(g.Shared(zb + o)), lanes.Load(conv1b, w), a);
            }
            int h = sh.H0 + t0 * C0 + c0, dz = sh.Dz0 + t0 * C0 + c0;
            for (int j = 0; j < width; j++)
                g.SetShared(dz + j, lanes.Lane(a, j) * Act.GradFromOutput(Activation.LeakyRelu, g.Shared(h + j)));
        }
    }

    /// <summary>
    /// conv0 backward to its time-varying inputs: DMean at every buffer row (<see cref="MeanGradientRow"/>), and
    /// dcst[o] = Scale sum_t dz0[t, o] per channel, over cst (no longer needed). Items: the N buffer rows, then C0 channels.
    /// </summary>
    private readonly void Conv0Backward<TG>(ref TG g, in LossGroupLayout sh) where TG : struct, IGroupContext
    {
        int N = S.Rows, C0 = S.C0, Len0 = S.Len0;
        for (int i = g.Lane; i < N + C0; i += g.GroupSize)
        {
            if (i < N)
            {
                MeanGradientRow(ref g, sh, i);
            }
            else
            {
                int o = i - N;
                float s = 0f;
                for (int t = 0; t < Len0; t++) s += g.Shared(sh.Dz0 + t * C0 + o);
                g.SetShared(sh.Dz0Sum + o, s * Scale);
            }
        }
    }

    /// <summary>
    /// DMean at buffer row <paramref name="n"/>, per action channel a: += Scale hmean[j, a] for each sampled row j = n
    /// (the head's part), then += Scale times the context part (<see cref="Conv0MeanGradient"/>), four action channels at a time.
    /// </summary>
    private readonly void MeanGradientRow<TG>(ref TG g, in LossGroupLayout sh, int n) where TG : struct, IGroupContext
    {
        TF dMean = DMean;
        int l = g.GroupIndex;
        int A = S.Act, N = S.Rows, mb = S.Minibatch;
        int sampled = 0;
        for (int j = 0; j < mb; j++)
            if ((int)g.Shared(sh.Rows + j) == n) sampled = 1;
        for (int a0 = 0; a0 < A; a0 += 4)
        {
            int na = A - a0 < 4 ? A - a0 : 4;
            Conv0MeanGradient(ref g, sh, n, a0, na, out float s0, out float s1, out float s2, out float s3);
            for (int e = 0; e < na; e++)
            {
                int a = a0 + e;
                int at = (l * N + n) * A + a;
                float v = dMean[at];
                if (sampled != 0)
                    for (int j = 0; j < mb; j++)
                        if ((int)g.Shared(sh.Rows + j) == n) v += Scale * g.Shared(sh.HeadMean + j * A + a);
                float s = e == 0 ? s0 : (e == 1 ? s1 : (e == 2 ? s2 : s3));
                dMean[at] = v + Scale * s;
            }
        }
    }

    /// <summary>
    /// The context part of the mean gradient at buffer row <paramref name="n"/> for the <paramref name="na"/> (1 .. 4)
    /// action channels from <paramref name="a0"/>: s_e = sum_{k, o: S0 t0 + k = n} W0[o, TrajDim + a0 + e, k] dz0[t0, o]
    /// (four independent sums, each in the order k, o; the sums past na stay 0).
    /// </summary>
    private readonly void Conv0MeanGradient<TG>(ref TG g, in LossGroupLayout sh, int n, int a0, int na,
        out float e0, out float e1, out float e2, out float e3) where TG : struct, IGroupContext
    {
        TF phi = Phi;
        int T = S.TrajDim, K0 = S.K0, S0 = S.S0, C0 = S.C0, Len0 = S.Len0;
        int pb = S.PhiBase(g.GroupIndex);
        int ws0 = S.InDim * K0;
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        for (int k = 0; k < K0; k++)
        {
            int d = n - k;
            if (d < 0) break;
            int t0 = d / S0;
            if (t0 * S0 != d || t0 >= Len0) continue;
            int w = pb + S.Conv0W + (T + a0) * K0 + k;
            int zb = sh.Dz0 + t0 * C0;
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
        e0 = s0;
        e1 = s1;
        e2 = s2;
        e3 = s3;
    }

    /// <summary>
    /// The time-constant channels' gradients: G at the log-std (and DMem with MemoryThroughContext) += sum_o dcst[o]
    /// (sum of the channel's taps into o). Items: the log-std channels, then the memory channels.
    /// </summary>
    private readonly void ConstChannelsBackward<TG>(ref TG g, in LossGroupLayout sh) where TG : struct, IGroupContext
    {
        TF phi = Phi, gr = G, dMem = DMem;
        int l = g.GroupIndex;
        int T = S.TrajDim, A = S.Act, Mu = S.Mem, K0 = S.K0, C0 = S.C0;
        int pb = S.PhiBase(l), ls = LogStdAt(l);
        int ws0 = S.InDim * K0;
        int nConst = A + (MemoryThroughContext != 0 ? Mu : 0);
        for (int j = g.Lane; j < nConst; j += g.GroupSize)
        {
            int at = j < A ? ls + j : l * Mu + j - A;
            float v = j < A ? gr[at] : dMem[at];
            int wc = pb + S.Conv0W + (T + A + j) * K0;
            for (int o = 0; o < C0; o++) v += g.Shared(sh.Dz0Sum + o) * LossSums.Taps(phi, wc + o * ws0, K0);
            if (j < A) gr[at] = v;
            else dMem[at] = v;
        }
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
