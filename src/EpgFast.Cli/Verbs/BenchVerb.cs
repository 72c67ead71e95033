using System.Text.Json;
using System.Text.Json.Nodes;
using CommandLine;
using EpgFast.Backends;
using EpgFast.Benchmarks;
using EpgFast.Physics;
using EpgFast.Runs;

namespace EpgFast.Cli.Verbs;

[Verb("bench", HelpText = "Throughput against batch size: Ant physics steps/s, network pieces' GFLOP/s, learner steps/s and updates/s, device memory per learner; writes results.json and PNG plots.")]
public sealed class BenchOptions : ComputeOptions, IVerb
{
    [Option("suite", Default = "all", HelpText = "physics, networks, learner or all.")]
    public string Suite { get; set; } = "all";

    [Option("learners", Default = "1024,4096,16384,65536", HelpText = "Comma-separated batch sizes (learners = environments).")]
    public string Learners { get; set; } = "1024,4096,16384,65536";

    [Option("engine", Default = "kernel", HelpText = "Physics engine: kernel (the kernel simulator) or mujoco (CPU only).")]
    public string Engine { get; set; } = "kernel";

    [Option("seconds", Default = 2.0, HelpText = "Cap in seconds on the timed repetitions of each measurement (after one warm-up call).")]
    public double Seconds { get; set; } = 2.0;

    [Option("out", Default = "bench-results", HelpText = "Folder for results.json, throughput.png and gflops.png.")]
    public string Out { get; set; } = "bench-results";

    [Option("memory-limit-mb", HelpText = "Treat the device as having this much memory, in MiB (default: its own memory).")]
    public double? MemoryLimitMb { get; set; }

    [Option("seed", Default = 1UL, HelpText = "Seed of the random inputs.")]
    public ulong Seed { get; set; }

    [Option("alpha", Default = 0f, HelpText = "PPO's weight in the learner suite's loss: 0 = the evolved loss alone on lean learners (no value net); > 0 adds the value net and PPO, as early in meta-training.")]
    public float Alpha { get; set; }

    [Option("updates", Default = 2, HelpText = "K: updates per lifetime in the learner suite (M = 64 steps each); longer lifetimes spread the start of life (fresh weights, env resets) thinner, as in training (K = 128 in the paper).")]
    public int Updates { get; set; } = 2;

    public int Run()
    {
        if (!(Seconds > 0)) throw new EpgException($"--seconds must be positive (got {Seconds})", 2);
        if (Updates < 1) throw new EpgException($"--updates must be at least 1 (got {Updates})", 2);
        if (!(Alpha >= 0 && Alpha <= 1)) throw new EpgException($"--alpha must be in [0, 1] (got {Alpha})", 2);
        if (MemoryLimitMb is { } mb && !(mb > 0)) throw new EpgException($"--memory-limit-mb must be positive (got {mb})", 2);
        var settings = new BenchSettings
        {
            Suites = ThroughputBench.ParseSuites(Suite),
            Learners = ThroughputBench.ParseLearners(Learners),
            Engine = PhysicsFactory.ParseEngine(Engine),
            Seconds = Seconds,
            Seed = Seed,
            MemoryLimitBytes = MemoryLimitMb is { } m ? (long)(m * 1048576) : null,
            Alpha = Alpha,
            Updates = Updates,
        };
        // --out is checked and taken before the measurements, not after them
        RunDirectory.CheckPath(Out);
        // MuJoCo steps on CPU threads: with --backend auto it takes the CPU launcher even where a GPU exists.
        using var device = settings.Engine == EngineKind.MuJoCo && Backend == BackendKind.Auto ? new CpuDevice(Threads) : OpenDevice();
        using var outDir = RunDirectory.Lock(Out);
        Output.Message($"bench on {device.Kind.ToString().ToLowerInvariant()}: {device.Name}, suites {string.Join(",", settings.Suites.Select(ThroughputBench.Name))}, learners {string.Join(",", settings.Learners)}");

        var report = new ThroughputBench(device, settings, Output.Message).Run();
        var json = report.ToJson();
        string resultsPath = outDir.WriteText("results.json", json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        var plots = ThroughputPlot.Write(Out, report);
        json["files"] = new JsonArray(plots.Prepend(resultsPath).Select(p => (JsonNode)p).ToArray());
        Output.Result(Json, json, () => PrintTable(report, plots.Prepend(resultsPath)));
        if (report.Failure is not null)
            throw new EpgException(ThroughputBench.Describe(report.Failure) + $"; sizes that fit: {(report.Batches.Count == 0 ? "none" : string.Join(",", report.Batches.Select(b => (int)b["learners"]!)))}", 3);
        return 0;
    }

    private static string F(JsonNode? n, string format = "N0") => n is null ? "-" : ((double)n).ToString(format);

    private static void PrintTable(BenchReport report, IEnumerable<string> files)
    {
        Console.WriteLine($"device: {report.Device} ({report.Backend})");
        Console.WriteLine($"{"learners",9} {"env steps/s",13} {"phys steps/s",13} {"learner st/s",13} {"updates/s",11} {"pol fwd GF/s",12} {"pol f+b GF/s",12} {"update GF/s",11} {"loss GF/s",10} {"adam GF/s",10} {"KB/learner",11}");
        foreach (var b in report.Batches)
        {
            var ph = b["physics"];
            var nw = b["networks"];
            var le = b["learner"];
            Console.WriteLine($"{(int)b["learners"]!,9} {F(ph?["env_steps_per_s"]),13} {F(ph?["physics_steps_per_s"]),13} {F(le?["learner_steps_per_s"]),13} {F(le?["updates_per_s"]),11} " +
                $"{F(nw?["policy_forward"]?["gflops_per_s"], "F2"),12} {F(nw?["policy_forward_backward"]?["gflops_per_s"], "F2"),12} {F(nw?["policy_update"]?["gflops_per_s"], "F2"),11} {F(nw?["loss_forward_backward"]?["gflops_per_s"], "F2"),10} " +
                $"{F(nw?["adam_step"]?["gflops_per_s"], "F2"),10} {((double)b["bytes_per_learner"]! / 1024).ToString("N1"),11}");
        }
        foreach (var f in files) Console.WriteLine($"wrote {f}");
    }
}
