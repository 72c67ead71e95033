using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using EpgFast.Kernels.Launch;
using EpgFast.Kernels.Memory;

namespace EpgFast.Backends;

/// <summary>
/// A device driven by ILGPU: a CUDA GPU, or ILGPU's CPU accelerator (for tests of kernel semantics).
/// Each kernel struct type is compiled once (on first launch) and cached.
/// </summary>
public sealed class IlgpuDevice : Device
{
    private readonly Context _context;
    private readonly Accelerator _accelerator;
    private readonly Dictionary<Type, Delegate> _kernels = new();
    private readonly Dictionary<Type, Delegate> _groupKernels = new();

    private IlgpuDevice(Context context, Accelerator accelerator, BackendKind kind)
    {
        _context = context;
        _accelerator = accelerator;
        Kind = kind;
    }

    /// <summary>Opens CUDA device <paramref name="index"/> (modulo their number; 0: the first), or returns null when there is none.</summary>
    public static IlgpuDevice? TryCreateCuda(int index = 0)
    {
        var context = Context.Create(b => b.Cuda().EnableAlgorithms().Optimize(OptimizationLevel.O2));
        var all = context.Devices.Where(d => d.AcceleratorType == AcceleratorType.Cuda).ToList();
        var cuda = all.Count == 0 ? null : all[index % all.Count];
        if (cuda is null)
        {
            context.Dispose();
            return null;
        }
        return new IlgpuDevice(context, cuda.CreateAccelerator(context), BackendKind.Cuda);
    }

    /// <summary>ILGPU's CPU accelerator (simulated GPU threads; slow, for tests).</summary>
    public static IlgpuDevice CreateCpuAccelerator()
    {
        var context = Context.Create(b => b.CPU().EnableAlgorithms().Optimize(OptimizationLevel.O2));
        var cpu = context.Devices.First(d => d.AcceleratorType == AcceleratorType.CPU);
        return new IlgpuDevice(context, cpu.CreateAccelerator(context), BackendKind.IlgpuCpu);
    }

    public override BackendKind Kind { get; }

    public override string Name => _accelerator.Name;

    public override long MemoryBytes => _accelerator.MemorySize;

    public Accelerator Accelerator => _accelerator;

    public override DeviceBuffer<T> Allocate<T>(int length)
    {
        CheckLength(length);
        var b = new IlgpuBuffer<T>(_accelerator.Allocate1D<T>(Math.Max(1, length)), length);
        b.Clear();
        return Counted(b);
    }

    public override void Launch<TKernel>(int n, in TKernel kernel)
    {
        if (n <= 0) return;
        if (!_kernels.TryGetValue(typeof(TKernel), out var d))
        {
            d = _accelerator.LoadAutoGroupedStreamKernel<Index1D, TKernel>(KernelEntry.Run);
            _kernels[typeof(TKernel)] = d;
        }
        ((Action<Index1D, TKernel>)d)(n, kernel);
    }

    /// <summary>CUDA's limit of shared memory per group without an opt-in (bytes): what group kernels are sized for.</summary>
    public const int SharedBytesWithoutOptIn = 48 * 1024;

    public override int MaxLaneWidth => 1;

    public override int MaxGroupThreads => _accelerator.MaxNumThreadsPerGroup;

    public override long MaxSharedBytes => SharedBytesWithoutOptIn;

    public override bool ScratchStructureOfArrays => true;

    public override TResult WithViews<TResult>(IViewCode<TResult> code) => code.Run<GpuView<float>, GpuView<int>>();

    public override void LaunchGroups<TKernel>(int groups, in TKernel kernel)
    {
        if (groups <= 0) return;
        int threads = kernel.GroupSize, shared = kernel.SharedFloats;
        if ((long)shared * sizeof(float) > MaxSharedBytes)
            throw new EpgException($"group kernel {typeof(TKernel).Name} asks for {shared * sizeof(float)} bytes of shared memory per group; the limit is {MaxSharedBytes}");
        if (threads <= 0 || threads > _accelerator.MaxNumThreadsPerGroup)
            throw new EpgException($"group kernel {typeof(TKernel).Name} asks for {threads} threads per group; this device allows 1..{_accelerator.MaxNumThreadsPerGroup}");
        if (!_groupKernels.TryGetValue(typeof(TKernel), out var d))
        {
            d = _accelerator.LoadStreamKernel<TKernel>(GroupKernelEntry.Run);
            _groupKernels[typeof(TKernel)] = d;
        }
        var config = new KernelConfig(new Index1D(groups), new Index1D(threads), SharedMemoryConfig.RequestDynamic<float>(Math.Max(1, shared)));
        ((Action<KernelConfig, TKernel>)d)(config, kernel);
    }

    public override void Synchronize() => _accelerator.Synchronize();

    public override void Dispose()
    {
        _accelerator.Dispose();
        _context.Dispose();
    }
}

/// <summary>An ILGPU device buffer.</summary>
public sealed class IlgpuBuffer<T> : DeviceBuffer<T> where T : unmanaged
{
    private readonly MemoryBuffer1D<T, Stride1D.Dense> _buffer;
    private readonly int _length;

    public IlgpuBuffer(MemoryBuffer1D<T, Stride1D.Dense> buffer, int length)
    {
        _buffer = buffer;
        _length = length;
    }

    public override int Length => _length;

    private ArrayView<T> Used => _buffer.View.SubView(0, _length);

    public override void CopyFrom(ReadOnlySpan<T> source)
    {
        if (source.Length != _length) throw new ArgumentException($"expected {_length} elements, got {source.Length}");
        if (_length > 0) Used.CopyFromCPU(source);
    }

    public override void CopyTo(Span<T> destination)
    {
        if (destination.Length != _length) throw new ArgumentException($"expected {_length} elements, got {destination.Length}");
        if (_length > 0) Used.CopyToCPU(destination);
    }

    public override void Clear() => _buffer.MemSetToZero();

    public override TView View<TView>()
    {
        if (typeof(TView) != typeof(GpuView<T>))
            throw new InvalidOperationException($"an ILGPU buffer has views of type GpuView, not {typeof(TView).Name}");
        return (TView)(object)new GpuView<T>(Used);
    }

    public override void Dispose()
    {
        Uncount();
        _buffer.Dispose();
    }
}
