using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;

namespace EpgFast.Networks;

/// <summary>
/// Per-learner running mean/std over the TrajDim columns of a trajectory row (released utils.py Normalizer:
/// sums start at (0, eps, count eps), std floored at sqrt(MinVar)). Observation, action and aux columns are
/// normalized with it; reward, done and extras stay raw.
/// </summary>
public sealed class RunningNormalizer<TF> : IDisposable where TF : struct, IView<float>
{
    private readonly Device _device;
    private readonly float _eps;

    public RunningNormalizer(Device device, NetworkConfig config, int learners)
    {
        _device = device;
        _eps = config.NormalizerEps;
        Traj = config.Traj;
        Shape = new NormalizerShape { Learners = learners, Dim = Traj.Dim, MinVar = config.NormalizerMinVar };
        BufferRows = config.BufferRows;
        Sum = device.Allocate<float>(learners * Shape.Dim);
        Sum2 = device.Allocate<float>(learners * Shape.Dim);
        Count = device.Allocate<float>(learners);
        Old = device.Allocate<float>(learners * Shape.Dim * 2);
        Reset();
    }

    public NormalizerShape Shape { get; }
    public TrajShape Traj { get; }
    public int BufferRows { get; }
    /// <summary>sum, sum2: (Learners, TrajDim); count: (Learners)</summary>
    public DeviceBuffer<float> Sum { get; }
    public DeviceBuffer<float> Sum2 { get; }
    public DeviceBuffer<float> Count { get; }
    /// <summary>old: (Learners, TrajDim, 2), the mean and std before the last <see cref="Advance"/>'s statistics update</summary>
    public DeviceBuffer<float> Old { get; }

    /// <summary>Statistics back to (0, eps, eps): a new lifetime.</summary>
    public void Reset()
    {
        Sum.Clear();
        _device.Launch(Sum2.Length, new FillKernel<TF> { Data = Sum2.View<TF>(), Offset = 0, Value = _eps });
        _device.Launch(Count.Length, new FillKernel<TF> { Data = Count.View<TF>(), Offset = 0, Value = _eps });
    }

    /// <summary>Adds rows [row0, row0 + rows) of x (Learners, xRows, TrajDim) to the statistics (e.g. an update window's raw rows).</summary>
    public void Update(DeviceBuffer<float> x, int xRows, int row0, int rows)
        => _device.Launch(Shape.Learners * Shape.Dim, new NormalizerUpdateKernel<TF>
        {
            X = x.View<TF>(), Sum = Sum.View<TF>(), Sum2 = Sum2.View<TF>(), Count = Count.View<TF>(), S = Shape,
            XRows = xRows, Row0 = row0, Rows = rows, XStride = Shape.Dim, XOffset = 0,
        });

    /// <summary>
    /// y = (x - mean) / std over cols columns starting at statistics column statOffset; x and y are
    /// (Learners, rows, stride) at their offsets. For acting: raw obs (L, 1, Obs) -> normalized obs, statOffset 0.
    /// </summary>
    public void Normalize(DeviceBuffer<float> x, int xStride, int xOffset, DeviceBuffer<float> y, int yStride, int yOffset, int rows, int cols, int statOffset = 0)
        => _device.Launch(Shape.Learners * rows, new NormalizeKernel<TF>
        {
            X = x.View<TF>(), Y = y.View<TF>(), Sum = Sum.View<TF>(), Sum2 = Sum2.View<TF>(), Count = Count.View<TF>(), S = Shape,
            Rows = rows, Cols = cols, StatOffset = statOffset, XStride = xStride, XOffset = xOffset, YStride = yStride, YOffset = yOffset,
        });

    /// <summary>
    /// One update window: adds the window's M raw rows, the last M rows of traj (L, N, TrajDim), to the statistics and
    /// brings the whole time-ordered trajectory to them in place, so that it holds the last min(steps, N) steps of life
    /// normalized with the new statistics, zero rows before (see <see cref="TrajAdvanceKernel{TF}"/>).
    /// </summary>
    /// <param name="traj">(L, N, TrajDim): rows [0, N - M) as the previous update left them (normalized, moved up by
    /// M; zeros at the start of life), rows [N - M, N) the raw rows of steps steps - M .. steps - 1</param>
    /// <param name="windowRows">M</param>
    /// <param name="steps">steps of life so far, a multiple of M</param>
    public void Advance(DeviceBuffer<float> traj, int windowRows, int steps)
    {
        _device.Launch(Shape.Learners * Shape.Dim, new NormalizerSnapshotKernel<TF>
        {
            Sum = Sum.View<TF>(), Sum2 = Sum2.View<TF>(), Count = Count.View<TF>(), Old = Old.View<TF>(), S = Shape,
        });
        Update(traj, BufferRows, BufferRows - windowRows, windowRows);
        _device.Launch(Shape.Learners * Shape.Dim, new TrajAdvanceKernel<TF>
        {
            Traj = traj.View<TF>(), Sum = Sum.View<TF>(), Sum2 = Sum2.View<TF>(), Count = Count.View<TF>(),
            Old = Old.View<TF>(), S = Shape, T = Traj, Rows = BufferRows, WindowRows = windowRows, Steps = steps,
        });
    }

    /// <summary>
    /// After an update: moves traj's rows (L, N, TrajDim) up by <paramref name="windowRows"/> (M), making room for the next
    /// window's raw rows at [N - M, N) (see <see cref="TrajShiftKernel{TF}"/>).
    /// </summary>
    public void Shift(DeviceBuffer<float> traj, int windowRows)
        => _device.Launch(Shape.Learners * Shape.Dim, new TrajShiftKernel<TF> { Traj = traj.View<TF>(), Rows = BufferRows, Dim = Shape.Dim, WindowRows = windowRows });

    public void Dispose()
    {
        Sum.Dispose();
        Sum2.Dispose();
        Count.Dispose();
        Old.Dispose();
    }
}
