using ILGPU;

namespace EpgFast.Kernels.Launch;

/// <summary>
/// A kernel: a struct that carries its arguments (views and sizes) and runs one work item.
/// The CUDA launcher runs <see cref="KernelEntry.Run{TKernel}"/> per index; the CPU launcher calls
/// <see cref="Execute"/> in chunked loops across cores. Kernels must not allocate, throw, or use
/// GPU-only intrinsics (shared memory, barriers) inside <see cref="Execute"/>.
/// </summary>
public interface IKernel
{
    /// <summary>Run work item <paramref name="index"/> of the launch.</summary>
    void Execute(int index);
}

/// <summary>The one ILGPU entry point every <see cref="IKernel"/> is launched through.</summary>
public static class KernelEntry
{
    /// <summary>ILGPU kernel: work item <paramref name="index"/> of <paramref name="kernel"/>.</summary>
    public static void Run<TKernel>(Index1D index, TKernel kernel) where TKernel : struct, IKernel
        => kernel.Execute(index);
}
