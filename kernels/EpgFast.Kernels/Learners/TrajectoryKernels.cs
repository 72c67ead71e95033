using EpgFast.Kernels.Launch;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;

namespace EpgFast.Kernels.Learners;

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
