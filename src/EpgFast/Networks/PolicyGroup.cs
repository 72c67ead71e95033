using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;

namespace EpgFast.Networks;

/// <summary>
/// The policy forward as one group kernel (<see cref="PolicyGroupForwardKernel{TF}"/>), each learner's weights staged
/// in shared memory: <see cref="MlpBatch{TF}"/>'s pass on devices whose groups have many threads (ILGPU devices).
/// </summary>
public static class PolicyGroupForward
{
    /// <summary>Default rows per group (a learner's M = 64 rows, or a 512-row buffer in 8 groups): the weights are staged once per 64 rows.</summary>
    public const int DefaultRowsPerGroup = 64;

    /// <summary>Default rows per tile: 16 x 64 (row, unit) pairs per hidden layer, the Ant policy's block 36.7 KB.</summary>
    public const int DefaultTileRows = 16;

    /// <summary>Default GPU threads per group.</summary>
    public const int DefaultThreads = 256;

    /// <summary>The kernel's shape for <paramref name="layout"/> (an MLP inside the learners' blocks).</summary>
    public static PolicyGroupShape Shape(MlpLayout layout, int learners, int rows, int xStride, int xOffset,
        int rowsPerGroup = DefaultRowsPerGroup, int threads = DefaultThreads, int tileRows = DefaultTileRows) => new()
    {
        M = Mlp(layout, learners, rows, xStride, xOffset),
        RowsPerGroup = rowsPerGroup, TileRows = tileRows, Threads = threads,
    };

    /// <summary>The kernels' description of the MLP <paramref name="layout"/> over rows of x (Learners, rows, xStride) at xOffset.</summary>
    public static PolicyMlpShape Mlp(MlpLayout layout, int learners, int rows, int xStride, int xOffset) => new()
    {
        Learners = learners, Rows = rows,
        In = layout.In, H1 = layout.H1, H2 = layout.H2, Out = layout.Out,
        ParamStride = layout.Stride,
        W1 = layout.W1, W2 = layout.W2, W3 = layout.W3, B1 = layout.B1, B2 = layout.B2, B3 = layout.B3,
        XStride = xStride, XOffset = xOffset,
    };

    /// <summary>y (Learners, Rows, Out) = policy mean of x rows. Asynchronous on a GPU.</summary>
    public static void Run<TF>(Device device, in PolicyGroupShape shape, DeviceBuffer<float> p, DeviceBuffer<float> x, DeviceBuffer<float> y)
        where TF : struct, IView<float>
        => device.LaunchGroups(shape.Groups, new PolicyGroupForwardKernel<TF> { X = x.View<TF>(), P = p.View<TF>(), Y = y.View<TF>(), S = shape });
}

/// <summary>
/// The policy backward as one fused group kernel per learner (<see cref="PolicyGroupBackwardKernel{TF}"/>): the hidden
/// activations recomputed and their gradients kept in shared memory instead of (Learners, Rows, H) device buffers.
/// </summary>
public static class PolicyGroupBackward
{
    /// <summary>Default rows per tile: the Ant policy's block stays under 48 KB of shared memory when recomputing.</summary>
    public const int DefaultTileRows = 16;

    /// <summary>Default GPU threads per group (one group per learner; the tile phases have 16 x 64 pairs).</summary>
    public const int DefaultThreads = 256;

    public static PolicyBackwardShape Shape(MlpLayout layout, int learners, int rows, int xStride, int xOffset,
        int tileRows = DefaultTileRows, int threads = DefaultThreads) => new()
    {
        M = PolicyGroupForward.Mlp(layout, learners, rows, xStride, xOffset),
        TileRows = tileRows, Threads = threads,
    };

    /// <summary>
    /// g (Learners, Stride) += d(sum dY . y)/d(policy weights and biases) over the rows of x (Learners, Rows, XStride).
    /// Asynchronous on a GPU.
    /// </summary>
    public static void Run<TF>(Device device, in PolicyBackwardShape shape, DeviceBuffer<float> p, DeviceBuffer<float> x,
        DeviceBuffer<float> dY, DeviceBuffer<float> g) where TF : struct, IView<float>
        => device.LaunchGroups(shape.M.Learners, new PolicyGroupBackwardKernel<TF>
        {
            X = x.View<TF>(), P = p.View<TF>(), DY = dY.View<TF>(), G = g.View<TF>(), S = shape,
        });
}
