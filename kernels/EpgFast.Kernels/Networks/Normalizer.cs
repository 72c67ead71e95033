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
/// Keeps each column's mean and std before a statistics update: old[l, d] = (mean, std), so that
/// <see cref="TrajAdvanceKernel{TF}"/> can move rows normalized with them to the new statistics.
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

/// <summary>
/// Brings the time-ordered trajectory (Learners, Rows, TrajDim) to the new statistics after they took in the update
/// window (<see cref="NormalizerSnapshotKernel{TF}"/> kept the old ones), in place. Rows r &lt; Rows - M hold the steps
/// before the window normalized with the old statistics (moved up by the previous update's
/// <see cref="TrajShiftKernel{TF}"/>) and are moved to the new ones, x' = (x std_old + mean_old - mean_new) / std_new (that is
/// (raw - mean_new) / std_new, the raw value recovered from the stored one); rows Rows - M .. Rows - 1 hold the
/// window's raw rows and are normalized; rows before the start of life (r &lt; Rows - min(Steps, Rows)) stay zero, the
/// released code's zero padding. Raw columns (reward, done, extra) stay as they are. One work item per (learner, column).
/// So the learner keeps one N-row buffer: no raw N-row ring and normalized copy, no separate window;
/// renormalizing a stored value costs one rounding per update (about 1e-7 relative; the raw value is never stored).
/// </summary>
public struct TrajAdvanceKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>traj: (Learners, Rows, TrajDim), read and written; the window's raw rows at Rows - M .. Rows - 1</summary>
    public TF Traj;
    public TF Sum;
    public TF Sum2;
    public TF Count;
    /// <summary>old: (Learners, TrajDim, 2), mean and std before the statistics update</summary>
    public TF Old;
    public NormalizerShape S;
    public TrajShape T;
    public int Rows;
    /// <summary>M: rows of the window.</summary>
    public int WindowRows;
    /// <summary>Steps of life after this window.</summary>
    public int Steps;

    public readonly void Execute(int index)
    {
        TF traj = Traj, old = Old;
        int dim = T.Dim;
        int l = index / dim;
        int c = index - l * dim;
        int m = WindowRows;
        int pad = Rows - (Steps < Rows ? Steps : Rows);
        int keep = Rows - m;
        bool normalized = T.Normalized(c);
        NormalizerMath.MeanStd(Sum, Sum2, Count, S, l, c, out float mean, out float std);
        float oldMean = old[2 * index], oldStd = old[2 * index + 1];
        int at = l * Rows * dim + c;
        if (!normalized) return;
        for (int r = 0; r < keep; r++, at += dim)
            traj[at] = r >= pad ? (traj[at] * oldStd + (oldMean - mean)) / std : 0f;
        for (int r = 0; r < m; r++, at += dim)
            traj[at] = (traj[at] - mean) / std;
    }
}

/// <summary>
/// After an update: moves every learner's trajectory rows up by M (rows M .. Rows - 1 to 0 .. Rows - M - 1), so the next
/// window's raw rows can be written at Rows - M .. Rows - 1 and the buffer stays time-ordered. One work item per
/// (learner, column) walks the rows upwards, so the move is in place.
/// </summary>
public struct TrajShiftKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>traj: (Learners, Rows, Dim), read and written</summary>
    public TF Traj;
    public int Rows;
    public int Dim;
    /// <summary>M: rows of an update window.</summary>
    public int WindowRows;

    public readonly void Execute(int index)
    {
        TF traj = Traj;
        int l = index / Dim;
        int at = l * Rows * Dim + index - l * Dim;
        int shift = WindowRows * Dim;
        for (int r = 0; r < Rows - WindowRows; r++, at += Dim) traj[at] = traj[at + shift];
    }
}
