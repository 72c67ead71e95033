using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace EpgFast.Backends;

/// <summary>What `ptxas -v` reports for one entry function.</summary>
/// <param name="Registers">registers per thread</param>
/// <param name="SpillStoreBytes">bytes of spill stores per thread</param>
/// <param name="SpillLoadBytes">bytes of spill loads per thread</param>
/// <param name="StackBytes">stack frame bytes per thread</param>
/// <param name="StaticSharedBytes">static shared memory per group (ILGPU's kernels use dynamic shared memory; this is normally 0)</param>
/// <param name="Log">ptxas's full -v output (stderr and stdout)</param>
public sealed record PtxasInfo(int Registers, int SpillStoreBytes, int SpillLoadBytes, int StackBytes, int StaticSharedBytes, string Log)
{
    public int SpillBytes => SpillStoreBytes + SpillLoadBytes;
}

/// <summary>
/// NVIDIA's PTX assembler, run as a plain process (no GPU or driver needed): finds it, assembles PTX for an
/// architecture with -v and reads the per-function resource lines. `dotnet pwsh ./build.ps1 ptxas` fetches ptxas 11.8
/// (Debian's nvidia-cuda-toolkit) into .tools/cuda.
/// </summary>
public static partial class Ptxas
{
    /// <summary>Where `build.ps1 ptxas` unpacks it, relative to the repository root.</summary>
    public const string RepoRelativePath = ".tools/cuda/usr/bin/ptxas";

    /// <summary>
    /// The ptxas to use: $EPG_PTXAS if set (it must exist), else the repository's .tools/cuda/usr/bin/ptxas (searched
    /// upward from the working directory and from this assembly), else `ptxas` on the PATH; null when none is found.
    /// </summary>
    public static string? Find()
    {
        var env = Environment.GetEnvironmentVariable("EPG_PTXAS");
        if (!string.IsNullOrEmpty(env)) return File.Exists(env) ? Path.GetFullPath(env) : null;
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, RepoRelativePath);
                if (File.Exists(candidate)) return candidate;
            }
        }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, "ptxas");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Why <see cref="Find"/> found nothing, in one line (for skips and errors).</summary>
    public static string NotFoundReason()
    {
        var env = Environment.GetEnvironmentVariable("EPG_PTXAS");
        return !string.IsNullOrEmpty(env)
            ? $"EPG_PTXAS={env}: no such file"
            : $"ptxas not found ({RepoRelativePath} under the repository, or on the PATH); run `dotnet pwsh ./build.ps1 ptxas` (as root) to fetch it";
    }

    /// <summary>ptxas's version line ("Cuda compilation tools, release 11.8, V11.8.89").</summary>
    public static string Version(string ptxas)
    {
        var (code, output) = RunProcess(ptxas, ["--version"]);
        if (code != 0) throw new EpgException($"{ptxas} --version exited with code {code}");
        return output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("Cuda compilation tools", StringComparison.Ordinal)) ?? output.Trim();
    }

    /// <summary>
    /// Assembles <paramref name="ptx"/> (one entry function) for <paramref name="arch"/> with -v and returns its resources;
    /// the cubin goes to <paramref name="cubinPath"/> (a temporary file, deleted, when null). Throws an EpgException with
    /// ptxas's first error line when it fails.
    /// </summary>
    public static PtxasInfo Assemble(string ptxas, string ptx, string arch = "sm_90", string? cubinPath = null)
    {
        string dir = Path.Combine(Path.GetTempPath(), "epg-ptxas-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string input = Path.Combine(dir, "kernel.ptx");
            File.WriteAllText(input, ptx);
            string output = cubinPath ?? Path.Combine(dir, "kernel.cubin");
            var (code, log) = RunProcess(ptxas, ["-v", $"-arch={arch}", input, "-o", output]);
            if (code != 0)
            {
                string first = log.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Contains("error", StringComparison.OrdinalIgnoreCase)) ?? log.Trim();
                throw new EpgException($"ptxas exited with code {code}: {first}");
            }
            return Parse(log);
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>Reads the resource lines of `ptxas -v` for a single entry function.</summary>
    public static PtxasInfo Parse(string log)
    {
        var used = UsedLine().Match(log);
        if (!used.Success) throw new EpgException("ptxas -v printed no 'Used N registers' line");
        var frame = FrameLine().Match(log);
        var smem = SmemPart().Match(used.Value);
        int I(Match m, string g) => m.Success ? int.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture) : 0;
        return new PtxasInfo(
            Registers: I(used, "regs"),
            SpillStoreBytes: I(frame, "stores"),
            SpillLoadBytes: I(frame, "loads"),
            StackBytes: I(frame, "stack"),
            StaticSharedBytes: I(smem, "smem"),
            Log: log);
    }

    [GeneratedRegex(@"Used (?<regs>\d+) registers[^\n]*")]
    private static partial Regex UsedLine();

    [GeneratedRegex(@"(?<stack>\d+) bytes stack frame, (?<stores>\d+) bytes spill stores, (?<loads>\d+) bytes spill loads")]
    private static partial Regex FrameLine();

    [GeneratedRegex(@"(?<smem>\d+) bytes smem")]
    private static partial Regex SmemPart();

    private static (int Code, string Output) RunProcess(string exe, string[] arguments)
    {
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new EpgException($"could not start {exe}");
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout + stderr.Result);
    }
}

/// <summary>
/// Theoretical occupancy of one kernel on an H100 (sm_90): 65,536 registers per SM in 4 partitions, registers allocated
/// per warp in units of 256, at most 64 warps, 32 groups and 228 KB of shared memory per SM, with 1 KB of shared memory
/// reserved per group by the system. The limits of CUDA's occupancy calculator for compute capability 9.0.
/// </summary>
public static class H100Occupancy
{
    public const int RegistersPerSm = 65536;
    public const int SubPartitions = 4;
    public const int RegisterUnit = 256;
    public const int MaxWarpsPerSm = 64;
    public const int MaxGroupsPerSm = 32;
    public const int SharedBytesPerSm = 228 * 1024;
    public const int ReservedSharedPerGroup = 1024;
    public const int MaxThreadsPerGroup = 1024;
    public const int SmCount = 132;

    /// <summary>Resident groups per SM and the occupancy (resident warps / 64) for a group of <paramref name="threads"/>.</summary>
    /// <param name="registers">registers per thread (ptxas)</param>
    /// <param name="threads">threads per group</param>
    /// <param name="sharedBytes">static + dynamic shared memory per group</param>
    public static (int Groups, double Occupancy, string Limit) Of(int registers, int threads, int sharedBytes)
    {
        if (threads <= 0 || threads > MaxThreadsPerGroup) throw new ArgumentOutOfRangeException(nameof(threads), $"{threads} threads per group");
        int warps = (threads + 31) / 32;
        int byWarps = MaxWarpsPerSm / warps;
        int regsPerWarp = (Math.Max(1, registers) * 32 + RegisterUnit - 1) / RegisterUnit * RegisterUnit;
        int warpsByRegs = RegistersPerSm / SubPartitions / regsPerWarp * SubPartitions;
        int byRegs = warpsByRegs / warps;
        int byShared = SharedBytesPerSm / (sharedBytes + ReservedSharedPerGroup);
        int groups = Math.Min(Math.Min(MaxGroupsPerSm, byWarps), Math.Min(byRegs, byShared));
        string limit = groups == byRegs && byRegs < Math.Min(MaxGroupsPerSm, byWarps) ? "registers"
            : groups == byShared && byShared < Math.Min(MaxGroupsPerSm, byWarps) ? "shared"
            : groups == byWarps && byWarps <= MaxGroupsPerSm ? "warps" : "groups";
        return (groups, groups * warps / (double)MaxWarpsPerSm, limit);
    }

    /// <summary>
    /// The group size an auto-grouped ILGPU launch gets on CUDA (cuOccupancyMaxPotentialBlockSize: the multiple of 32 up
    /// to 1024 with the highest occupancy, the largest on a tie) and that occupancy.
    /// </summary>
    public static (int Threads, int Groups, double Occupancy, string Limit) BestGroup(int registers, int sharedBytes)
    {
        (int, int, double, string) best = (0, 0, -1, "");
        for (int t = MaxThreadsPerGroup; t >= 32; t -= 32)
        {
            var (g, occ, limit) = Of(registers, t, sharedBytes);
            if (occ > best.Item3 + 1e-12) best = (t, g, occ, limit);
        }
        return best;
    }
}
