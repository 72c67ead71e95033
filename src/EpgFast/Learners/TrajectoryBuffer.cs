using EpgFast.Backends;
using EpgFast.Kernels.Learners;
using EpgFast.Kernels.Memory;
using EpgFast.Networks;

namespace EpgFast.Learners;

/// <summary>
/// Each learner's experience buffer: the last N steps of its life as time-ordered trajectory rows (oldest first; zero
/// rows before the start of life), what the loss network reads. Row layout: <see cref="TrajShape"/>. Its life cycle
/// per update window of M steps:
/// <list type="number">
/// <item>acting writes the window's raw rows at [N - M, N) (RecordActionKernel, RecordOutcomeKernel);</item>
/// <item><see cref="Advance"/>: the running normalizer takes in the window, and every row is brought to the new
/// statistics in place (the older rows re-normalized, the window's rows normalized);</item>
/// <item>the update reads the rows;</item>
/// <item><see cref="Shift"/>: every row moves up by M, freeing [N - M, N) for the next window.</item>
/// </list>
/// So one N-row buffer serves: no raw ring plus normalized copy. Re-normalizing a stored value costs one rounding
/// per update (about 1e-7 relative).
/// </summary>
public sealed class TrajectoryBuffer<TF> : IDisposable where TF : struct, IView<float>
{
    private readonly Device _device;

    public TrajectoryBuffer(Device device, NetworkConfig config, int learners)
    {
        _device = device;
        Shape = config.Traj;
        Learners = learners;
        BufferRows = config.BufferRows;
        Rows = device.Allocate<float>(learners * config.BufferRows * Shape.Dim);
    }

    public TrajShape Shape { get; }
    public int Learners { get; }
    /// <summary>N: rows per learner.</summary>
    public int BufferRows { get; }
    /// <summary>traj: (Learners, N, TrajDim); during acting the last M rows are the window's raw rows, otherwise all are normalized.</summary>
    public DeviceBuffer<float> Rows { get; }

    /// <summary>All rows to zero: a new life.</summary>
    public void Clear() => Rows.Clear();

    /// <summary>
    /// The end of a window of <paramref name="windowRows"/> (M) steps, <paramref name="steps"/> steps into life (a
    /// multiple of M): the normalizer keeps its old statistics, takes in the window's raw rows, and every row is
    /// brought to the new statistics (see <see cref="TrajAdvanceKernel{TF}"/>).
    /// </summary>
    public void Advance(RunningNormalizer<TF> normalizer, int windowRows, int steps)
    {
        normalizer.Snapshot();
        normalizer.Update(Rows, BufferRows, BufferRows - windowRows, windowRows);
        _device.Launch(Learners * Shape.Dim, new TrajAdvanceKernel<TF>
        {
            Traj = Rows.View<TF>(), Sum = normalizer.Sum.View<TF>(), Sum2 = normalizer.Sum2.View<TF>(), Count = normalizer.Count.View<TF>(),
            Old = normalizer.Old.View<TF>(), S = normalizer.Shape, T = Shape, Rows = BufferRows, WindowRows = windowRows, Steps = steps,
        });
    }

    /// <summary>After an update: moves every row up by <paramref name="windowRows"/> (M), making room for the next window's raw rows at [N - M, N) (see <see cref="TrajShiftKernel{TF}"/>).</summary>
    public void Shift(int windowRows)
        => _device.Launch(Learners * Shape.Dim, new TrajShiftKernel<TF> { Traj = Rows.View<TF>(), Rows = BufferRows, Dim = Shape.Dim, WindowRows = windowRows });

    public void Dispose() => Rows.Dispose();
}
