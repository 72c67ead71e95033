using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;

namespace EpgFast.Networks;

/// <summary>
/// A batch of three-layer MLPs (in -> H1 tanh -> H2 tanh -> Out linear), one per learner, weights in the
/// learners' parameter blocks (see <see cref="MlpLayout"/>). Forward keeps the activations (H1, H2, Y) of the
/// last call for Backward. Buffers are sized for MaxRows rows per learner and packed with the current Rows.
/// </summary>
public sealed class MlpBatch<TF> : IDisposable where TF : struct, IView<float>
{
    private readonly Device _device;

    public MlpBatch(Device device, MlpLayout layout, int learners, int maxRows)
    {
        _device = device;
        Layout = layout;
        Learners = learners;
        MaxRows = maxRows;
        H1 = device.Allocate<float>(learners * maxRows * layout.H1);
        H2 = device.Allocate<float>(learners * maxRows * layout.H2);
        Y = device.Allocate<float>(learners * maxRows * layout.Out);
        DH1 = device.Allocate<float>(learners * maxRows * layout.H1);
        DH2 = device.Allocate<float>(learners * maxRows * layout.H2);
    }

    public MlpLayout Layout { get; }
    public int Learners { get; }
    public int MaxRows { get; }
    /// <summary>Rows per learner of the last Forward.</summary>
    public int Rows { get; private set; }

    /// <summary>h1: (Learners, Rows, H1), after tanh</summary>
    public DeviceBuffer<float> H1 { get; }
    /// <summary>h2: (Learners, Rows, H2), after tanh</summary>
    public DeviceBuffer<float> H2 { get; }
    /// <summary>y: (Learners, Rows, Out), the output</summary>
    public DeviceBuffer<float> Y { get; }
    /// <summary>Backward scratch: dh1 (Learners, Rows, H1), dh2 (Learners, Rows, H2).</summary>
    public DeviceBuffer<float> DH1 { get; }
    public DeviceBuffer<float> DH2 { get; }

    /// <summary>
    /// y = mlp(x) for <paramref name="rows"/> rows per learner; x[l, r, :] = X[(l * rows + r) * xStride + xOffset + i], i &lt; In.
    /// </summary>
    public void Forward(DeviceBuffer<float> p, DeviceBuffer<float> x, int rows, int xStride, int xOffset)
    {
        if (rows > MaxRows) throw new ArgumentOutOfRangeException(nameof(rows), $"{rows} rows > capacity {MaxRows}");
        Rows = rows;
        if (TryGroupForward(p, x, rows, xStride, xOffset)) return;
        int n = Learners * rows;
        TF pv = p.View<TF>();
        _device.Launch(n, new DenseForwardKernel<TF> { X = x.View<TF>(), P = pv, Y = H1.View<TF>(), S = Layout.Layer(0, Learners, rows).WithInput(xStride, xOffset) });
        _device.Launch(n, new DenseForwardKernel<TF> { X = H1.View<TF>(), P = pv, Y = H2.View<TF>(), S = Layout.Layer(1, Learners, rows) });
        _device.Launch(n, new DenseForwardKernel<TF> { X = H2.View<TF>(), P = pv, Y = Y.View<TF>(), S = Layout.Layer(2, Learners, rows) });
    }

    /// <summary>
    /// On an ILGPU device and for at least <see cref="GroupForwardMinRows"/> rows per learner, the forward runs
    /// as one group kernel that stages each learner's weights in shared memory
    /// (<see cref="PolicyGroupForward"/>; same outputs H1, H2, Y). Returns false where it does not apply
    /// (the CPU launcher, few rows, or a network whose weights do not fit in shared memory).
    /// </summary>
    private bool TryGroupForward(DeviceBuffer<float> p, DeviceBuffer<float> x, int rows, int xStride, int xOffset)
    {
        if (_device is not IlgpuDevice ilgpu || rows < GroupForwardMinRows) return false;
        int threads = Math.Min(PolicyGroupForward.DefaultThreads, ilgpu.Accelerator.MaxNumThreadsPerGroup);
        var shape = PolicyGroupForward.Shape(Layout, Learners, rows, xStride, xOffset, threads: threads, storeHidden: true);
        if ((long)shape.SharedFloatsFor(threads) * sizeof(float) > IlgpuDevice.MaxSharedBytes) return false;
        PolicyGroupForward.Run<TF>(_device, shape, p, x, Y, H1, H2);
        return true;
    }

    /// <summary>Fewer rows per learner than this (acting: one row) use the three dense launches.</summary>
    public const int GroupForwardMinRows = 32;

    /// <summary>
    /// Adds d(sum dY . y)/d(weights, biases) to g (Learners, Stride) for the rows of the last Forward.
    /// dY: (Learners, Rows, Out). x must be the same input (and stride) as in Forward. No gradient to x.
    /// </summary>
    public void Backward(DeviceBuffer<float> p, DeviceBuffer<float> x, int xStride, int xOffset, DeviceBuffer<float> dY, DeviceBuffer<float> g)
    {
        int rows = Rows, n = Learners * rows;
        TF pv = p.View<TF>(), gv = g.View<TF>();
        var s0 = Layout.Layer(0, Learners, rows).WithInput(xStride, xOffset);
        var s1 = Layout.Layer(1, Learners, rows);
        var s2 = Layout.Layer(2, Learners, rows);
        _device.Launch(Learners * s2.Out, new DenseBackwardParamsKernel<TF> { X = H2.View<TF>(), Y = Y.View<TF>(), DY = dY.View<TF>(), G = gv, S = s2 });
        _device.Launch(n, new DenseBackwardInputKernel<TF> { P = pv, Y = Y.View<TF>(), DY = dY.View<TF>(), DX = DH2.View<TF>(), S = s2 });
        _device.Launch(Learners * s1.Out, new DenseBackwardParamsKernel<TF> { X = H1.View<TF>(), Y = H2.View<TF>(), DY = DH2.View<TF>(), G = gv, S = s1 });
        _device.Launch(n, new DenseBackwardInputKernel<TF> { P = pv, Y = H2.View<TF>(), DY = DH2.View<TF>(), DX = DH1.View<TF>(), S = s1 });
        _device.Launch(Learners * s0.Out, new DenseBackwardParamsKernel<TF> { X = x.View<TF>(), Y = H1.View<TF>(), DY = DH1.View<TF>(), G = gv, S = s0 });
    }

    /// <summary>
    /// The released code's init for the three weight matrices (columns normalized to 1, 1, 0.01; see
    /// <see cref="ColumnNormalInitKernel{TF}"/>). Biases are not touched: clear the block first.
    /// </summary>
    public static void InitializeWeights(Device device, MlpLayout layout, int learners, DeviceBuffer<float> p, ulong seed, uint streamKind, uint epoch, int learnerBase, int streamPeriod = 0)
    {
        for (int i = 0; i < 3; i++)
        {
            var s = layout.Layer(i, learners, 1);
            device.Launch(learners * s.In, new ColumnNormalInitKernel<TF>
            {
                P = p.View<TF>(), ParamStride = s.ParamStride, ParamOffset = s.ParamOffset, In = s.In, Out = s.Out,
                Scale = i == 2 ? 0.01f : 1f, Seed = seed, StreamKind = streamKind, Epoch = epoch, LearnerBase = learnerBase, StreamPeriod = streamPeriod,
            });
        }
    }

    public void Dispose()
    {
        H1.Dispose();
        H2.Dispose();
        Y.Dispose();
        DH1.Dispose();
        DH2.Dispose();
    }
}
