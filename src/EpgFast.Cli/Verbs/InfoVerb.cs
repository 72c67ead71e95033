using System.Text.Json.Nodes;
using CommandLine;
using EpgFast.Backends;
using EpgFast.Diagnostics;

namespace EpgFast.Cli.Verbs;

[Verb("info", HelpText = "Show the compute backends found (CUDA devices, CPU), ILGPU version and whether libmujoco is present.")]
public sealed class InfoOptions : IVerb
{
    [Option("json", HelpText = "Print the result as one JSON document on stdout.")]
    public bool Json { get; set; }

    public int Run()
    {
        var info = SystemInfo.Collect();
        var devices = new JsonArray();
        foreach (var d in info.CudaDevices)
            devices.Add(new JsonObject { ["name"] = d.Name, ["memory_bytes"] = d.MemoryBytes });
        var result = new JsonObject
        {
            ["cuda_devices"] = devices,
            ["cpu_threads"] = info.CpuThreads,
            ["cpu"] = info.Cpu,
            ["ilgpu_version"] = info.IlgpuVersion,
            ["mujoco_present"] = info.MuJoCoVersion is not null,
            ["mujoco_version"] = info.MuJoCoVersion,
            ["mujoco_detail"] = info.MuJoCoDetail,
            ["default_backend"] = info.CudaDevices.Count > 0 ? "cuda" : "cpu",
            ["dotnet"] = Environment.Version.ToString(),
        };
        Output.Result(Json, result, () =>
        {
            Console.WriteLine($"EpgFast {typeof(SystemInfo).Assembly.GetName().Version}  (.NET {Environment.Version}, ILGPU {info.IlgpuVersion})");
            if (info.CudaDevices.Count == 0)
                Console.WriteLine("CUDA:    no CUDA device found (no NVIDIA GPU or driver): kernels run on the CPU launcher");
            foreach (var d in info.CudaDevices)
                Console.WriteLine($"CUDA:    {d.Name}, {d.MemoryBytes / (1L << 20)} MiB");
            Console.WriteLine($"CPU:     {info.Cpu}, {info.CpuThreads} threads");
            Console.WriteLine($"MuJoCo:  {(info.MuJoCoVersion ?? "not available")}{(info.MuJoCoDetail is null ? "" : $" ({info.MuJoCoDetail})")}");
            Console.WriteLine($"Default backend: {(info.CudaDevices.Count > 0 ? "cuda" : "cpu")}");
        });
        return 0;
    }
}
