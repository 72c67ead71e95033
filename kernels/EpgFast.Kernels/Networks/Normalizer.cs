using EpgFast.Kernels.Launch;
using EpgFast.Kernels.Memory;

namespace EpgFast.Kernels.Networks;

/// <summary>
/// A per-learner running mean/std (released utils.py Normalizer): sum, sum of squares and count, started at
/// (0, Eps, Eps) with Eps = 0.01; mean = sum / count, std = sqrt(max(sum2 / count - mean^2, MinVar)), MinVar = 0.01.
/// Statistics of Dim columns: Sum and Sum2 (Learners, Dim), Count (Learners).
/// </summary>
public struct NormalizerShape
{
    public int Learners;
    public int Dim;
    public float MinVar;
}

/// <summary>
/// Adds Rows rows of x to the statistics: x[l, r, d] = X[(l * XRows + Row0 + r) * XStride + XOffset + d].
/// One work item per (learner, column).
/// </summary>
public struct NormalizerUpdateKernel<TF> : IKernel where TF : struct, IView<float>
{
    public TF X;
    /// <summary>sum, sum2: (Learners, Dim); count: (Learners)</summary>
    public TF Sum;
    public TF Sum2;
    public TF Count;
    public NormalizerShape S;
    public int XRows;
    public int Row0;
    public int Rows;
    public int XStride;
    public int XOffset;

    public readonly void Execute(int index)
    {
        TF x = X, sum = Sum, sum2 = Sum2, count = Count;
        int l = index / S.Dim;
        int d = index - l * S.Dim;
        float s = 0f, s2 = 0f;
        for (int r = 0; r < Rows; r++)
        {
            float v = x[(l * XRows + Row0 + r) * XStride + XOffset + d];
            s += v;
            s2 += v * v;
        }
        sum[index] += s;
        sum2[index] += s2;
        if (d == 0) count[l] += Rows;
    }
}

/// <summary>Mean and std of column d of learner l's statistics.</summary>
public static class NormalizerMath
{
    public static void MeanStd<TF>(TF sum, TF sum2, TF count, NormalizerShape s, int l, int d, out float mean, out float std)
        where TF : struct, IView<float>
    {
        float c = count[l];
        mean = sum[l * s.Dim + d] / c;
        float var = sum2[l * s.Dim + d] / c - mean * mean;
        std = MathF.Sqrt(var > s.MinVar ? var : s.MinVar);
    }
}

/// <summary>
/// Normalizes Cols columns: y[l, r, c] = (x - mean[StatOffset + c]) / std[StatOffset + c], with x and y rows
/// (Learners, Rows, Stride) at their offsets (e.g. the observation a policy acts on). One work item per (learner, row).
/// </summary>
public struct NormalizeKernel<TF> : IKernel where TF : struct, IView<float>
{
    public TF X;
    public TF Y;
    public TF Sum;
    public TF Sum2;
    public TF Count;
    public NormalizerShape S;
    public int Rows;
    public int Cols;
    public int StatOffset;
    public int XStride;
    public int XOffset;
    public int YStride;
    public int YOffset;

    public readonly void Execute(int index)
    {
        TF x = X, y = Y;
        int l = index / Rows;
        for (int c = 0; c < Cols; c++)
        {
            NormalizerMath.MeanStd(Sum, Sum2, Count, S, l, StatOffset + c, out float mean, out float std);
            y[index * YStride + YOffset + c] = (x[index * XStride + XOffset + c] - mean) / std;
        }
    }
}

/// <summary>
/// Keeps each column's mean and std before a statistics update: old[l, d] = (mean, std), so that
/// <see cref="EpgFast.Kernels.Learners.TrajAdvanceKernel{TF}"/> can move rows normalized with them to the new statistics.
/// One work item per (learner, column).
/// </summary>
public struct NormalizerSnapshotKernel<TF> : IKernel where TF : struct, IView<float>
{
    public TF Sum;
    public TF Sum2;
    public TF Count;
    /// <summary>old: (Learners, Dim, 2), written</summary>
    public TF Old;
    public NormalizerShape S;

    public readonly void Execute(int index)
    {
        TF old = Old;
        int l = index / S.Dim;
        NormalizerMath.MeanStd(Sum, Sum2, Count, S, l, index - l * S.Dim, out float mean, out float std);
        old[2 * index] = mean;
        old[2 * index + 1] = std;
    }
}
