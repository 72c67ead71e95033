using EpgFast.Kernels.Launch;
using EpgFast.Kernels.Memory;

namespace EpgFast.Kernels.Networks;

// The RL^2 policy: a GRU over a trial's steps with a Gaussian head (state-independent log-std) and a value head.
// One parameter vector is shared by every trial of the batch; trials run in lockstep, each with its own hidden
// state, which starts at zero with the trial and runs through all of its episodes.
//
//   x_t  = [normalized obs_t, a_{t-1}, r_{t-1}, d_{t-1}]              (In = Obs + Act + 2; zeros at t = 0)
//   r    = sigmoid(Wi_r x + bi_r + Wh_r h + bh_r)
//   z    = sigmoid(Wi_z x + bi_z + Wh_z h + bh_z)
//   hn   = Wh_n h + bh_n
//   n    = tanh(Wi_n x + bi_n + r * hn)
//   h'   = (1 - z) n + z h                                             (h_{-1} = 0)
//   mean = Wmu h' + bmu,  value = wv . h' + bv,  action ~ N(mean, exp(logstd)^2)
//
// Forward beside backward: GruStepKernel / GruHeadsKernel run the forward; GruHeadsBackwardInputKernel,
// GruHeadsBackwardParamsKernel, GruBackwardGatesKernel, GruBackwardCarryKernel and GruBackwardParamsKernel
// backpropagate a loss on (mean, value) through the whole trial (BPTT over all T steps, no truncation).
// Gradients go to per-trial blocks G (Trials, ParamStride); TrialSumKernel adds them up in trial order.

/// <summary>
/// Sizes of a batch of GRU policies over Trials x Steps and the layout of the shared parameter vector:
/// Wi (3H, In) | Wh (3H, H) | bi (3H) | bh (3H) | Wmu (Act, H) | bmu (Act) | logstd (Act) | wv (H) | bv (1),
/// each gate block in the order r, z, n.
/// </summary>
public struct GruShape
{
    /// <summary>B: trials in lockstep.</summary>
    public int Trials;
    /// <summary>T: steps of a trial.</summary>
    public int Steps;
    public int Obs;
    public int Act;
    /// <summary>H: GRU units.</summary>
    public int Hidden;

    /// <summary>Input width: observation, previous action, previous reward, previous done flag.</summary>
    public readonly int In => Obs + Act + 2;
    public readonly int Wi => 0;
    public readonly int Wh => 3 * Hidden * In;
    public readonly int Bi => Wh + 3 * Hidden * Hidden;
    public readonly int Bh => Bi + 3 * Hidden;
    public readonly int MeanW => Bh + 3 * Hidden;
    public readonly int MeanB => MeanW + Act * Hidden;
    public readonly int LogStd => MeanB + Act;
    public readonly int ValueW => LogStd + Act;
    public readonly int ValueB => ValueW + Hidden;
    /// <summary>P: the parameter count.</summary>
    public readonly int ParamCount => ValueB + 1;

    public static GruShape Create(int trials, int steps, int obs, int act, int hidden) =>
        new() { Trials = trials, Steps = steps, Obs = obs, Act = act, Hidden = hidden };
}

/// <summary>The logistic function 1 / (1 + exp(-a)).</summary>
public static class Sigmoid
{
    public static float Of(float a) => 1f / (1f + MathF.Exp(-a));
}

/// <summary>
/// GRU forward of step <see cref="Step"/> for every trial: h[b, t] from x[b, t] and h[b, t - 1] (zero at t = 0), and
/// the gates the backward needs. One work item per (trial, unit j): index = b * H + j.
/// </summary>
public struct GruStepKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>p: (P), the shared parameters</summary>
    public TF P;
    /// <summary>x: (Trials, Steps, In)</summary>
    public TF X;
    /// <summary>h: (Trials, Steps, H), row t written</summary>
    public TF H;
    /// <summary>gates: (Trials, Steps, 4H) = [r | z | n | hn], row t written</summary>
    public TF Gates;
    public GruShape S;
    public int Step;

    public readonly void Execute(int index)
    {
        TF p = P, x = X, h = H, gates = Gates;
        int nh = S.Hidden, nIn = S.In, t = Step;
        int b = index / nh;
        int j = index - b * nh;
        int row = b * S.Steps + t;
        float ar = p[S.Bi + j] + p[S.Bh + j];
        float az = p[S.Bi + nh + j] + p[S.Bh + nh + j];
        float an = p[S.Bi + 2 * nh + j];
        float hn = p[S.Bh + 2 * nh + j];
        int wr = S.Wi + j * nIn, wz = wr + nh * nIn, wn = wz + nh * nIn;
        for (int i = 0; i < nIn; i++)
        {
            float xi = x[row * nIn + i];
            ar += p[wr + i] * xi;
            az += p[wz + i] * xi;
            an += p[wn + i] * xi;
        }
        float hPrev = 0f;
        if (t > 0)
        {
            int hp = (row - 1) * nh;
            int ur = S.Wh + j * nh, uz = ur + nh * nh, un = uz + nh * nh;
            for (int k = 0; k < nh; k++)
            {
                float hk = h[hp + k];
                ar += p[ur + k] * hk;
                az += p[uz + k] * hk;
                hn += p[un + k] * hk;
            }
            hPrev = h[hp + j];
        }
        float r = Sigmoid.Of(ar), z = Sigmoid.Of(az);
        float n = Act.Tanh(an + r * hn);
        h[row * nh + j] = (1f - z) * n + z * hPrev;
        int g = row * 4 * nh + j;
        gates[g] = r;
        gates[g + nh] = z;
        gates[g + 2 * nh] = n;
        gates[g + 3 * nh] = hn;
    }
}

/// <summary>
/// The heads on steps [Row0, Row0 + Count) of every trial: mean = Wmu h + bmu (Act) and value = wv . h + bv.
/// One work item per (trial, step): index = b * Count + r.
/// </summary>
public struct GruHeadsKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>p: (P)</summary>
    public TF P;
    /// <summary>h: (Trials, Steps, H)</summary>
    public TF H;
    /// <summary>mean: (Trials, Count, Act), written</summary>
    public TF Mean;
    /// <summary>value: (Trials, Count), written</summary>
    public TF Value;
    public GruShape S;
    public int Row0;
    public int Count;

    public readonly void Execute(int index)
    {
        TF p = P, h = H, mean = Mean, value = Value;
        int nh = S.Hidden;
        int b = index / Count;
        int hr = (b * S.Steps + Row0 + index - b * Count) * nh;
        for (int a = 0; a < S.Act; a++)
        {
            float s = p[S.MeanB + a];
            int w = S.MeanW + a * nh;
            for (int k = 0; k < nh; k++) s += p[w + k] * h[hr + k];
            mean[index * S.Act + a] = s;
        }
        float v = p[S.ValueB];
        for (int k = 0; k < nh; k++) v += p[S.ValueW + k] * h[hr + k];
        value[index] = v;
    }
}

/// <summary>
/// Heads backward to the hidden states: dh[b, t, :] = Wmu^T dmean[b, t] + ValueScale wv dv[b, t] (overwritten).
/// One work item per (trial, step): index = b * Steps + t.
/// </summary>
public struct GruHeadsBackwardInputKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>p: (P)</summary>
    public TF P;
    /// <summary>dmean: (Trials, Steps, Act)</summary>
    public TF DMean;
    /// <summary>dv: (Trials, Steps)</summary>
    public TF DV;
    /// <summary>dh: (Trials, Steps, H), written</summary>
    public TF DH;
    public GruShape S;
    /// <summary>Weight of the value loss in the total loss.</summary>
    public float ValueScale;

    public readonly void Execute(int index)
    {
        TF p = P, dMean = DMean, dh = DH;
        int nh = S.Hidden;
        float dv = ValueScale * DV[index];
        for (int k = 0; k < nh; k++)
        {
            float s = p[S.ValueW + k] * dv;
            for (int a = 0; a < S.Act; a++) s += p[S.MeanW + a * nh + k] * dMean[index * S.Act + a];
            dh[index * nh + k] = s;
        }
    }
}

/// <summary>
/// Heads backward to their parameters, added to trial b's gradient block: for output o &lt; Act (the mean) and o = Act
/// (the value, times ValueScale), dW[o, :] += sum_t dy[b, t, o] h[b, t, :] and db[o] += sum_t dy[b, t, o].
/// One work item per (trial, output): index = b * (Act + 1) + o.
/// </summary>
public struct GruHeadsBackwardParamsKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>h: (Trials, Steps, H)</summary>
    public TF H;
    /// <summary>dmean: (Trials, Steps, Act)</summary>
    public TF DMean;
    /// <summary>dv: (Trials, Steps)</summary>
    public TF DV;
    /// <summary>g: (Trials, GStride), accumulated into</summary>
    public TF G;
    public int GStride;
    public GruShape S;
    public float ValueScale;

    public readonly void Execute(int index)
    {
        TF h = H, dMean = DMean, dvs = DV, g = G;
        int nh = S.Hidden, outs = S.Act + 1, T = S.Steps;
        int b = index / outs;
        int o = index - b * outs;
        bool isValue = o == S.Act;
        int w = b * GStride + (isValue ? S.ValueW : S.MeanW + o * nh);
        int bias = b * GStride + (isValue ? S.ValueB : S.MeanB + o);
        float db = 0f;
        for (int t = 0; t < T; t++)
            db += isValue ? ValueScale * dvs[b * T + t] : dMean[(b * T + t) * S.Act + o];
        g[bias] += db;
        for (int k = 0; k < nh; k++)
        {
            float s = 0f;
            for (int t = 0; t < T; t++)
            {
                float dy = isValue ? ValueScale * dvs[b * T + t] : dMean[(b * T + t) * S.Act + o];
                s += dy * h[(b * T + t) * nh + k];
            }
            g[w + k] += s;
        }
    }
}

/// <summary>
/// BPTT, step <see cref="Step"/>, part 1: with dh_t = DH[b, t] + Carry[b] (the heads' gradient plus what flows back
/// from step t + 1), the pre-activation gradients of the gates:
/// dn = dh (1 - z), dz = dh (h_{t-1} - n), da_n = dn (1 - n^2), da_r = da_n hn r (1 - r), da_z = dz z (1 - z),
/// dhn = da_n r, stored in DA[b, t] = [da_r | da_z | da_n | dhn]. One work item per (trial, unit j).
/// </summary>
public struct GruBackwardGatesKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>h: (Trials, Steps, H); gates: (Trials, Steps, 4H) from the forward</summary>
    public TF H;
    public TF Gates;
    /// <summary>dh: (Trials, Steps, H), the gradient of the loss w.r.t. h from the heads</summary>
    public TF DH;
    /// <summary>carry: (Trials, H), d loss / d h_t through steps after t</summary>
    public TF Carry;
    /// <summary>da: (Trials, Steps, 4H), row t written</summary>
    public TF DA;
    public GruShape S;
    public int Step;

    public readonly void Execute(int index)
    {
        TF h = H, gates = Gates, da = DA;
        int nh = S.Hidden, t = Step;
        int b = index / nh;
        int j = index - b * nh;
        int row = b * S.Steps + t;
        float dh = DH[row * nh + j] + Carry[index];
        int g = row * 4 * nh + j;
        float r = gates[g], z = gates[g + nh], n = gates[g + 2 * nh], hn = gates[g + 3 * nh];
        float hPrev = t > 0 ? h[(row - 1) * nh + j] : 0f;
        float dan = dh * (1f - z) * (1f - n * n);
        da[g] = dan * hn * r * (1f - r);
        da[g + nh] = dh * (hPrev - n) * z * (1f - z);
        da[g + 2 * nh] = dan;
        da[g + 3 * nh] = dan * r;
    }
}

/// <summary>
/// BPTT, step <see cref="Step"/> (t &gt; 0), part 2: what flows back to h_{t-1}, in place:
/// carry[b, k] = dh_t[k] z[k] + sum_j Wh_r[j, k] da_r[j] + Wh_z[j, k] da_z[j] + Wh_n[j, k] dhn[j].
/// Each item reads only its own carry entry before writing it. One work item per (trial, unit k).
/// </summary>
public struct GruBackwardCarryKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>p: (P)</summary>
    public TF P;
    /// <summary>gates: (Trials, Steps, 4H); da: (Trials, Steps, 4H) from <see cref="GruBackwardGatesKernel{TF}"/></summary>
    public TF Gates;
    public TF DA;
    /// <summary>dh: (Trials, Steps, H)</summary>
    public TF DH;
    /// <summary>carry: (Trials, H), read and written</summary>
    public TF Carry;
    public GruShape S;
    public int Step;

    public readonly void Execute(int index)
    {
        TF p = P, da = DA, carry = Carry;
        int nh = S.Hidden;
        int b = index / nh;
        int k = index - b * nh;
        int row = b * S.Steps + Step;
        int g = row * 4 * nh;
        float c = (DH[row * nh + k] + carry[index]) * Gates[g + nh + k];
        int ur = S.Wh + k, uz = ur + nh * nh, un = uz + nh * nh;
        for (int j = 0; j < nh; j++)
            c += p[ur + j * nh] * da[g + j] + p[uz + j * nh] * da[g + nh + j] + p[un + j * nh] * da[g + 3 * nh + j];
        carry[index] = c;
    }
}

/// <summary>
/// BPTT, after every step: the GRU's parameter gradients of trial b, added to its block. For gate row q (of 3H):
/// dWi[q, :] += sum_t da[t, q] x[t, :], dbi[q] += sum_t da[t, q]; dWh[q, :] += sum_{t&gt;0} dah[t, q] h[t - 1, :],
/// dbh[q] += sum_t dah[t, q], where dah = da for the r and z rows and dhn for the n rows.
/// One work item per (trial, gate row q): index = b * 3H + q.
/// </summary>
public struct GruBackwardParamsKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>x: (Trials, Steps, In); h: (Trials, Steps, H); da: (Trials, Steps, 4H)</summary>
    public TF X;
    public TF H;
    public TF DA;
    /// <summary>g: (Trials, GStride), accumulated into</summary>
    public TF G;
    public int GStride;
    public GruShape S;

    public readonly void Execute(int index)
    {
        TF x = X, h = H, da = DA, g = G;
        int nh = S.Hidden, nIn = S.In, T = S.Steps;
        int rows = 3 * nh;
        int b = index / rows;
        int q = index - b * rows;
        int qh = q < 2 * nh ? q : q + nh; // the n rows of Wh and bh take dhn
        int gb = b * GStride;
        float dbi = 0f, dbh = 0f;
        for (int t = 0; t < T; t++)
        {
            int d = (b * T + t) * 4 * nh;
            dbi += da[d + q];
            dbh += da[d + qh];
        }
        g[gb + S.Bi + q] += dbi;
        g[gb + S.Bh + q] += dbh;
        for (int i = 0; i < nIn; i++)
        {
            float s = 0f;
            for (int t = 0; t < T; t++) s += da[(b * T + t) * 4 * nh + q] * x[(b * T + t) * nIn + i];
            g[gb + S.Wi + q * nIn + i] += s;
        }
        for (int k = 0; k < nh; k++)
        {
            float s = 0f;
            for (int t = 1; t < T; t++) s += da[(b * T + t) * 4 * nh + qh] * h[(b * T + t - 1) * nh + k];
            g[gb + S.Wh + q * nh + k] += s;
        }
    }
}

/// <summary>
/// Sums per-trial gradient blocks in trial order: g[i] = Scale * sum_b G[b * Stride + i]. One work item per parameter i.
/// </summary>
public struct TrialSumKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>blocks: (Trials, Stride)</summary>
    public TF Blocks;
    /// <summary>sum: (Stride), written</summary>
    public TF Sum;
    public int Trials;
    public int Stride;
    public float Scale;

    public readonly void Execute(int i)
    {
        TF blocks = Blocks, sum = Sum;
        float s = 0f;
        for (int b = 0; b < Trials; b++) s += blocks[b * Stride + i];
        sum[i] = Scale * s;
    }
}
