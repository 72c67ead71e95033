using EpgFast.Kernels.Learners;
using System.Globalization;
using System.Text;
using EpgFast.Kernels.Launch;
using EpgFast.Kernels.Networks;
using EpgFast.Networks;
using EpgFast.Tasks;
using EpgFast.Training;

namespace EpgFast.Backends;

/// <summary>One kernel as NVIDIA's assembler built it for sm_90, with its launch size and theoretical H100 occupancy.</summary>
/// <param name="Name">the kernel struct's name (generic arity dropped)</param>
/// <param name="Kernel">the struct type, closed over the GPU view types</param>
/// <param name="IsGroup">an <see cref="IGroupKernel"/> (explicit groups, dynamic shared memory)</param>
/// <param name="InLearnerStep">launched in the learner step at the default sizes (lean learners, GPU path)</param>
/// <param name="Threads">threads per group: the group kernel's GroupSize, or for auto-grouped kernels what the CUDA driver picks (see <see cref="H100Occupancy.BestGroup"/>)</param>
/// <param name="DynamicSharedBytes">the group kernel's dynamic shared memory at the default sizes (0 for auto-grouped kernels)</param>
/// <param name="Info">ptxas -v's figures</param>
/// <param name="GroupsPerSm">resident groups per SM</param>
/// <param name="Occupancy">resident warps / 64</param>
/// <param name="Limit">what limits the resident groups: registers, shared, warps or groups</param>
public sealed record PtxKernelRow(string Name, Type Kernel, bool IsGroup, bool InLearnerStep, int Threads, int DynamicSharedBytes,
    PtxasInfo Info, int GroupsPerSm, double Occupancy, string Limit)
{
    public int SharedBytes => Info.StaticSharedBytes + DynamicSharedBytes;
}

/// <summary>The sizes the engine launches the group kernels with (the `gpu` preset: goal-ant, N = 512, lean learners).</summary>
/// <param name="Config">the learners' network sizes</param>
/// <param name="Threads">GPU threads per group, by kernel name</param>
/// <param name="SharedBytes">dynamic shared memory per group, by kernel name</param>
public sealed record PtxLaunchSizes(NetworkConfig Config, IReadOnlyDictionary<string, int> Threads, IReadOnlyDictionary<string, int> SharedBytes);

/// <summary>
/// `epg ptx`: every kernel's PTX (ILGPU, sm_90, PTX ISA 7.8) assembled by ptxas for sm_90 with -v, with registers, spills,
/// stack, shared memory at the engine's launch sizes and the theoretical occupancy on an H100, as a markdown table.
/// </summary>
public static class PtxReport
{
    /// <summary>
    /// The kernels one learner step launches on the GPU path at the default sizes (lean learners, alpha = 0: the evolved
    /// loss alone): acting and the env step every step, the update every M steps (LearnerBatch.RunLifetime).
    /// </summary>
    public static readonly string[] LearnerStepKernels =
    [
        // every step
        "NormalizeKernel", "GaussianSampleKernel", "RecordActionKernel",
        "AntActKernel", "PhysicsStepKernel", "AntStepKernel", "RecordOutcomeKernel",
        // every M steps
        "NormalizerSnapshotKernel", "NormalizerUpdateKernel", "TrajAdvanceKernel", "PolicyGroupForwardKernel", "PermutationKernel",
        "LossConv0TransposeKernel", "LossConv1TransposeKernel", "LossGroupKernel", "PolicyGroupBackwardKernel",
        "AdamGuardKernel", "AdamUpdateKernel", "TrajShiftKernel", "QuarantineKernel",
    ];

    /// <summary>The struct's name without its generic arity (`LossGroupKernel`1` -> `LossGroupKernel`).</summary>
    public static string ShortName(Type t)
    {
        string n = t.Name;
        int tick = n.IndexOf('`');
        return tick < 0 ? n : n[..tick];
    }

    /// <summary>
    /// The group kernels' launch sizes at the `gpu` preset's sizes for goal-ant (N = 512, M = 64, minibatch 32, lean
    /// learners) on an ILGPU device: the default thread counts, and the shared blocks the host code computes.
    /// </summary>
    public static PtxLaunchSizes DefaultLaunchSizes()
    {
        var preset = TrainConfig.Preset("gpu");
        int obs, act;
        using (var cpu = new CpuDevice(1))
        using (var env = EnvFactory.Create(EpgTrainer.EnvSpecFor(preset), cpu, 1))
        {
            obs = env.ObsDim;
            act = env.ActDim;
        }
        var config = preset.Networks(obs, act, ppo: false);
        var layout = new LearnerLayout(config);
        var policy = layout.Policy;
        var lossShape = new LossLayout(config).Shape(1, 1, layout);
        var threads = new Dictionary<string, int>
        {
            ["PolicyGroupForwardKernel"] = PolicyGroupForward.DefaultThreads,
            ["PolicyGroupBackwardKernel"] = PolicyGroupBackward.DefaultThreads,
            ["LossGroupKernel"] = LossGroup.DefaultThreads,
        };
        var shared = new Dictionary<string, int>
        {
            ["PolicyGroupForwardKernel"] = PolicyGroupForward.Shape(policy, 1, config.BufferRows, config.TrajDim, 0).SharedFloats * sizeof(float),
            ["PolicyGroupBackwardKernel"] = PolicyGroupBackward.Shape(policy, 1, config.BufferRows, config.TrajDim, 0).SharedFloats * sizeof(float),
            ["LossGroupKernel"] = LossGroup.SharedFloats(lossShape) * sizeof(float),
        };
        return new PtxLaunchSizes(config, threads, shared);
    }

    /// <summary>
    /// Compiles every kernel (or <paramref name="kernelTypes"/>) to PTX 7.8 for sm_90, assembles each with
    /// <paramref name="ptxas"/> -v for <paramref name="arch"/>, and computes the H100 occupancy at the engine's launch sizes.
    /// With <paramref name="outDir"/>, each kernel's .ptx and .cubin are written there.
    /// </summary>
    public static IReadOnlyList<PtxKernelRow> Build(string ptxas, string arch = "sm_90", string? outDir = null,
        IEnumerable<Type>? kernelTypes = null, Action<string>? progress = null)
    {
        var sizes = DefaultLaunchSizes();
        var ptx = PtxCompiler.CompileAllText(kernelTypes);
        if (outDir is not null) Directory.CreateDirectory(outDir);
        var rows = new List<PtxKernelRow>();
        foreach (var (kernel, text) in ptx)
        {
            string name = ShortName(kernel);
            bool isGroup = typeof(IGroupKernel).IsAssignableFrom(kernel);
            string file = FileName(kernel);
            if (outDir is not null) File.WriteAllText(Path.Combine(outDir, file + ".ptx"), text);
            PtxasInfo info;
            try
            {
                info = Ptxas.Assemble(ptxas, text, arch, outDir is null ? null : Path.Combine(outDir, file + ".cubin"));
            }
            catch (EpgException e)
            {
                throw new EpgException($"{name}: {e.Message}");
            }
            int threads, dynamicShared, groups;
            double occupancy;
            string limit;
            if (isGroup)
            {
                if (!sizes.Threads.TryGetValue(name, out threads) || !sizes.SharedBytes.TryGetValue(name, out dynamicShared))
                    throw new EpgException($"group kernel {name} has no launch size in PtxReport.DefaultLaunchSizes; add it there");
                (groups, occupancy, limit) = H100Occupancy.Of(info.Registers, threads, info.StaticSharedBytes + dynamicShared);
            }
            else
            {
                dynamicShared = 0;
                (threads, groups, occupancy, limit) = H100Occupancy.BestGroup(info.Registers, info.StaticSharedBytes);
            }
            rows.Add(new PtxKernelRow(name, kernel, isGroup, LearnerStepKernels.Contains(name), threads, dynamicShared, info, groups, occupancy, limit));
            progress?.Invoke($"{name}: {info.Registers} registers, {info.SpillBytes} spill bytes");
        }
        return rows;
    }

    /// <summary>A file name for the kernel type: its name with generic arguments, in characters any file system takes.</summary>
    public static string FileName(Type kernel)
    {
        string n = kernel.IsGenericType
            ? ShortName(kernel) + "_" + string.Join("_", kernel.GetGenericArguments().Select(a => a.IsGenericType ? ShortName(a) + "_" + string.Join("_", a.GetGenericArguments().Select(ShortName)) : ShortName(a)))
            : kernel.Name;
        return new string(n.Select(c => char.IsLetterOrDigit(c) || c == '_' ? c : '_').ToArray());
    }

    /// <summary>The table as markdown, learner-step kernels first, each part sorted by name.</summary>
    public static string Markdown(IReadOnlyList<PtxKernelRow> rows, string ptxasVersion, string arch, PtxLaunchSizes sizes)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        var c = sizes.Config;
        sb.AppendLine($"ptxas: {ptxasVersion}; PTX from ILGPU {DeviceFactory.IlgpuVersion} (PTX ISA 7.8), assembled for {arch}.");
        sb.AppendLine($"Launch sizes: group kernels at the `gpu` preset (goal-ant, obs {c.Obs}, act {c.Act}, N = {c.BufferRows}, M = {c.ActSteps}, minibatch {c.Minibatch}, lean learners);");
        sb.AppendLine("auto-grouped kernels at the group size the CUDA driver picks for ILGPU (highest occupancy, largest on a tie).");
        sb.AppendLine("Occupancy: H100, 65,536 registers, 228 KB shared memory (1 KB reserved per group), 64 warps and 32 groups per SM.");
        sb.AppendLine();
        sb.AppendLine("| kernel | step | threads/group | registers | spill bytes (st+ld) | stack bytes | shared bytes/group (static + dynamic) | groups/SM | occupancy | limited by |");
        sb.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var r in rows.OrderBy(r => r.InLearnerStep ? 0 : 1).ThenBy(r => r.Name, StringComparer.Ordinal).ThenBy(r => r.Kernel.FullName, StringComparer.Ordinal))
        {
            string name = r.Kernel.IsGenericType && rows.Count(o => o.Name == r.Name) > 1 ? FileName(r.Kernel) : r.Name;
            string shared = r.IsGroup ? $"{r.Info.StaticSharedBytes} + {r.DynamicSharedBytes}" : $"{r.Info.StaticSharedBytes}";
            sb.AppendLine(string.Create(inv, $"| {name}{(r.IsGroup ? " (group)" : "")} | {(r.InLearnerStep ? "yes" : "")} | {r.Threads} | {r.Info.Registers} | {r.Info.SpillBytes} | {r.Info.StackBytes} | {shared} | {r.GroupsPerSm} | {r.Occupancy * 100:F0}% | {r.Limit} |"));
        }
        int spilling = rows.Count(r => r.Info.SpillBytes > 0);
        sb.AppendLine();
        sb.AppendLine($"{rows.Count} kernels assembled; {spilling} spill; the largest group shared block is {rows.Where(r => r.IsGroup).Select(r => r.SharedBytes).DefaultIfEmpty(0).Max()} bytes (limit without opt-in {IlgpuDevice.SharedBytesWithoutOptIn}).");
        return sb.ToString();
    }
}
