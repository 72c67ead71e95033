using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CommandLine;
using EpgFast.Backends;
using EpgFast.Benchmarks;
using EpgFast.Training;

namespace EpgFast.Cli.Verbs;

[Verb("ptx", HelpText = "Assemble every kernel's PTX with NVIDIA's ptxas (no GPU needed; `build.ps1 ptxas` fetches it) and print registers, spills, shared memory and H100 occupancy per kernel.")]
public sealed partial class PtxOptions : IVerb
{
    [Option("ptxas", HelpText = "The ptxas to run (default: $EPG_PTXAS, .tools/cuda/usr/bin/ptxas under the repository, or ptxas on the PATH).")]
    public string? PtxasPath { get; set; }

    [Option("arch", Default = "sm_90", HelpText = "Target architecture for ptxas (the occupancy figures are an H100's).")]
    public string Arch { get; set; } = "sm_90";

    [Option("filter", HelpText = "Only the kernels whose name contains this text.")]
    public string? Filter { get; set; }

    [Option("out", HelpText = "Also write each kernel's .ptx and .cubin, and table.md, to this directory.")]
    public string? Out { get; set; }

    [Option("model", HelpText = "Also print the performance model of one learner step on an H100 (bench/RESULTS.md); needs every learner-step kernel (no --filter).")]
    public bool Model { get; set; }

    [Option("learners", Default = "4096,16384,65536", HelpText = "Learner counts for --model, comma-separated.")]
    public string Learners { get; set; } = "4096,16384,65536";

    [Option("json", HelpText = "Print the result as one JSON document on stdout.")]
    public bool Json { get; set; }

    [GeneratedRegex(@"^sm_[0-9]{2,3}[a-z]?$")]
    private static partial Regex ArchPattern();

    public int Run()
    {
        if (!ArchPattern().IsMatch(Arch)) throw new EpgException($"--arch must look like sm_90 (got '{Arch}')", 2);
        if (Model && Filter is not null) throw new EpgException("--model needs every kernel; drop --filter", 2);
        int[] learnerCounts = ParseLearners(Learners);
        string ptxas = PtxasPath ?? Ptxas.Find() ?? throw new EpgException(Ptxas.NotFoundReason());
        if (!File.Exists(ptxas)) throw new EpgException($"--ptxas {ptxas}: no such file");
        string version = Ptxas.Version(ptxas);
        var kernels = PtxCompiler.AllGpuKernelTypes().Where(t => Filter is null || t.Name.Contains(Filter, StringComparison.OrdinalIgnoreCase)).ToList();
        if (kernels.Count == 0) throw new EpgException($"no kernel matches --filter '{Filter}'", 2);
        Output.Message($"ptx: {kernels.Count} kernels, {version}");
        var rows = PtxReport.Build(ptxas, Arch, Out, kernels);
        var sizes = PtxReport.DefaultLaunchSizes();
        string table = PtxReport.Markdown(rows, version, Arch, sizes);
        string? model = null;
        if (Model)
        {
            Output.Message("ptx: counting an Ant physics step's memory accesses on the CPU (a few seconds)");
            var physics = StepModel.CountPhysics();
            var occupancy = rows.GroupBy(r => r.Name).ToDictionary(g => g.Key, g => g.Min(r => r.Occupancy));
            model = StepModel.Report(sizes.Config, TrainConfig.Preset("gpu").LearnersPerMember, physics, occupancy, learnerCounts);
        }
        if (Out is not null) File.WriteAllText(Path.Combine(Out, "table.md"), table);
        if (Out is not null && model is not null) File.WriteAllText(Path.Combine(Out, "model.md"), model);
        var list = new JsonArray();
        foreach (var r in rows)
        {
            list.Add(new JsonObject
            {
                ["kernel"] = r.Name,
                ["type"] = r.Kernel.FullName,
                ["group_kernel"] = r.IsGroup,
                ["learner_step"] = r.InLearnerStep,
                ["threads_per_group"] = r.Threads,
                ["registers"] = r.Info.Registers,
                ["spill_store_bytes"] = r.Info.SpillStoreBytes,
                ["spill_load_bytes"] = r.Info.SpillLoadBytes,
                ["stack_bytes"] = r.Info.StackBytes,
                ["static_shared_bytes"] = r.Info.StaticSharedBytes,
                ["dynamic_shared_bytes"] = r.DynamicSharedBytes,
                ["groups_per_sm"] = r.GroupsPerSm,
                ["occupancy"] = r.Occupancy,
                ["limited_by"] = r.Limit,
            });
        }
        var result = new JsonObject { ["ptxas"] = version, ["arch"] = Arch, ["kernels"] = list };
        if (model is not null) result["model_markdown"] = model;
        Output.Result(Json, result, () =>
        {
            Console.Write(table);
            if (model is not null)
            {
                Console.WriteLine();
                Console.Write(model);
            }
        });
        return 0;
    }

    private static int[] ParseLearners(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var counts = new List<int>();
        foreach (var p in parts)
        {
            if (!int.TryParse(p, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) || n < 1)
                throw new EpgException($"--learners must be positive integers separated by commas (got '{text}')", 2);
            counts.Add(n);
        }
        if (counts.Count == 0) throw new EpgException($"--learners must be positive integers separated by commas (got '{text}')", 2);
        return counts.ToArray();
    }
}
