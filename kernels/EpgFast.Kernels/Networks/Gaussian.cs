using EpgFast.Kernels.Launch;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Random;

namespace EpgFast.Kernels.Networks;

// The policy's action distribution: a diagonal Gaussian with a state-dependent mean (the MLP's
// output, rows of (Learners, Rows, Act)) and a state-independent log-std, one vector per learner
// read from the learner's parameter block: logstd[l, a] = P[l * LogStdStride + LogStdOffset + a].

/// <summary>
/// Samples actions a = mean + exp(logstd) * eps, eps ~ N(0, 1) from the counter-based RNG:
/// eps for (learner l, row r, component a) is normal number (Step * Rows + r) * Act + a of the stream
/// Philox.Stream(ActionNoise, Epoch, LearnerBase + l), so a learner's noise depends only on its
/// global id and its step, not on how many learners share the batch. One work item per (learner, row).
/// </summary>
public struct GaussianSampleKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>mean: (Learners, Rows, Act)</summary>
    public TF Mean;
    /// <summary>logstd source: (Learners, LogStdStride), the vector at LogStdOffset</summary>
    public TF LogStd;
    /// <summary>actions: (Learners, Rows, Act), written</summary>
    public TF Actions;
    public int Rows;
    public int Act;
    public int LogStdStride;
    public int LogStdOffset;
    public ulong Seed;
    public uint Epoch;
    public int LearnerBase;
    /// <summary>&gt; 0: learners this far apart share their noise (see Philox.LearnerStream).</summary>
    public int StreamPeriod;
    public long Step;

    public readonly void Execute(int index)
    {
        TF mean = Mean, logStd = LogStd, actions = Actions;
        int l = index / Rows;
        int r = index - l * Rows;
        ulong stream = Philox.LearnerStream(RandomStreams.ActionNoise, Epoch, LearnerBase, l, StreamPeriod);
        ulong counter = (ulong)((Step * Rows + r) * Act);
        int ls = l * LogStdStride + LogStdOffset;
        for (int a = 0; a < Act; a++)
        {
            float eps = Philox.NormalAt(Seed, stream, counter + (ulong)a);
            actions[index * Act + a] = mean[index * Act + a] + MathF.Exp(logStd[ls + a]) * eps;
        }
    }
}

/// <summary>
/// log pi(a | s) = -1/2 sum_a ((x_a - mean_a) / sigma_a)^2 - sum_a logstd_a - Act/2 log(2 pi).
/// One work item per (learner, row).
/// </summary>
public struct GaussianLogProbKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>mean: (Learners, Rows, Act)</summary>
    public TF Mean;
    /// <summary>logstd source: (Learners, LogStdStride), the vector at LogStdOffset</summary>
    public TF LogStd;
    /// <summary>actions: (Learners, Rows, Act)</summary>
    public TF Actions;
    /// <summary>logp: (Learners, Rows), written</summary>
    public TF LogP;
    public int Rows;
    public int Act;
    public int LogStdStride;
    public int LogStdOffset;

    public readonly void Execute(int index)
    {
        TF mean = Mean, logStd = LogStd, actions = Actions, logP = LogP;
        int l = index / Rows;
        int ls = l * LogStdStride + LogStdOffset;
        float sum = -0.5f * Act * 1.8378770664093453f; // log(2 pi)
        for (int a = 0; a < Act; a++)
        {
            float s = logStd[ls + a];
            float z = (actions[index * Act + a] - mean[index * Act + a]) * MathF.Exp(-s);
            sum -= 0.5f * z * z + s;
        }
        logP[index] = sum;
    }
}

/// <summary>
/// KL(p0 || p1) between two diagonal Gaussians per row (the released code's gaussian_kl):
/// sum_a logstd1 - logstd0 + (sigma0^2 + (mean0 - mean1)^2) / (2 sigma1^2) - 1/2.
/// One work item per (learner, row).
/// </summary>
public struct GaussianKlKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>mean0, mean1: (Learners, Rows, Act)</summary>
    public TF Mean0;
    public TF Mean1;
    /// <summary>logstd sources: (Learners, stride), vectors at their offsets</summary>
    public TF LogStd0;
    public TF LogStd1;
    /// <summary>kl: (Learners, Rows), written</summary>
    public TF Kl;
    public int Rows;
    public int Act;
    public int LogStd0Stride;
    public int LogStd0Offset;
    public int LogStd1Stride;
    public int LogStd1Offset;

    public readonly void Execute(int index)
    {
        TF m0 = Mean0, m1 = Mean1, s0 = LogStd0, s1 = LogStd1, kl = Kl;
        int l = index / Rows;
        int b0 = l * LogStd0Stride + LogStd0Offset, b1 = l * LogStd1Stride + LogStd1Offset;
        float sum = 0f;
        for (int a = 0; a < Act; a++)
        {
            float ls0 = s0[b0 + a], ls1 = s1[b1 + a];
            float d = m0[index * Act + a] - m1[index * Act + a];
            sum += ls1 - ls0 + (MathF.Exp(2f * ls0) + d * d) * 0.5f * MathF.Exp(-2f * ls1) - 0.5f;
        }
        kl[index] = sum;
    }
}

/// <summary>Entropy of the diagonal Gaussian: sum_a logstd_a + Act/2 (1 + log 2 pi). One work item per learner.</summary>
public struct GaussianEntropyKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>logstd source: (Learners, LogStdStride), the vector at LogStdOffset</summary>
    public TF LogStd;
    /// <summary>entropy: (Learners), written</summary>
    public TF Entropy;
    public int Act;
    public int LogStdStride;
    public int LogStdOffset;

    public readonly void Execute(int l)
    {
        TF logStd = LogStd, entropy = Entropy;
        float sum = 0.5f * Act * 2.8378770664093453f; // 1 + log(2 pi)
        for (int a = 0; a < Act; a++) sum += logStd[l * LogStdStride + LogStdOffset + a];
        entropy[l] = sum;
    }
}
