using System.Runtime.CompilerServices;

namespace EpgFast.Kernels.Memory;

/// <summary>A raw-pointer view for the CPU launcher: the JIT turns kernel reads into plain loads.</summary>
public readonly unsafe struct CpuView<T> : IView<T> where T : unmanaged
{
    private readonly T* _ptr;
    private readonly int _length;

    public CpuView(T* ptr, int length)
    {
        _ptr = ptr;
        _length = length;
    }

    public T this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            Check(index);
            return _ptr[(uint)index]; // zero-extension is free on x64; sign-extension is not
        }
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        set
        {
            Check(index);
            _ptr[(uint)index] = value;
        }
    }

    public int Length => _length;

    /// <summary>The first element's address (for hand-written CPU code and copies).</summary>
    public T* Pointer => _ptr;

    [System.Diagnostics.Conditional("DEBUG")]
    private void Check(int index)
    {
        if ((uint)index >= (uint)_length)
            throw new IndexOutOfRangeException($"CpuView index {index} outside [0, {_length})");
    }
}
