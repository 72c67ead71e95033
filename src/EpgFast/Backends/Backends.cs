using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace EpgFast.Backends;

/// <summary>
/// The exit codes of `epg` (README, "Exit codes"): 0 success, 1 a user error (a file that is not
/// there or not what it should be, a run directory in use, a refused resume), 2 bad arguments or
/// configuration values, 3 the work does not fit (device memory, sizes beyond 32-bit indexing),
/// 70 an internal error (a bug: printed with its stack trace).
/// </summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int UserError = 1;
    public const int BadArguments = 2;
    public const int DoesNotFit = 3;
    public const int InternalError = 70;
}

/// <summary>A clear, user-facing failure: printed as one line, exit code 1 (or the given code, see <see cref="ExitCodes"/>).</summary>
public sealed class EpgException(string message, int exitCode = ExitCodes.UserError) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    /// <summary>A bad argument or configuration value (exit 2).</summary>
    public static EpgException BadArguments(string message) => new(message, ExitCodes.BadArguments);

    /// <summary>Work that does not fit the device's memory or 32-bit sizes (exit 3).</summary>
    public static EpgException DoesNotFit(string message) => new(message, ExitCodes.DoesNotFit);
}

/// <summary>Opens the device a <see cref="BackendKind"/> asks for.</summary>
public static class DeviceFactory
{
    /// <summary>
    /// Opens the backend; <paramref name="gpu"/> picks the CUDA device (modulo their number: under
    /// mpirun each rank passes its local rank, so the ranks of a host spread over its GPUs).
    /// </summary>
    public static Device Open(BackendKind kind, int cpuThreads = 0, int gpu = 0)
    {
        switch (kind)
        {
            case BackendKind.Cpu:
                return new CpuDevice(cpuThreads);
            case BackendKind.IlgpuCpu:
                return IlgpuDevice.CreateCpuAccelerator();
            case BackendKind.Cuda:
                return IlgpuDevice.TryCreateCuda(gpu)
                    ?? throw new EpgException("--backend cuda: no CUDA device found (no NVIDIA GPU or driver on this machine); use --backend cpu or auto");
            default:
                return (Device?)IlgpuDevice.TryCreateCuda(gpu) ?? new CpuDevice(cpuThreads);
        }
    }

    /// <summary>The accelerators ILGPU finds (CUDA devices only; the CPU launcher is always there).</summary>
    public static IReadOnlyList<(string Name, long MemoryBytes, string Kind)> ProbeCuda()
    {
        using var context = Context.Create(b => b.Cuda().EnableAlgorithms());
        return context.Devices.Where(d => d.AcceleratorType == AcceleratorType.Cuda)
            .Select(d => (d.Name, d.MemorySize, "cuda")).ToList();
    }

    public static string IlgpuVersion =>
        typeof(Context).Assembly.GetName().Version?.ToString() ?? "unknown";
}
