using ILGPU;

namespace EpgFast.Kernels.Memory;

/// <summary>An ILGPU array view: the accessor kernels use when compiled for CUDA (or ILGPU's CPU accelerator).</summary>
public readonly struct GpuView<T> : IView<T> where T : unmanaged
{
    private readonly ArrayView<T> _view;

    public GpuView(ArrayView<T> view) => _view = view;

    public T this[int index]
    {
        get => _view[index];
        set => _view[index] = value;
    }

    public int Length => (int)_view.Length;
}
