using EpgFast.Kernels.Launch;
using EpgFast.Kernels.Memory;

namespace EpgFast.Kernels.Networks;

/// <summary>Adam settings (released utils.py defaults: beta1 0.9, beta2 0.999, eps 1e-8) over Learners x Stride parameters.</summary>
public struct AdamShape
{
    public int Learners;
    public int Stride;
    public float LearningRate;
    public float Beta1;
    public float Beta2;
    public float Eps;
}

/// <summary>
/// The non-finite guard and step bookkeeping, one work item per learner: if any gradient of the learner is
/// NaN or infinite, Ok[l] = 0 and Skipped[l] += 1 (the step is skipped, as the released code skips a
/// non-finite update); otherwise Ok[l] = 1, T[l] += 1 and StepSize[l] = lr sqrt(1 - beta2^t) / (1 - beta1^t).
/// </summary>
public struct AdamGuardKernel<TF, TI> : IKernel where TF : struct, IView<float> where TI : struct, IView<int>
{
    /// <summary>g: (Learners, Stride)</summary>
    public TF G;
    /// <summary>t, ok, skipped: (Learners)</summary>
    public TI T;
    public TI Ok;
    public TI Skipped;
    /// <summary>stepSize: (Learners), written</summary>
    public TF StepSize;
    public AdamShape S;

    public readonly void Execute(int l)
    {
        TF g = G, stepSize = StepSize;
        TI t = T, ok = Ok, skipped = Skipped;
        float probe = 0f; // stays 0 unless some g is NaN or +-inf (inf * 0 = NaN)
        int b = l * S.Stride;
        for (int i = 0; i < S.Stride; i++) probe += g[b + i] * 0f;
        if (probe == 0f)
        {
            int step = t[l] + 1;
            t[l] = step;
            ok[l] = 1;
            stepSize[l] = S.LearningRate * MathF.Sqrt(1f - MathF.Pow(S.Beta2, step)) / (1f - MathF.Pow(S.Beta1, step));
        }
        else
        {
            ok[l] = 0;
            skipped[l] = skipped[l] + 1;
        }
    }
}

/// <summary>
/// Adam update where the guard allowed it: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
/// p -= stepSize m / (sqrt(v) + eps). With ZeroGrad = 1 the gradient is cleared afterwards (also when skipped),
/// ready for the next accumulation. One work item per (learner, parameter).
/// </summary>
public struct AdamUpdateKernel<TF, TI> : IKernel where TF : struct, IView<float> where TI : struct, IView<int>
{
    /// <summary>p, g, m, v: (Learners, Stride)</summary>
    public TF P;
    public TF G;
    public TF M;
    public TF V;
    /// <summary>ok: (Learners); stepSize: (Learners)</summary>
    public TI Ok;
    public TF StepSize;
    public AdamShape S;
    public int ZeroGrad;

    public readonly void Execute(int index)
    {
        TF p = P, g = G, m = M, v = V, stepSize = StepSize;
        TI ok = Ok;
        int l = index / S.Stride;
        float gi = g[index];
        if (ZeroGrad != 0) g[index] = 0f;
        if (ok[l] == 0) return;
        float mi = S.Beta1 * m[index] + (1f - S.Beta1) * gi;
        float vi = S.Beta2 * v[index] + (1f - S.Beta2) * gi * gi;
        m[index] = mi;
        v[index] = vi;
        p[index] -= stepSize[l] * mi / (MathF.Sqrt(vi) + S.Eps);
    }
}
