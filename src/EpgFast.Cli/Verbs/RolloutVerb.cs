using System.Text.Json.Nodes;
using CommandLine;
using EpgFast.Backends;
using EpgFast.Physics;
using EpgFast.Runs;

namespace EpgFast.Cli.Verbs;

[Verb("rollout", HelpText = "Replay an action sequence (CSV, one row of nu controls per env step) on the kernel simulator or MuJoCo from the model's qpos0 at rest, and write the trajectory (step,qpos...,qvel...) as CSV. MuJoCo's rows are its float64 state, the kernel simulator's its float32 state, both in shortest round-trip formatting.")]
public sealed class RolloutOptions : ComputeOptions, IVerb
{
    [Option("engine", Required = true, HelpText = "Physics engine: kernel (the kernel simulator, a batch of one on --backend) or mujoco (MuJoCo 2.2.2, CPU).")]
    public string Engine { get; set; } = "";

    [Option("model", Required = true, HelpText = "MJCF model file (the kernel engine takes its supported subset).")]
    public string Model { get; set; } = "";

    [Option("actions", Required = true, HelpText = "Action CSV: one row per env step, nu comma-separated controls, no header; each row is clamped to ctrlrange and held for --frame-skip physics steps.")]
    public string Actions { get; set; } = "";

    [Option("out", Required = true, HelpText = "Trajectory CSV to write: header step,qpos0..,qvel0..; row 0 is the initial state, then one row per env step.")]
    public string Out { get; set; } = "";

    [Option("frame-skip", Default = 5, HelpText = "Physics steps per action row.")]
    public int FrameSkip { get; set; }

    [Option("no-contact", HelpText = "Disable contacts and joint limits, as <option><flag contact=\"disable\" limit=\"disable\"/> would.")]
    public bool NoContact { get; set; }

    [Option("plot", HelpText = "Also draw the torso's path from above and its height over time to this PNG (needs a free joint first in the model).")]
    public string? Plot { get; set; }

    public int Run()
    {
        if (FrameSkip < 1) throw new EpgException($"--frame-skip must be at least 1 (got {FrameSkip})", 2);
        var engine = PhysicsFactory.ParseEngine(Engine);
        if (!File.Exists(Model)) throw new EpgException(Directory.Exists(Model) ? $"model file {Model} is a folder" : $"model file not found: {Model}");
        if (!File.Exists(Actions)) throw new EpgException(Directory.Exists(Actions) ? $"action file {Actions} is a folder" : $"action file not found: {Actions}");
        // outputs: files that can be written and never one of the inputs (nor each other)
        RunDirectory.CheckOutputFile(Out, "--out", (Actions, "--actions"), (Model, "--model"));
        if (Plot is not null) RunDirectory.CheckOutputFile(Plot, "--plot", (Actions, "--actions"), (Model, "--model"), (Out, "--out"));

        // MuJoCo steps on CPU threads: with --backend auto it takes the CPU launcher even where a GPU exists.
        using var device = engine == EngineKind.MuJoCo && Backend == BackendKind.Auto ? new CpuDevice(Threads) : OpenDevice();
        using var physics = PhysicsFactory.Create(engine, device, Model, 1, new EngineOptions { DisableContactAndLimits = NoContact });
        // parse everything before stepping or writing: a malformed file writes nothing
        var actions = RolloutActions.Load(Actions, physics.Nu, out int steps);
        if (Plot is not null && !Rollout.HasFreeRoot(physics))
            throw new EpgException("--plot draws the torso (a free joint first in the model); this model has none", 2);
        string engineName = engine == EngineKind.MuJoCo ? "mujoco" : "kernel";
        Output.Message($"rollout: {steps} env steps x frame skip {FrameSkip} of {Model} on {engineName} ({device.Name}){(NoContact ? ", contacts and limits off" : "")}");

        var traj = Rollout.Run(physics, actions, FrameSkip);
        Rollout.WriteCsv(Out, traj);
        if (Plot is not null) RolloutPlot.Write(Plot, traj, $"{engineName}, {steps} steps");

        JsonNode? torso = null;
        if (traj.HasFreeRoot)
            torso = new JsonArray(traj.Q(steps, 0), traj.Q(steps, 1), traj.Q(steps, 2));
        var files = new JsonObject { ["trajectory"] = Path.GetFullPath(Out) };
        if (Plot is not null) files["plot"] = Path.GetFullPath(Plot);
        var json = new JsonObject
        {
            ["engine"] = engineName,
            ["backend"] = device.Kind.ToString().ToLowerInvariant(),
            ["model"] = Model,
            ["steps"] = steps,
            ["frame_skip"] = FrameSkip,
            ["physics_steps"] = steps * FrameSkip,
            ["timestep"] = traj.Timestep,
            ["contact"] = !NoContact,
            ["precision"] = traj.Float64 ? "float64" : "float32",
            ["final_torso"] = torso,
            ["files"] = files,
        };
        Output.Result(Json, json, () =>
        {
            Console.WriteLine($"{engineName}: {steps} env steps ({steps * FrameSkip} physics steps, {traj.Time(steps):G4} s) written to {Out} ({(traj.Float64 ? "float64" : "float32")} state)");
            if (traj.HasFreeRoot) Console.WriteLine($"final torso position: {traj.Q(steps, 0):F4} {traj.Q(steps, 1):F4} {traj.Q(steps, 2):F4}");
            if (Plot is not null) Console.WriteLine($"plot: {Plot}");
        });
        return 0;
    }
}
