using EpgFast.Kernels.Launch;
using EpgFast.Kernels.Memory;

namespace EpgFast.Backends;

/// <summary>Which compute backend runs the kernels.</summary>
public enum BackendKind
{
    /// <summary>CUDA when a device is present, else the CPU launcher.</summary>
    Auto,
    /// <summary>The kernels as plain JIT-compiled C# across all cores.</summary>
    Cpu,
    /// <summary>The kernels compiled by ILGPU for an NVIDIA GPU.</summary>
    Cuda,
    /// <summary>ILGPU's CPU accelerator: a slow debugging device that checks kernels under ILGPU's semantics.</summary>
    IlgpuCpu,
}

/// <summary>
/// A compute device: allocates buffers and launches <see cref="IKernel"/> structs. Engine code is
/// written once, generic over the view type (<see cref="CpuView{T}"/> for <see cref="CpuDevice"/>,
/// <see cref="GpuView{T}"/> for <see cref="IlgpuDevice"/>), and gets its views from
/// <see cref="DeviceBuffer{T}.View{TView}"/>.
/// </summary>
public abstract class Device : IDisposable
{
    /// <summary>The backend actually in use (never Auto).</summary>
    public abstract BackendKind Kind { get; }

    /// <summary>Human-readable device name.</summary>
    public abstract string Name { get; }

    /// <summary>Device memory in bytes (host memory for the CPU launcher).</summary>
    public abstract long MemoryBytes { get; }

    /// <summary>Allocates a zeroed buffer of <paramref name="length"/> elements.</summary>
    public abstract DeviceBuffer<T> Allocate<T>(int length) where T : unmanaged;

    /// <summary>Runs <paramref name="kernel"/> for work items 0 .. n-1 (asynchronously on a GPU).</summary>
    public abstract void Launch<TKernel>(int n, in TKernel kernel) where TKernel : struct, IKernel;

    /// <summary>
    /// Runs group kernel <paramref name="kernel"/> for groups 0 .. groups - 1 (asynchronously on a GPU): on the GPU
    /// each group is kernel.GroupSize threads with kernel.SharedFloats floats of shared memory; on the CPU launcher
    /// one thread runs a group over a private scratch block (see <see cref="IGroupKernel"/>).
    /// </summary>
    public abstract void LaunchGroups<TKernel>(int groups, in TKernel kernel) where TKernel : struct, IGroupKernel;

    /// <summary>Waits until every launched kernel has finished.</summary>
    public abstract void Synchronize();

    // ---- capabilities: what the engine may assume when it sizes and picks kernels ---------------

    /// <summary>
    /// The widest SIMD lane, in floats, a lanes kernel may use here: 16 (AVX-512) or 8 (AVX2) on the CPU launcher,
    /// 1 where vectors are not hardware-accelerated and on ILGPU devices (a thread per float). See <see cref="LaneWidths"/>.
    /// </summary>
    public abstract int MaxLaneWidth { get; }

    /// <summary>
    /// The most threads one group of a group kernel may have: 1 on the CPU launcher, which runs a group on one thread
    /// over a private scratch block; the accelerator's limit on ILGPU devices.
    /// </summary>
    public abstract int MaxGroupThreads { get; }

    /// <summary>The most shared memory one group may ask for, in bytes (no limit on the CPU launcher, whose scratch is ordinary memory).</summary>
    public abstract long MaxSharedBytes { get; }

    /// <summary>
    /// Whether per-environment scratch is laid out structure-of-arrays (element i of every environment side by side, so
    /// neighbouring GPU threads read neighbouring floats) rather than one contiguous block per environment (what a CPU core caches).
    /// </summary>
    public abstract bool ScratchStructureOfArrays { get; }

    /// <summary>Threads per group for a group kernel that would like <paramref name="preferred"/>: at most <see cref="MaxGroupThreads"/>.</summary>
    public int GroupThreads(int preferred) => Math.Min(preferred, MaxGroupThreads);

    /// <summary>Whether a group kernel's block of <paramref name="sharedFloats"/> floats fits <see cref="MaxSharedBytes"/>.</summary>
    public bool SharedFits(long sharedFloats) => sharedFloats * sizeof(float) <= MaxSharedBytes;

    /// <summary>
    /// Runs <paramref name="code"/> with this device's view types (<see cref="CpuView{T}"/> on the CPU launcher,
    /// <see cref="GpuView{T}"/> on ILGPU devices): the one place host code turns a device into the type arguments of
    /// the generic engine classes.
    /// </summary>
    public abstract TResult WithViews<TResult>(IViewCode<TResult> code);

    public abstract void Dispose();

    // ---- allocation counter (for `epg bench`'s memory per learner) ----------------------------
    private long _allocatedBytes;

    /// <summary>Bytes of the buffers allocated on this device and not yet disposed (requested lengths x element size).</summary>
    public long AllocatedBytes => Interlocked.Read(ref _allocatedBytes);

    /// <summary>Called by an implementation's Allocate: adds <paramref name="buffer"/>'s bytes to <see cref="AllocatedBytes"/> until it is disposed.</summary>
    protected DeviceBuffer<T> Counted<T>(DeviceBuffer<T> buffer) where T : unmanaged
    {
        long seen;
        while (buffer.Length > (seen = Interlocked.Read(ref _largestLength))
               && Interlocked.CompareExchange(ref _largestLength, buffer.Length, seen) != seen)
        {
        }
        long bytes = (long)buffer.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        buffer.SetCounter(this, bytes);
        Interlocked.Add(ref _allocatedBytes, bytes);
        return buffer;
    }

    private long _largestLength;

    /// <summary>
    /// A negative length is a size product that overflowed 32-bit indexing (learners x rows x
    /// columns ...): the work does not fit (exit 3), not a buffer to allocate.
    /// </summary>
    protected static void CheckLength(int length)
    {
        if (length < 0)
            throw EpgException.DoesNotFit($"does not fit: a buffer's size overflowed 32-bit indexing (2^31 - 1 elements); use fewer learners or smaller sizes");
    }

    /// <summary>The most elements any one buffer allocated since the last <see cref="ResetLargestAllocation"/> held (for the up-front memory check).</summary>
    public long LargestAllocation => Interlocked.Read(ref _largestLength);

    public void ResetLargestAllocation() => Interlocked.Exchange(ref _largestLength, 0);

    internal void Uncount(long bytes) => Interlocked.Add(ref _allocatedBytes, -bytes);

    /// <summary>Allocates a buffer holding a copy of <paramref name="data"/>.</summary>
    public DeviceBuffer<T> Upload<T>(ReadOnlySpan<T> data) where T : unmanaged
    {
        var b = Allocate<T>(data.Length);
        b.CopyFrom(data);
        return b;
    }
}

/// <summary>Host code generic over a device's view types, run by <see cref="Device.WithViews{TResult}"/>.</summary>
public interface IViewCode<TResult>
{
    TResult Run<TF, TI>() where TF : struct, IView<float> where TI : struct, IView<int>;
}

/// <summary>A device buffer of <typeparamref name="T"/>.</summary>
public abstract class DeviceBuffer<T> : IDisposable where T : unmanaged
{
    public abstract int Length { get; }

    public abstract void CopyFrom(ReadOnlySpan<T> source);

    public abstract void CopyTo(Span<T> destination);

    public abstract void Clear();

    /// <summary>The accessor a kernel on this buffer's device takes; <typeparamref name="TView"/> must be the device's view type.</summary>
    public abstract TView View<TView>() where TView : struct, IView<T>;

    public T[] ToArray()
    {
        var a = new T[Length];
        CopyTo(a);
        return a;
    }

    public abstract void Dispose();

    private Device? _counter;
    private long _countedBytes;

    internal void SetCounter(Device device, long bytes) => (_counter, _countedBytes) = (device, bytes);

    /// <summary>Implementations call this from Dispose: takes the buffer off its device's <see cref="Device.AllocatedBytes"/> (once).</summary>
    protected void Uncount()
    {
        var d = Interlocked.Exchange(ref _counter, null);
        d?.Uncount(_countedBytes);
    }
}

/// <summary>Attributes a device's allocations to named parts: each Mark books the bytes allocated since the previous one.</summary>
public sealed class DeviceBytes(Device device)
{
    private long _last = device.AllocatedBytes;
    private readonly List<(string Part, long Bytes)> _parts = [];

    public IReadOnlyList<(string Part, long Bytes)> Parts => _parts;

    public void Mark(string part)
    {
        long now = device.AllocatedBytes;
        _parts.Add((part, now - _last));
        _last = now;
    }

    /// <summary>Books another object's own breakdown of what was allocated since the previous mark.</summary>
    public void Mark(IEnumerable<(string Part, long Bytes)> parts)
    {
        foreach (var p in parts) _parts.Add(p);
        _last = device.AllocatedBytes;
    }
}
