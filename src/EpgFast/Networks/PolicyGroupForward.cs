using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;

namespace EpgFast.Networks;

/// <summary>
/// The policy forward as one group kernel (<see cref="PolicyGroupForwardKernel{TF}"/>): the same result as
/// <see cref="MlpBatch{TF}.Forward"/> (three dense launches) with each learner's weights staged in shared memory
/// on the GPU. MlpBatch.Forward uses it on ILGPU devices (CUDA) for 32 rows per learner and more.
/// </summary>
public static class PolicyGroupForward
{
    /// <summary>Default rows per group (a learner's M = 64 acting rows or a 512-row buffer split into 8 tiles).</summary>
    public const int DefaultRowsPerGroup = 64;

    /// <summary>Default GPU threads per group: keeps the Ant policy's shared block (42.8 KB) under 48 KB.</summary>
    public const int DefaultThreads = 32;

    /// <summary>The kernel's shape for <paramref name="layout"/> (an MLP inside the learners' blocks).</summary>
    public static PolicyGroupShape Shape(MlpLayout layout, int learners, int rows, int xStride, int xOffset,
        int rowsPerGroup = DefaultRowsPerGroup, int threads = DefaultThreads, bool storeHidden = false) => new()
    {
        Learners = learners, Rows = rows,
        In = layout.In, H1 = layout.H1, H2 = layout.H2, Out = layout.Out,
        ParamStride = layout.Stride,
        W1 = layout.W1, W2 = layout.W2, W3 = layout.W3, B1 = layout.B1, B2 = layout.B2, B3 = layout.B3,
        XStride = xStride, XOffset = xOffset,
        RowsPerGroup = rowsPerGroup, Threads = threads, StoreHidden = storeHidden ? 1 : 0,
    };

    /// <summary>
    /// y (Learners, Rows, Out) = policy mean of x rows; with h1/h2 given (Learners, Rows, H1/H2) the hidden
    /// activations are written too. Asynchronous on a GPU.
    /// </summary>
    public static void Run<TF>(Device device, in PolicyGroupShape shape, DeviceBuffer<float> p, DeviceBuffer<float> x,
        DeviceBuffer<float> y, DeviceBuffer<float>? h1 = null, DeviceBuffer<float>? h2 = null) where TF : struct, IView<float>
    {
        var s = shape;
        s.StoreHidden = h1 is not null && h2 is not null ? 1 : 0;
        device.LaunchGroups(s.Groups, new PolicyGroupForwardKernel<TF>
        {
            X = x.View<TF>(), P = p.View<TF>(), Y = y.View<TF>(),
            H1Out = (h1 ?? y).View<TF>(), H2Out = (h2 ?? y).View<TF>(), S = s,
        });
    }
}
