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
/// Layout of a trajectory row (the loss network's data part, TrajDim columns):
/// [obs (Obs) | action (Act) | reward | aux (Aux) | done | extra (Extra)]. Observation, action and aux
/// columns are normalized; reward, done and the extra features (e.g. lifetime or episode progress) are raw,
/// as in the released code.
/// </summary>
public struct TrajShape
{
    public int Obs;
    public int Act;
    public int Aux;
    public int Extra;

    public readonly int Dim => Obs + Act + 2 + Aux + Extra;
    public readonly int RewardCol => Obs + Act;
    public readonly int AuxCol => Obs + Act + 1;
    public readonly int DoneCol => Obs + Act + 1 + Aux;

    public readonly bool Normalized(int c) => c < Obs + Act || (c >= AuxCol && c < DoneCol);
}

/// <summary>
/// Builds the normalized, time-ordered trajectory (Learners, Rows, TrajDim) from a raw ring buffer of the same
/// shape that holds step s at physical row s % Rows, after Steps steps: time row r is padding (all zeros, the
/// released code's zero padding at the start of life) while r &lt; Rows - min(Steps, Rows), else physical row
/// (Steps + r) % Rows once the ring is full, r - pad before. One work item per (learner, time row).
/// </summary>
public struct TrajAssembleKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>raw: (Learners, Rows, TrajDim), the ring</summary>
    public TF Raw;
    /// <summary>traj: (Learners, Rows, TrajDim), written</summary>
    public TF Traj;
    public TF Sum;
    public TF Sum2;
    public TF Count;
    public NormalizerShape S;
    public TrajShape T;
    public int Rows;
    public int Steps;

    public readonly void Execute(int index)
    {
        TF raw = Raw, traj = Traj;
        int l = index / Rows;
        int r = index - l * Rows;
        int dim = T.Dim;
        int filled = Steps < Rows ? Steps : Rows;
        int pad = Rows - filled;
        if (r < pad)
        {
            for (int c = 0; c < dim; c++) traj[index * dim + c] = 0f;
            return;
        }
        int phys = Steps >= Rows ? (Steps + r) % Rows : r - pad;
        int src = (l * Rows + phys) * dim;
        for (int c = 0; c < dim; c++)
        {
            float v = raw[src + c];
            if (T.Normalized(c))
            {
                NormalizerMath.MeanStd(Sum, Sum2, Count, S, l, c, out float mean, out float std);
                v = (v - mean) / std;
            }
            traj[index * dim + c] = v;
        }
    }
}
