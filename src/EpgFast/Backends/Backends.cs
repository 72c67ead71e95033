using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace EpgFast.Backends;

/// <summary>A clear, user-facing failure: printed as one line, exit code 1 (or the given code).</summary>
public sealed class EpgException(string message, int exitCode = 1) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>Opens the device a <see cref="BackendKind"/> asks for.</summary>
public static class DeviceFactory
{
    public static Device Open(BackendKind kind, int cpuThreads = 0)
    {
        switch (kind)
        {
            case BackendKind.Cpu:
                return new CpuDevice(cpuThreads);
            case BackendKind.IlgpuCpu:
                return IlgpuDevice.CreateCpuAccelerator();
            case BackendKind.Cuda:
                return IlgpuDevice.TryCreateCuda()
                    ?? throw new EpgException("--backend cuda: no CUDA device found (no NVIDIA GPU or driver on this machine); use --backend cpu or auto");
            default:
                return (Device?)IlgpuDevice.TryCreateCuda() ?? new CpuDevice(cpuThreads);
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
