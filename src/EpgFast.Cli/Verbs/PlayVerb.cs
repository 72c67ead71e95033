using System.Text.Json.Nodes;
using CommandLine;
using EpgFast.Backends;
using EpgFast.Runs;
using EpgFast.Tasks;
using EpgFast.Training;

namespace EpgFast.Cli.Verbs;

[Verb("play", HelpText = "Run the policies an eval trained (DIR/policies/LABEL.bin) with their mean action, on either engine, and report their returns.")]
public sealed class PlayOptions : ComputeOptions, IVerb
{
    [Option("policies", Required = true, HelpText = "A policy file written by epg eval (DIR/policies/LABEL.bin).")]
    public string Policies { get; set; } = "";

    [Option("env", HelpText = "Task: ant or goal-ant (default: the one the policies were trained on).")]
    public string? Env { get; set; }

    [Option("engine", HelpText = "Physics engine: kernel or mujoco (default: the one the policies were trained on).")]
    public string? Engine { get; set; }

    [Option("episodes", Default = 3, HelpText = "Episodes per policy.")]
    public int Episodes { get; set; }

    [Option("targets", HelpText = "goal-ant: where targets are drawn, left, right or full (default: right).")]
    public string? Targets { get; set; }

    [Option("seed", Default = 1UL, HelpText = "Seed of the reset noise and targets.")]
    public ulong Seed { get; set; }

    public int Run()
    {
        if (Episodes < 1) throw new EpgException($"--episodes must be at least 1 (got {Episodes})", 2);
        var file = PolicyFile.Read(Policies);
        string env = (Env ?? file.Env).Trim().ToLowerInvariant();
        string engine = (Engine ?? file.Engine).Trim().ToLowerInvariant();
        var kind = EnvFactory.Parse(env);
        if (kind is not (EnvKind.Ant or EnvKind.GoalAnt)) throw new EpgException($"--env must be ant or goal-ant (got '{env}')", 2);
        TrainConfig.ParseEngine(engine);
        var region = kind == EnvKind.GoalAnt ? GoalTasks.ParseRegion(Targets ?? "right") : (Kernels.Tasks.GoalRegion?)null;
        if (kind != EnvKind.GoalAnt && Targets is not null) throw new EpgException("--targets applies to goal-ant only", 2);
        var spec = EpgTrainer.EnvSpecFor(file.Config with { Env = env, Engine = engine });
        using var device = OpenDevice();
        Output.Message($"epg play: {file.Count} policies ({file.Label}, trained on {file.Env}/{file.Engine}) x {Episodes} episodes on {env}/{engine} ({device.Kind.ToString().ToLowerInvariant()})");
        var r = PolicyPlayer.Play(device, file, spec, Episodes, region, Seed);
        var json = new JsonObject
        {
            ["policies"] = Policies,
            ["trained_on"] = $"{file.Env}/{file.Engine}",
            ["env"] = env,
            ["engine"] = engine,
            ["episodes"] = Episodes,
            ["return_mean"] = TrainOptions.Finite(r.ReturnMean),
            ["return_std"] = TrainOptions.Finite(r.ReturnStd),
            ["returns"] = new JsonArray(r.PolicyReturns.Select(x => (JsonNode?)TrainOptions.Finite(x)).ToArray()),
        };
        if (kind == EnvKind.GoalAnt) json["final_distances"] = new JsonArray(r.FinalDistances.Select(x => (JsonNode?)TrainOptions.Finite(x)).ToArray());
        Output.Result(Json, json, () =>
        {
            Console.WriteLine($"return {r.ReturnMean:F2} ± {r.ReturnStd:F2} over {file.Count} policies ({Episodes} episodes each, mean action) on {env}/{engine}");
            for (int i = 0; i < r.PolicyReturns.Length; i++) Console.WriteLine($"  policy {i}: {r.PolicyReturns[i]:F2}");
        });
        return 0;
    }
}
