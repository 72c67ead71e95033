using EpgFast.Backends;

namespace EpgFast.Diagnostics;

/// <summary>What `epg info` reports: compute devices, ILGPU and MuJoCo availability.</summary>
public sealed record SystemInfo(
    IReadOnlyList<(string Name, long MemoryBytes, string Kind)> CudaDevices,
    int CpuThreads,
    string Cpu,
    string IlgpuVersion,
    string? MuJoCoVersion,
    string? MuJoCoDetail)
{
    public static SystemInfo Collect()
    {
        // Loads libmujoco only here, and never throws: without it the detail names the packages to install.
        var (mjVersion, mjDetail) = EpgFast.MuJoCo.MuJoCoLibrary.Probe();
        return new SystemInfo(DeviceFactory.ProbeCuda(), Environment.ProcessorCount, ReadCpuName(),
            DeviceFactory.IlgpuVersion, mjVersion, mjDetail);
    }

    private static string ReadCpuName()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal))
                    return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException)
        {
        }
        return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
    }
}
