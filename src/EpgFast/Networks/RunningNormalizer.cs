using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;

using EpgFast.Learners;

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
        Shape = new NormalizerShape { Learners = learners, Dim = config.TrajDim, MinVar = config.NormalizerMinVar };
        Sum = device.Allocate<float>(learners * Shape.Dim);
        Sum2 = device.Allocate<float>(learners * Shape.Dim);
        Count = device.Allocate<float>(learners);
        Old = device.Allocate<float>(learners * Shape.Dim * 2);
        Reset();
    }

    public NormalizerShape Shape { get; }
    /// <summary>sum, sum2: (Learners, TrajDim); count: (Learners)</summary>
    public DeviceBuffer<float> Sum { get; }
    public DeviceBuffer<float> Sum2 { get; }
    public DeviceBuffer<float> Count { get; }
    /// <summary>old: (Learners, TrajDim, 2), the mean and std at the last <see cref="Snapshot"/></summary>
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

    /// <summary>Keeps each column's mean and std as they are now in <see cref="Old"/> (before a statistics update; see <see cref="TrajectoryBuffer{TF}.Advance"/>).</summary>
    public void Snapshot()
        => _device.Launch(Shape.Learners * Shape.Dim, new NormalizerSnapshotKernel<TF>
        {
            Sum = Sum.View<TF>(), Sum2 = Sum2.View<TF>(), Count = Count.View<TF>(), Old = Old.View<TF>(), S = Shape,
        });

    public void Dispose()
    {
        Sum.Dispose();
        Sum2.Dispose();
        Count.Dispose();
        Old.Dispose();
    }
}
