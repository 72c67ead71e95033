using EpgFast.Kernels.Launch;
using EpgFast.Kernels.Memory;

namespace EpgFast.Kernels.Networks;

/// <summary>PPO hyper-parameters (released agents.py defaults) and the batch sizes the kernels see.</summary>
public struct PpoShape
{
    public int Learners;
    /// <summary>M: the newest steps PPO trains on (the act phase's length).</summary>
    public int Steps;
    public int Minibatch;
    public int Act;
    public float Gamma;
    public float Lambda;
    public float Clip;
    public float KlCoeff;
    /// <summary>Added to the advantages' standard deviation before dividing (the released code adds nothing).</summary>
    public float AdvEps;
    /// <summary>The learner parameter block's stride and the policy log-std's offset in it.</summary>
    public int ParamStride;
    public int LogStdOffset;
}

/// <summary>
/// Generalized advantage estimation over the M newest steps of one learner, as the released code does it:
/// delta_t = r_t + gamma (1 - d_t) v_{t+1} - v_t with v_M := v_{M-1}; adv_t = delta_t + gamma lambda (1 - d_t) adv_{t+1};
/// vtarg = adv + v; the advantages are then normalized to zero mean and unit (population) std.
/// One work item per learner.
/// </summary>
public struct GaeKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>traj: (Learners, Rows, RowStride); the M newest steps are rows RowBase .. RowBase + M - 1, oldest first,
    /// reward at column RewardColumn, done flag at DoneColumn (raw columns: the normalizer leaves them as they are)</summary>
    public TF Traj;
    public int Rows;
    public int RowBase;
    public int RowStride;
    public int RewardColumn;
    public int DoneColumn;
    /// <summary>value: (Learners, Steps)</summary>
    public TF Value;
    /// <summary>adv: (Learners, Steps), written (normalized)</summary>
    public TF Adv;
    /// <summary>vtarg: (Learners, Steps), written</summary>
    public TF VTarg;
    public PpoShape S;

    public readonly void Execute(int l)
    {
        TF traj = Traj, value = Value, adv = Adv, vtarg = VTarg;
        int b = l * S.Steps;
        float next = 0f, sum = 0f;
        for (int t = S.Steps - 1; t >= 0; t--)
        {
            int row = (l * Rows + RowBase + t) * RowStride;
            float nd = 1f - traj[row + DoneColumn];
            float vNext = t == S.Steps - 1 ? value[b + t] : value[b + t + 1];
            float delta = traj[row + RewardColumn] + S.Gamma * nd * vNext - value[b + t];
            next = delta + S.Gamma * S.Lambda * nd * next;
            adv[b + t] = next;
            vtarg[b + t] = next + value[b + t];
            sum += next;
        }
        float mean = sum / S.Steps, sq = 0f;
        for (int t = 0; t < S.Steps; t++)
        {
            float d = adv[b + t] - mean;
            sq += d * d;
        }
        float inv = 1f / (MathF.Sqrt(sq / S.Steps) + S.AdvEps);
        for (int t = 0; t < S.Steps; t++) adv[b + t] = (adv[b + t] - mean) * inv;
    }
}

/// <summary>
/// PPO loss for one minibatch row j of learner l (PPO step m = Idx[...], policy mean row MeanRowBase + m):
/// ratio = exp(logp_new - logp_old); loss = -min(ratio A, clip(ratio, 1 - c, 1 + c) A) + KlCoeff KL(old || new)
/// + (v - vtarg)^2, each averaged over the minibatch. Writes the row's loss terms, its gradient w.r.t. the
/// policy mean and log-std (Part, unscaled) and Scale * dloss/dv (DV, for the value net's backward).
/// Gradients follow Chainer's: min passes to the first argument on ties, clip passes inside [1 - c, 1 + c].
/// One work item per (learner, minibatch row).
/// </summary>
public struct PpoLossKernel<TF, TI> : IKernel where TF : struct, IView<float> where TI : struct, IView<int>
{
    /// <summary>mean: (Learners, MeanRows, Act), the current policy's mean</summary>
    public TF Mean;
    /// <summary>p: (Learners, ParamStride), current log-std at LogStdOffset</summary>
    public TF P;
    /// <summary>oldMean: (Learners, Steps, Act); oldLogStd: (Learners, Act) (the policy before this update)</summary>
    public TF OldMean;
    public TF OldLogStd;
    /// <summary>actions: (Learners, Steps, Act), the actions taken (raw)</summary>
    public TF Actions;
    /// <summary>adv, vtarg: (Learners, Steps)</summary>
    public TF Adv;
    public TF VTarg;
    /// <summary>value: (Learners, Minibatch), the value net at the minibatch rows</summary>
    public TF Value;
    /// <summary>idx: PPO steps in [0, Steps), row j of learner l at l * IdxStride + IdxOffset + j</summary>
    public TI Idx;
    /// <summary>terms: (Learners, Minibatch, 3), written: surrogate, KL and value terms / Minibatch</summary>
    public TF Terms;
    /// <summary>part: (Learners, Minibatch, 2 Act), written: d loss / d[mean | logstd] (unscaled)</summary>
    public TF Part;
    /// <summary>dv: (Learners, Minibatch), written: Scale * d loss / d v</summary>
    public TF DV;
    public PpoShape S;
    public int MeanRows;
    public int MeanRowBase;
    public int IdxStride;
    public int IdxOffset;
    public float Scale;

    public readonly void Execute(int index)
    {
        TF mean = Mean, p = P, oldMean = OldMean, oldLogStd = OldLogStd, actions = Actions, adv = Adv, vtarg = VTarg, value = Value, terms = Terms, part = Part, dv = DV;
        TI idx = Idx;
        int l = index / S.Minibatch;
        int j = index - l * S.Minibatch;
        int m = idx[l * IdxStride + IdxOffset + j];
        int step = l * S.Steps + m;
        int mrow = l * MeanRows + MeanRowBase + m;
        int ls = l * S.ParamStride + S.LogStdOffset;
        float inv = 1f / S.Minibatch;
        float dlogp = 0f, kl = 0f;
        for (int a = 0; a < S.Act; a++)
        {
            float s1 = p[ls + a], s0 = oldLogStd[l * S.Act + a];
            float x = actions[step * S.Act + a];
            float z1 = (x - mean[mrow * S.Act + a]) * MathF.Exp(-s1);
            float z0 = (x - oldMean[step * S.Act + a]) * MathF.Exp(-s0);
            dlogp += -0.5f * z1 * z1 - s1 + 0.5f * z0 * z0 + s0;
            float d = oldMean[step * S.Act + a] - mean[mrow * S.Act + a];
            kl += s1 - s0 + (MathF.Exp(2f * s0) + d * d) * 0.5f * MathF.Exp(-2f * s1) - 0.5f;
        }
        float ratio = MathF.Exp(dlogp);
        float at = adv[step];
        float lo = 1f - S.Clip, hi = 1f + S.Clip;
        float clipped = ratio < lo ? lo : (ratio > hi ? hi : ratio);
        float surr1 = ratio * at, surr2 = clipped * at;
        float surr = surr1 <= surr2 ? surr1 : surr2;
        float dSurrDRatio = surr1 <= surr2 ? at : (ratio >= lo && ratio <= hi ? at : 0f);
        float v = value[index], vt = vtarg[step];
        terms[index * 3] = -surr * inv;
        terms[index * 3 + 1] = S.KlCoeff * kl * inv;
        terms[index * 3 + 2] = (v - vt) * (v - vt) * inv;
        dv[index] = Scale * 2f * (v - vt) * inv;
        float dLogp = -dSurrDRatio * ratio * inv;
        float klc = S.KlCoeff * inv;
        for (int a = 0; a < S.Act; a++)
        {
            float s1 = p[ls + a], s0 = oldLogStd[l * S.Act + a];
            float mu1 = mean[mrow * S.Act + a], mu0 = oldMean[step * S.Act + a];
            float invVar1 = MathF.Exp(-2f * s1);
            float x = actions[step * S.Act + a];
            float z1 = (x - mu1) * MathF.Exp(-s1);
            float d = mu0 - mu1;
            part[index * 2 * S.Act + a] = dLogp * (x - mu1) * invVar1 - klc * d * invVar1;
            part[index * 2 * S.Act + S.Act + a] = dLogp * (z1 * z1 - 1f) + klc * (1f - (MathF.Exp(2f * s0) + d * d) * invVar1);
        }
    }
}

/// <summary>
/// Sums the PPO rows of one learner: loss[l, :] = (total, surrogate, KL, value) and adds Scale * the mean and
/// log-std gradients to DMean (at buffer rows MeanRowBase + m) and the learner's gradient block.
/// One work item per learner (sequential, so repeated rows are safe).
/// </summary>
public struct PpoReduceKernel<TF, TI> : IKernel where TF : struct, IView<float> where TI : struct, IView<int>
{
    /// <summary>terms: (Learners, Minibatch, 3); part: (Learners, Minibatch, 2 Act)</summary>
    public TF Terms;
    public TF Part;
    public TI Idx;
    /// <summary>loss: (Learners, 4), written</summary>
    public TF Loss;
    /// <summary>dmean: (Learners, MeanRows, Act), accumulated into</summary>
    public TF DMean;
    /// <summary>g: (Learners, ParamStride), accumulated into at LogStdOffset</summary>
    public TF G;
    public PpoShape S;
    public int MeanRows;
    public int MeanRowBase;
    public int IdxStride;
    public int IdxOffset;
    public float Scale;

    public readonly void Execute(int l)
    {
        TF terms = Terms, part = Part, loss = Loss, dMean = DMean, g = G;
        TI idx = Idx;
        int mb = S.Minibatch, a2 = 2 * S.Act;
        float t0 = 0f, t1 = 0f, t2 = 0f;
        for (int j = 0; j < mb; j++)
        {
            int r = l * mb + j;
            t0 += terms[r * 3];
            t1 += terms[r * 3 + 1];
            t2 += terms[r * 3 + 2];
            int mrow = l * MeanRows + MeanRowBase + idx[l * IdxStride + IdxOffset + j];
            for (int a = 0; a < S.Act; a++)
            {
                dMean[mrow * S.Act + a] += Scale * part[r * a2 + a];
                g[l * S.ParamStride + S.LogStdOffset + a] += Scale * part[r * a2 + S.Act + a];
            }
        }
        loss[l * 4] = t0 + t1 + t2;
        loss[l * 4 + 1] = t0;
        loss[l * 4 + 2] = t1;
        loss[l * 4 + 3] = t2;
    }
}

/// <summary>
/// During acting: keeps the sampled action of life step <c>Step</c>, raw, at row Step % Steps of PPO's action window
/// (the buffer normalizes its copy; PPO's likelihood ratio needs the action as taken). One work item per learner.
/// </summary>
public struct PpoRecordActionKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>actions: (Learners, Act), as sampled</summary>
    public TF Actions;
    /// <summary>window: (Learners, Steps, Act), written at row Step % Steps</summary>
    public TF Window;
    public int Steps;
    public int Act;
    public int Step;

    public readonly void Execute(int l)
    {
        TF window = Window;
        int w = (l * Steps + Step % Steps) * Act;
        for (int a = 0; a < Act; a++) window[w + a] = Actions[l * Act + a];
    }
}
