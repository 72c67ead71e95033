using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;

namespace EpgFast.Networks;

/// <summary>Which of the two MLP passes a device runs (see <see cref="MlpBatch{TF}"/>).</summary>
public static class MlpPass
{
    /// <summary>Whether <paramref name="device"/> runs the group kernels (its groups have many threads) rather than the lanes passes.</summary>
    public static bool UsesGroups(Device device) => device.MaxGroupThreads > 1;

    /// <summary>The pass's name in reports: "group" or "lanes".</summary>
    public static string Name(Device device) => UsesGroups(device) ? "group" : "lanes";
}

/// <summary>
/// A batch of three-layer MLPs (in -> H1 tanh -> H2 tanh -> Out linear), one per learner, weights in the
/// learners' parameter blocks (see <see cref="MlpLayout"/>). Buffers are sized for MaxRows rows per learner and
/// packed with the current Rows. One pass per kind of device, chosen by its capabilities:
/// <list type="bullet">
/// <item>where a group is one thread (<see cref="Device.MaxGroupThreads"/> 1: the CPU launcher), the lanes passes
/// (<see cref="DenseLanesForwardKernel{TF, TV, TL}"/> and its two backward passes), SIMD over
/// <see cref="Device.MaxLaneWidth"/> floats; Forward keeps h1 and h2 for Backward, which writes dz1, dz2;</item>
/// <item>where groups have many threads sharing on-chip memory (ILGPU devices), the group kernels
/// (<see cref="PolicyGroupForwardKernel{TF}"/>, <see cref="PolicyGroupBackwardKernel{TF}"/>): each learner's weights
/// staged in shared memory; nothing per row is kept but y, the backward recomputing h1 and h2 tile by tile. This
/// design has not yet been timed on a GPU against the lanes passes there (README, "Layout").</item>
/// </list>
/// </summary>
public sealed class MlpBatch<TF> : IDisposable where TF : struct, IView<float>
{
    private readonly Device _device;
    private readonly bool _groups;                    // the group kernels (else the lanes passes)
    private readonly DeviceBuffer<float>? _h1, _h2;   // h1, h2: (Learners, MaxRows, H1/H2), after tanh (lanes passes)
    private readonly DeviceBuffer<float>? _dz1, _dz2; // dz1, dz2: (Learners, MaxRows, H1/H2), gradients at the pre-activations (lanes passes)
    private readonly DeviceBuffer<float>? _wt;        // wt: (Learners, In, Out) of the layer being computed (lanes passes, 8 rows and more)

    public MlpBatch(Device device, MlpLayout layout, int learners, int maxRows)
    {
        _device = device;
        Layout = layout;
        Learners = learners;
        MaxRows = maxRows;
        _groups = MlpPass.UsesGroups(device);
        if (_groups)
        {
            long shared = Math.Max(PolicyGroupForward.Shape(layout, 1, 1, layout.In, 0).SharedFloats,
                PolicyGroupBackward.Shape(layout, 1, 1, layout.In, 0).SharedFloats);
            if (!device.SharedFits(shared))
                throw EpgException.DoesNotFit($"does not fit: the {layout.In}-{layout.H1}-{layout.H2}-{layout.Out} MLP's group kernels need {shared * sizeof(float)} bytes of shared memory per group; this device allows {device.MaxSharedBytes}");
        }
        Y = device.Allocate<float>(learners * maxRows * layout.Out);
        if (_groups) return;
        _h1 = device.Allocate<float>(learners * maxRows * layout.H1);
        _h2 = device.Allocate<float>(learners * maxRows * layout.H2);
        _dz1 = device.Allocate<float>(learners * maxRows * layout.H1);
        _dz2 = device.Allocate<float>(learners * maxRows * layout.H2);
        if (maxRows >= LanesTransposeMinRows)
            _wt = device.Allocate<float>(learners * Math.Max(layout.In * layout.H1, Math.Max(layout.H1 * layout.H2, layout.H2 * layout.Out)));
    }

    public MlpLayout Layout { get; }
    public int Learners { get; }
    public int MaxRows { get; }
    /// <summary>Rows per learner of the last Forward.</summary>
    public int Rows { get; private set; }

    /// <summary>y: (Learners, Rows, Out), the output</summary>
    public DeviceBuffer<float> Y { get; }

    /// <summary>
    /// y = mlp(x) for <paramref name="rows"/> rows per learner; x[l, r, :] = X[(l * rows + r) * xStride + xOffset + i], i &lt; In.
    /// </summary>
    public void Forward(DeviceBuffer<float> p, DeviceBuffer<float> x, int rows, int xStride, int xOffset)
    {
        if (rows > MaxRows) throw new ArgumentOutOfRangeException(nameof(rows), $"{rows} rows > capacity {MaxRows}");
        Rows = rows;
        if (_groups)
        {
            var shape = PolicyGroupForward.Shape(Layout, Learners, rows, xStride, xOffset, threads: _device.GroupThreads(PolicyGroupForward.DefaultThreads));
            PolicyGroupForward.Run<TF>(_device, shape, p, x, Y);
            return;
        }
        TF p0 = p.View<TF>(), h1 = _h1!.View<TF>(), h2 = _h2!.View<TF>();
        LanesForward(Layout.Layer(0, Learners, rows).WithInput(xStride, xOffset), p0, x.View<TF>(), h1);
        LanesForward(Layout.Layer(1, Learners, rows), p0, h1, h2);
        LanesForward(Layout.Layer(2, Learners, rows), p0, h2, Y.View<TF>());
    }

    /// <summary>
    /// Adds d(sum dY . y)/d(weights, biases) to g (Learners, Stride) for the rows of the last Forward.
    /// dY: (Learners, Rows, Out). x must be the same input (and stride) as in Forward. No gradient to x.
    /// </summary>
    public void Backward(DeviceBuffer<float> p, DeviceBuffer<float> x, int xStride, int xOffset, DeviceBuffer<float> dY, DeviceBuffer<float> g)
    {
        int rows = Rows;
        if (_groups)
        {
            var shape = PolicyGroupBackward.Shape(Layout, Learners, rows, xStride, xOffset, threads: _device.GroupThreads(PolicyGroupBackward.DefaultThreads));
            PolicyGroupBackward.Run<TF>(_device, shape, p, x, dY, g);
            return;
        }
        // dz3 = dY (linear output); each backward-input pass writes the next layer's dz (times 1 - h^2)
        TF pl = p.View<TF>(), gl = g.View<TF>(), h1 = _h1!.View<TF>(), h2 = _h2!.View<TF>(), dz1 = _dz1!.View<TF>(), dz2 = _dz2!.View<TF>();
        var l0 = Layout.Layer(0, Learners, rows).WithInput(xStride, xOffset);
        var l1 = Layout.Layer(1, Learners, rows);
        var l2 = Layout.Layer(2, Learners, rows);
        LanesPass(LanesKind.Params, l2.In, new DenseLanesArgs<TF> { X = h2, DY = dY.View<TF>(), G = gl, S = l2 });
        LanesPass(LanesKind.Input, l2.In, new DenseLanesArgs<TF> { X = h2, P = pl, DY = dY.View<TF>(), DX = dz2, S = l2 }, Activation.Tanh);
        LanesPass(LanesKind.Params, l1.In, new DenseLanesArgs<TF> { X = h1, DY = dz2, G = gl, S = l1 });
        LanesPass(LanesKind.Input, l1.In, new DenseLanesArgs<TF> { X = h1, P = pl, DY = dz2, DX = dz1, S = l1 }, Activation.Tanh);
        LanesPass(LanesKind.Params, l0.In, new DenseLanesArgs<TF> { X = x.View<TF>(), DY = dz1, G = gl, S = l0 });
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
        _dz1?.Dispose();
        _dz2?.Dispose();
        _wt?.Dispose();
    }
}
