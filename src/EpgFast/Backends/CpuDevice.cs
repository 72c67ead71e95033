using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using EpgFast.Kernels.Launch;
using EpgFast.Kernels.Memory;

namespace EpgFast.Backends;

/// <summary>
/// The CPU launcher: kernels run as plain JIT-compiled C# (specialised for each kernel struct and
/// <see cref="CpuView{T}"/>), work items split into contiguous chunks across threads.
/// </summary>
public sealed class CpuDevice : Device
{
    private readonly ParallelOptions _options;

    /// <param name="threads">Worker threads; 0 means one per core.</param>
    public CpuDevice(int threads = 0)
    {
        Threads = threads > 0 ? threads : Environment.ProcessorCount;
        _options = new ParallelOptions { MaxDegreeOfParallelism = Threads };
    }

    public int Threads { get; }

    public override BackendKind Kind => BackendKind.Cpu;

    public override string Name => $"CPU launcher ({Threads} threads, {RuntimeInformation.ProcessArchitecture})";

    public override long MemoryBytes => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    public override int MaxLaneWidth => Vector512.IsHardwareAccelerated ? 16 : Vector256.IsHardwareAccelerated ? 8 : 1;

    public override int MaxGroupThreads => 1;

    public override long MaxSharedBytes => long.MaxValue;

    public override bool ScratchStructureOfArrays => false;

    public override TResult WithViews<TResult>(IViewCode<TResult> code) => code.Run<CpuView<float>, CpuView<int>>();

    public override DeviceBuffer<T> Allocate<T>(int length)
    {
        CheckLength(length);
        return Counted(new CpuBuffer<T>(length));
    }

    public override void Launch<TKernel>(int n, in TKernel kernel)
    {
        if (n <= 0) return;
        int chunks = Math.Min(n, Threads * 4);
        if (Threads == 1 || n < 64)
        {
            for (int i = 0; i < n; i++) kernel.Execute(i);
            return;
        }
        TKernel k = kernel;
        Parallel.For(0, chunks, _options, c =>
        {
            int start = (int)((long)n * c / chunks);
            int end = (int)((long)n * (c + 1) / chunks);
            TKernel local = k; // a stack copy: its fields stay in registers (no aliasing with the closure)
            for (int i = start; i < end; i++) local.Execute(i);
        });
    }

    public override unsafe void LaunchGroups<TKernel>(int groups, in TKernel kernel)
    {
        if (groups <= 0) return;
        int shared = Math.Max(1, kernel.SharedFloats);
        if (Threads == 1 || groups == 1)
        {
            float* s = GroupScratch(shared);
            for (int i = 0; i < groups; i++)
            {
                var g = new CpuGroupContext(new CpuView<float>(s, shared), i);
                kernel.Execute(ref g);
            }
            return;
        }
        int chunks = Math.Min(groups, Threads * 4);
        TKernel k = kernel;
        Parallel.For(0, chunks, _options, c =>
        {
            int start = (int)((long)groups * c / chunks);
            int end = (int)((long)groups * (c + 1) / chunks);
            TKernel local = k;
            float* s = GroupScratch(shared);
            for (int i = start; i < end; i++)
            {
                var g = new CpuGroupContext(new CpuView<float>(s, shared), i);
                local.Execute(ref g);
            }
        });
    }

    // The group kernels' "shared memory" on the CPU: one block per worker thread, grown when a kernel needs more,
    // kept for the thread's lifetime (pool threads are reused, so this is a few blocks per process).
    [ThreadStatic] private static unsafe float* _groupScratch;
    [ThreadStatic] private static int _groupScratchFloats;

    private static unsafe float* GroupScratch(int floats)
    {
        if (_groupScratchFloats < floats)
        {
            if (_groupScratch != null) NativeMemory.AlignedFree(_groupScratch);
            _groupScratch = (float*)NativeMemory.AlignedAlloc((nuint)floats * sizeof(float), 64);
            _groupScratchFloats = floats;
        }
        return _groupScratch;
    }

    public override void Synchronize()
    {
    }

    public override void Dispose()
    {
    }
}

/// <summary>Host memory, 64-byte aligned, zeroed on allocation.</summary>
public sealed unsafe class CpuBuffer<T> : DeviceBuffer<T> where T : unmanaged
{
    private T* _ptr;
    private readonly int _length;

    public CpuBuffer(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _length = length;
        nuint bytes = (nuint)Math.Max(1, length) * (nuint)sizeof(T);
        _ptr = (T*)NativeMemory.AlignedAlloc(bytes, 64);
        NativeMemory.Clear(_ptr, bytes);
    }

    public override int Length => _length;

    public Span<T> Span => new(_ptr, _length);

    public override void CopyFrom(ReadOnlySpan<T> source) => source.CopyTo(Span);

    public override void CopyTo(Span<T> destination) => Span.CopyTo(destination);

    public override void Clear() => Span.Clear();

    public override TView View<TView>()
    {
        if (typeof(TView) != typeof(CpuView<T>))
            throw new InvalidOperationException($"a CPU buffer has views of type CpuView, not {typeof(TView).Name}");
        return (TView)(object)new CpuView<T>(_ptr, _length);
    }

    public override void Dispose()
    {
        Uncount();
        if (_ptr != null)
        {
            NativeMemory.AlignedFree(_ptr);
            _ptr = null;
        }
    }
}
