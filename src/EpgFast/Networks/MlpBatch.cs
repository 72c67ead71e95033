using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;

namespace EpgFast.Networks;

/// <summary>How an <see cref="MlpBatch{TF}"/> computes, and so what it keeps in device memory per learner and row.</summary>
public enum MlpPath
{
    /// <summary>Three dense launches forward, five backward; keeps h1, h2, dh1, dh2 (4 x 64 floats per row for the policy).</summary>
    Dense = 0,
    /// <summary>The group forward (weights in shared memory) keeping h1, h2; the fused group backward (dh1, dh2 in shared memory).</summary>
    Group = 1,
    /// <summary>The group forward keeping only y; the fused group backward recomputes h1, h2 tile by tile (nothing per row but y).</summary>
    GroupRecompute = 2,
    /// <summary>
    /// The lanes dense passes (<see cref="DenseLanesForwardKernel{TF, TV, TL}"/>): SIMD over 16 or 8 floats on the CPU
    /// launcher, one float per thread elsewhere; keeps h1, h2, dz1, dz2 like Dense, plus one transposed weight matrix.
    /// </summary>
    Lanes = 3,
}

/// <summary>Choosing an <see cref="MlpPath"/>: the device's default, whether the group kernels fit, the command line's names.</summary>
public static class MlpPaths
{
    /// <summary>
    /// The path for <paramref name="rows"/> rows per learner on <paramref name="device"/>: on the CPU launcher the SIMD
    /// lanes passes where the CPU has 256-bit vectors (for any rows: acting takes dot products, batches transpose W);
    /// on the GPU, for 32 rows and more, the group kernels (recomputing, the smallest footprint), where a learner's rows
    /// fill a group. Otherwise the dense launches.
    /// </summary>
    public static MlpPath Default(Device device, MlpLayout layout, int rows)
    {
        if (device is CpuDevice) return System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? MlpPath.Lanes : MlpPath.Dense;
        return rows >= GroupMinRows && GroupFits(device, layout) ? MlpPath.GroupRecompute : MlpPath.Dense;
    }

    /// <summary>Fewer rows per learner than this (acting: one row) use the dense launches on the GPU by default.</summary>
    public const int GroupMinRows = 32;

    /// <summary>Whether both group kernels' shared blocks fit the device (the CPU launcher has no limit).</summary>
    public static bool GroupFits(Device device, MlpLayout layout)
    {
        if (device is not IlgpuDevice) return true;
        long fwd = PolicyGroupForward.Shape(layout, 1, 1, layout.In, 0).SharedFloats;
        long bwd = PolicyGroupBackward.Shape(layout, 1, 1, layout.In, 0, recompute: true).SharedFloats;
        return Math.Max(fwd, bwd) * sizeof(float) <= IlgpuDevice.MaxSharedBytes;
    }

    /// <summary>The command line's names: auto (null: the default), dense, lanes, group, recompute; <paramref name="what"/> names the setting in the error.</summary>
    public static MlpPath? Parse(string text, string what = "--update-path") => text.Trim().ToLowerInvariant() switch
    {
        "auto" => null,
        "dense" => MlpPath.Dense,
        "group" => MlpPath.Group,
        "recompute" => MlpPath.GroupRecompute,
        "lanes" => MlpPath.Lanes,
        _ => throw new EpgException($"{what} must be auto, dense, lanes, group or recompute (got '{text}')", 2),
    };
}

/// <summary>
/// A batch of three-layer MLPs (in -> H1 tanh -> H2 tanh -> Out linear), one per learner, weights in the
/// learners' parameter blocks (see <see cref="MlpLayout"/>). Forward keeps what the last call's Backward needs
/// (which depends on the <see cref="MlpPath"/>). Buffers are sized for MaxRows rows per learner and packed with
/// the current Rows.
/// </summary>
public sealed class MlpBatch<TF> : IDisposable where TF : struct, IView<float>
{
    private readonly Device _device;
    private readonly DeviceBuffer<float>? _h1, _h2, _dh1, _dh2;
    private readonly DeviceBuffer<float>? _wt;  // wt: (Learners, In, Out) of the layer being computed (Lanes path)

    public MlpBatch(Device device, MlpLayout layout, int learners, int maxRows, MlpPath path = MlpPath.Dense)
    {
        _device = device;
        Layout = layout;
        Learners = learners;
        MaxRows = maxRows;
        Path = path;
        if (path is MlpPath.Group or MlpPath.GroupRecompute && !MlpPaths.GroupFits(device, layout))
            throw new EpgException($"the {path} MLP path does not fit this device's shared memory for {layout.In}-{layout.H1}-{layout.H2}-{layout.Out}");
        Y = device.Allocate<float>(learners * maxRows * layout.Out);
        if (path != MlpPath.GroupRecompute)
        {
            _h1 = device.Allocate<float>(learners * maxRows * layout.H1);
            _h2 = device.Allocate<float>(learners * maxRows * layout.H2);
        }
        if (path is MlpPath.Dense or MlpPath.Lanes)
        {
            _dh1 = device.Allocate<float>(learners * maxRows * layout.H1);
            _dh2 = device.Allocate<float>(learners * maxRows * layout.H2);
        }
        if (path == MlpPath.Lanes && maxRows >= LanesTransposeMinRows)
            _wt = device.Allocate<float>(learners * Math.Max(layout.In * layout.H1, Math.Max(layout.H1 * layout.H2, layout.H2 * layout.Out)));
    }

    public MlpLayout Layout { get; }
    public int Learners { get; }
    public int MaxRows { get; }
    /// <summary>Rows per learner of the last Forward.</summary>
    public int Rows { get; private set; }

    public MlpPath Path { get; }

    /// <summary>h1: (Learners, Rows, H1), after tanh (not kept by <see cref="MlpPath.GroupRecompute"/>)</summary>
    public DeviceBuffer<float> H1 => _h1 ?? throw new InvalidOperationException($"the {Path} path keeps no h1");
    /// <summary>h2: (Learners, Rows, H2), after tanh (not kept by <see cref="MlpPath.GroupRecompute"/>)</summary>
    public DeviceBuffer<float> H2 => _h2 ?? throw new InvalidOperationException($"the {Path} path keeps no h2");
    /// <summary>y: (Learners, Rows, Out), the output</summary>
    public DeviceBuffer<float> Y { get; }

    /// <summary>
    /// y = mlp(x) for <paramref name="rows"/> rows per learner; x[l, r, :] = X[(l * rows + r) * xStride + xOffset + i], i &lt; In.
    /// </summary>
    public void Forward(DeviceBuffer<float> p, DeviceBuffer<float> x, int rows, int xStride, int xOffset)
    {
        if (rows > MaxRows) throw new ArgumentOutOfRangeException(nameof(rows), $"{rows} rows > capacity {MaxRows}");
        Rows = rows;
        if (Path == MlpPath.Lanes)
        {
            TF p0 = p.View<TF>();
            LanesForward(Layout.Layer(0, Learners, rows).WithInput(xStride, xOffset), p0, x.View<TF>(), H1.View<TF>());
            LanesForward(Layout.Layer(1, Learners, rows), p0, H1.View<TF>(), H2.View<TF>());
            LanesForward(Layout.Layer(2, Learners, rows), p0, H2.View<TF>(), Y.View<TF>());
            return;
        }
        if (Path != MlpPath.Dense)
        {
            int threads = _device is IlgpuDevice ilgpu ? Math.Min(PolicyGroupForward.DefaultThreads, ilgpu.Accelerator.MaxNumThreadsPerGroup) : 1;
            var shape = PolicyGroupForward.Shape(Layout, Learners, rows, xStride, xOffset, threads: threads);
            PolicyGroupForward.Run<TF>(_device, shape, p, x, Y, _h1, _h2);
            return;
        }
        TF pv = p.View<TF>();
        var s0 = Layout.Layer(0, Learners, rows).WithInput(xStride, xOffset);
        var s1 = Layout.Layer(1, Learners, rows);
        var s2 = Layout.Layer(2, Learners, rows);
        _device.Launch(s0.RowItems(4), new DenseForwardKernel<TF> { X = x.View<TF>(), P = pv, Y = H1.View<TF>(), S = s0, RowsPerItem = 4 });
        _device.Launch(s1.RowItems(4), new DenseForwardKernel<TF> { X = H1.View<TF>(), P = pv, Y = H2.View<TF>(), S = s1, RowsPerItem = 4 });
        _device.Launch(s2.RowItems(4), new DenseForwardKernel<TF> { X = H2.View<TF>(), P = pv, Y = Y.View<TF>(), S = s2, RowsPerItem = 4 });
    }

    /// <summary>
    /// Adds d(sum dY . y)/d(weights, biases) to g (Learners, Stride) for the rows of the last Forward.
    /// dY: (Learners, Rows, Out). x must be the same input (and stride) as in Forward. No gradient to x.
    /// </summary>
    public void Backward(DeviceBuffer<float> p, DeviceBuffer<float> x, int xStride, int xOffset, DeviceBuffer<float> dY, DeviceBuffer<float> g)
    {
        int rows = Rows;
        if (Path == MlpPath.Lanes)
        {
            // dz3 = dY (linear output); each backward-input pass writes the next layer's dz (times 1 - h^2)
            TF pl = p.View<TF>(), gl = g.View<TF>(), h1l = H1.View<TF>(), h2l = H2.View<TF>(), dz1 = _dh1!.View<TF>(), dz2 = _dh2!.View<TF>();
            var l0 = Layout.Layer(0, Learners, rows).WithInput(xStride, xOffset);
            var l1 = Layout.Layer(1, Learners, rows);
            var l2 = Layout.Layer(2, Learners, rows);
            LanesPass(LanesKind.Params, l2.In, new DenseLanesArgs<TF> { X = h2l, DY = dY.View<TF>(), G = gl, S = l2 });
            LanesPass(LanesKind.Input, l2.In, new DenseLanesArgs<TF> { X = h2l, P = pl, DY = dY.View<TF>(), DX = dz2, S = l2 }, Activation.Tanh);
            LanesPass(LanesKind.Params, l1.In, new DenseLanesArgs<TF> { X = h1l, DY = dz2, G = gl, S = l1 });
            LanesPass(LanesKind.Input, l1.In, new DenseLanesArgs<TF> { X = h1l, P = pl, DY = dz2, DX = dz1, S = l1 }, Activation.Tanh);
            LanesPass(LanesKind.Params, l0.In, new DenseLanesArgs<TF> { X = x.View<TF>(), DY = dz1, G = gl, S = l0 });
            return;
        }
        if (Path != MlpPath.Dense)
        {
            int threads = _device is IlgpuDevice ilgpu ? Math.Min(PolicyGroupBackward.DefaultThreads, ilgpu.Accelerator.MaxNumThreadsPerGroup) : 1;
            var shape = PolicyGroupBackward.Shape(Layout, Learners, rows, xStride, xOffset, Path == MlpPath.GroupRecompute, threads: threads);
            PolicyGroupBackward.Run<TF>(_device, shape, p, x, _h1, _h2, dY, g);
            return;
        }
        TF pv = p.View<TF>(), gv = g.View<TF>();
        var s0 = Layout.Layer(0, Learners, rows).WithInput(xStride, xOffset);
        var s1 = Layout.Layer(1, Learners, rows);
        var s2 = Layout.Layer(2, Learners, rows);
        TF h1 = H1.View<TF>(), h2 = H2.View<TF>(), dh1 = _dh1!.View<TF>(), dh2 = _dh2!.View<TF>();
        _device.Launch(s2.OutputItems(4), new DenseBackwardParamsKernel<TF> { X = h2, Y = Y.View<TF>(), DY = dY.View<TF>(), G = gv, S = s2, OutputsPerItem = 4 });
        _device.Launch(s2.RowItems(4), new DenseBackwardInputKernel<TF> { P = pv, Y = Y.View<TF>(), DY = dY.View<TF>(), DX = dh2, S = s2, RowsPerItem = 4 });
        _device.Launch(s1.OutputItems(4), new DenseBackwardParamsKernel<TF> { X = h1, Y = h2, DY = dh2, G = gv, S = s1, OutputsPerItem = 4 });
        _device.Launch(s1.RowItems(4), new DenseBackwardInputKernel<TF> { P = pv, Y = h2, DY = dh2, DX = dh1, S = s1, RowsPerItem = 4 });
        _device.Launch(s0.OutputItems(4), new DenseBackwardParamsKernel<TF> { X = x.View<TF>(), Y = h1, DY = dh1, G = gv, S = s0, OutputsPerItem = 4 });
    }

    private enum LanesKind { Forward, DotForward, Input, Params }

    /// <summary>Fewer rows per learner than this: the lanes forward takes dot products over W's rows instead of transposing W.</summary>
    public const int LanesTransposeMinRows = 8;

    /// <summary>
    /// One layer's lanes forward: for LanesTransposeMinRows rows and more, W transposed into the scratch, then y = act(W x + b) with
    /// the output units in lanes; for fewer (acting), dot products with the input units in lanes over W as it is.
    /// </summary>
    private void LanesForward(DenseShape s, TF p, TF x, TF y)
    {
        if (s.Rows < LanesTransposeMinRows)
        {
            LanesPass(LanesKind.DotForward, s.In, new DenseLanesArgs<TF> { X = x, P = p, Y = y, S = s });
            return;
        }
        TF wt = _wt!.View<TF>();
        _device.Launch(s.Learners * s.In, new DenseTransposeKernel<TF> { P = p, WT = wt, S = s });
        LanesPass(LanesKind.Forward, s.Out, new DenseLanesArgs<TF> { X = x, P = p, WT = wt, Y = y, S = s });
    }

    /// <summary>Launches a lanes pass at the widest lane width that suits its vector dimension of <paramref name="n"/> units.</summary>
    private void LanesPass(LanesKind kind, int n, in DenseLanesArgs<TF> a, Activation inputAct = Activation.Linear)
    {
        int width = kind == LanesKind.DotForward ? LaneWidths.For(_device, n) : LaneWidths.Overlapping(_device, n);
        switch (width)
        {
            case 16: LanesPass<System.Runtime.Intrinsics.Vector512<float>, Lanes16>(kind, a, inputAct); break;
            case 8: LanesPass<System.Runtime.Intrinsics.Vector256<float>, Lanes8>(kind, a, inputAct); break;
            default: LanesPass<float, ScalarLanes>(kind, a, inputAct); break;
        }
    }

    private void LanesPass<TV, TL>(LanesKind kind, in DenseLanesArgs<TF> a, Activation inputAct) where TV : unmanaged where TL : struct, ILanes<TV>
    {
        switch (kind)
        {
            case LanesKind.Forward: _device.Launch(a.RowItems, new DenseLanesForwardKernel<TF, TV, TL> { A = a }); break;
            case LanesKind.DotForward: _device.Launch(a.S.Learners * a.S.Rows, new DenseLanesDotForwardKernel<TF, TV, TL> { A = a }); break;
            case LanesKind.Input: _device.Launch(a.RowItems, new DenseLanesBackwardInputKernel<TF, TV, TL> { A = a, InputAct = inputAct }); break;
            default: _device.Launch(a.OutputItems, new DenseLanesBackwardParamsKernel<TF, TV, TL> { A = a }); break;
        }
    }

    /// <summary>
    /// The released code's init for the three weight matrices (columns normalized to 1, 1, 0.01; see
    /// <see cref="ColumnNormalInitKernel{TF}"/>). Biases are not touched: clear the block first.
    /// </summary>
    public static void InitializeWeights(Device device, MlpLayout layout, int learners, DeviceBuffer<float> p, InitStream stream)
    {
        for (int i = 0; i < 3; i++)
        {
            var s = layout.Layer(i, learners, 1);
            device.Launch(learners * s.In, new ColumnNormalInitKernel<TF>
            {
                P = p.View<TF>(), ParamStride = s.ParamStride, ParamOffset = s.ParamOffset, Counter = s.ParamOffset, In = s.In, Out = s.Out,
                Scale = i == 2 ? 0.01f : 1f, Stream = stream,
            });
        }
    }

    public void Dispose()
    {
        Y.Dispose();
        _h1?.Dispose();
        _h2?.Dispose();
        _dh1?.Dispose();
        _dh2?.Dispose();
        _wt?.Dispose();
    }
}
