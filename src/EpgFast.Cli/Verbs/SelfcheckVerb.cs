using System.Text.Json.Nodes;
using CommandLine;
using EpgFast.Backends;
using EpgFast.Validation;

namespace EpgFast.Cli.Verbs;

/// <summary>Options every verb that computes takes.</summary>
public abstract class ComputeOptions
{
    [Option("backend", Default = BackendKind.Auto, HelpText = "Compute backend: auto (CUDA when present, else CPU), cpu, cuda, or ilgpucpu (ILGPU's slow CPU accelerator, for debugging kernels).")]
    public BackendKind Backend { get; set; }

    [Option("threads", Default = 0, HelpText = "CPU launcher threads (0: one per core).")]
    public int Threads { get; set; }

    [Option("json", HelpText = "Print the result as one JSON document on stdout.")]
    public bool Json { get; set; }

    public Device OpenDevice(int gpu = 0) => DeviceFactory.Open(Backend, Threads, gpu);
}

[Verb("selfcheck", HelpText = "Run the engine's correctness checks (RNG known answers, kernels against float64 references) on the chosen backend; exits 1 if any fails.")]
public sealed class SelfcheckOptions : ComputeOptions, IVerb
{
    [Option("filter", HelpText = "Run only the checks whose name contains this text.")]
    public string? Filter { get; set; }

    public int Run()
    {
        using var device = OpenDevice();
        Output.Message($"selfcheck on {device.Kind.ToString().ToLowerInvariant()}: {device.Name}");
        var results = new List<CheckResult>();
        foreach (var r in SelfChecks.RunAll(device, Filter))
        {
            results.Add(r);
            if (!Json) Console.WriteLine($"{(r.Passed ? "PASS" : "FAIL")}  {r.Name,-40} {r.Detail}  ({r.Seconds:F2} s)");
        }
        if (results.Count == 0) throw new EpgException($"no check matches --filter '{Filter}'", 2);
        bool pass = results.All(r => r.Passed);
        var checks = new JsonArray();
        foreach (var r in results)
            checks.Add(new JsonObject { ["name"] = r.Name, ["passed"] = r.Passed, ["detail"] = r.Detail, ["seconds"] = r.Seconds });
        var json = new JsonObject
        {
            ["backend"] = device.Kind.ToString().ToLowerInvariant(),
            ["device"] = device.Name,
            ["pass"] = pass,
            ["checks"] = checks,
        };
        Output.Result(Json, json, () => Console.WriteLine($"{results.Count(r => r.Passed)} passed, {results.Count(r => !r.Passed)} failed"));
        return pass ? 0 : 1;
    }
}
