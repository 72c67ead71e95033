namespace EpgFast.Kernels.Memory;

/// <summary>
/// The small memory accessor every kernel is generic over. A kernel written against
/// <c>TF : struct, IView&lt;float&gt;</c> compiles through ILGPU for the GPU when instantiated with
/// <see cref="GpuView{T}"/> and runs as plain JIT-compiled C# when instantiated with
/// <see cref="CpuView{T}"/>: one kernel source, two launchers.
/// </summary>
public interface IView<T> where T : unmanaged
{
    /// <summary>Element <paramref name="index"/> (no bounds check on the CPU path in Release).</summary>
    T this[int index] { get; set; }

    /// <summary>Number of elements.</summary>
    int Length { get; }
}
