using System.Diagnostics;
using System.Text.Json.Nodes;
using CommandLine;
using EpgFast.Backends;
using EpgFast.Benchmarks;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Random;
using EpgFast.MuJoCo;
using EpgFast.Physics;

namespace EpgFast.Cli.Verbs;

[Verb("physics", HelpText = "Step a batch of worlds of a model under random actions and report physics steps/s and env steps/s.")]
public sealed partial class PhysicsOptions : ComputeOptions, IVerb
{
    [Option("engine", Default = "mujoco", HelpText = "Physics engine: mujoco (MuJoCo 2.2.2 on CPU threads) or kernel (the kernel simulator).")]
    public string Engine { get; set; } = "mujoco";

    [Option("model", HelpText = "MJCF model file (default: the project's Ant, native/models/ant.xml).")]
    public string? Model { get; set; }

    [Option("envs", Default = 64, HelpText = "Number of environments stepped together.")]
    public int Envs { get; set; }

    [Option("steps", Default = 200, HelpText = "Env steps to run (each is --frame-skip physics steps).")]
    public int Steps { get; set; }

    [Option("frame-skip", Default = 5, HelpText = "Physics steps per env step.")]
    public int FrameSkip { get; set; }

    [Option("integrator", HelpText = "Override the model's integrator: euler or rk4 (default: the model file's; ant.xml uses Euler).")]
    public string? Integrator { get; set; }

    [Option("seed", Default = 0UL, HelpText = "Seed of the random actions.")]
    public ulong Seed { get; set; }

    [Option("vs-testspeed", HelpText = "Instead: compare the MuJoCo backend on one thread with mujoco-testspeed (libmujoco-samples) on the same model and controls, in interleaved rounds.")]
    public bool VsTestSpeed { get; set; }

    [Option("rounds", Default = 10, HelpText = "Interleaved rounds for --vs-testspeed (each runs 20,000 physics steps per contender).")]
    public int Rounds { get; set; }

    public int Run()
    {
        if (VsTestSpeed) return RunVsTestSpeed();
        if (Compare) return RunCompare(); // PhysicsCompareVerb.cs (kernel simulator vs MuJoCo)
        if (Envs < 1) throw new EpgException($"--envs must be at least 1 (got {Envs})", 2);
        if (Steps < 1) throw new EpgException($"--steps must be at least 1 (got {Steps})", 2);
        if (FrameSkip < 1) throw new EpgException($"--frame-skip must be at least 1 (got {FrameSkip})", 2);
        var engine = PhysicsFactory.ParseEngine(Engine);
        Physics.Integrator? integrator = Integrator?.Trim().ToLowerInvariant() switch
        {
            null => null,
            "euler" => Physics.Integrator.Euler,
            "rk4" => Physics.Integrator.Rk4,
            _ => throw new EpgException($"--integrator must be euler or rk4 (got '{Integrator}')", 2),
        };
        string model = Model ?? MuJoCoModels.AntPath;

        // MuJoCo steps on CPU threads: with --backend auto it takes the CPU launcher even where a GPU exists.
        using var device = engine == EngineKind.MuJoCo && Backend == BackendKind.Auto
            ? new CpuDevice(Threads)
            : OpenDevice();
        using var physics = PhysicsFactory.Create(engine, device, model, Envs, new EngineOptions { Integrator = integrator });
        int threads = device is CpuDevice cpu ? cpu.Threads : 0;
        Output.Message($"physics: {Envs} envs of {model} on {EngineName(engine)} ({device.Name}), {Steps} env steps x frame skip {FrameSkip}");

        var time = device.WithViews(new MeasureCode(this, physics, device));
        double envSteps = (double)Envs * Steps;
        double envPerS = envSteps / time.TotalSeconds;
        double physPerS = envPerS * FrameSkip;
        string integratorName = physics is MuJoCoPhysics mj ? mj.Integrator.ToString().ToLowerInvariant() : physics is KernelPhysics ? "euler" : (integrator?.ToString().ToLowerInvariant() ?? "model");
        var json = new JsonObject
        {
            ["engine"] = EngineName(engine),
            ["model"] = model,
            ["envs"] = Envs,
            ["steps"] = Steps,
            ["frame_skip"] = FrameSkip,
            ["threads"] = threads,
            ["backend"] = device.Kind.ToString().ToLowerInvariant(),
            ["integrator"] = integratorName,
            ["seconds"] = time.TotalSeconds,
            ["physics_steps_per_s"] = physPerS,
            ["env_steps_per_s"] = envPerS,
        };
        Output.Result(Json, json, () =>
        {
            Console.WriteLine($"engine {EngineName(engine)}, {Envs} envs, {threads} threads, {integratorName}: {Steps} env steps in {time.TotalSeconds:F3} s");
            Console.WriteLine($"physics steps/s: {physPerS:N0}");
            Console.WriteLine($"env steps/s:     {envPerS:N0}");
        });
        return 0;
    }

    private int RunVsTestSpeed()
    {
        if (PhysicsFactory.ParseEngine(Engine) != EngineKind.MuJoCo)
            throw new EpgException("--vs-testspeed compares the MuJoCo backend; use --engine mujoco", 2);
        if (Rounds < 1) throw new EpgException($"--rounds must be at least 1 (got {Rounds})", 2);
        string model = Model ?? MuJoCoModels.AntPath;
        Output.Message($"physics: MuJoCo backend vs mujoco-testspeed on {model}, one thread, {Rounds} interleaved rounds of 20,000 physics steps");
        TestSpeedResult r;
        try
        {
            r = TestSpeedComparison.Run(model, Rounds);
        }
        catch (MuJoCoException e)
        {
            throw new EpgException(e.Message);
        }
        var json = new JsonObject
        {
            ["engine"] = "mujoco",
            ["model"] = model,
            ["threads"] = 1,
            ["rounds"] = r.Rounds,
            ["physics_steps_per_run"] = r.Steps,
            ["testspeed_steps_per_s_best"] = r.TestSpeedBest,
            ["testspeed_steps_per_s_median"] = r.TestSpeedMedian,
            ["backend_frame_skip_1_steps_per_s_best"] = r.BackendBestFrameSkip1,
            ["backend_frame_skip_5_steps_per_s_best"] = r.BackendBestFrameSkip5,
            ["backend_frame_skip_1_steps_per_s_median"] = r.BackendMedianFrameSkip1,
            ["backend_frame_skip_5_steps_per_s_median"] = r.BackendMedianFrameSkip5,
            ["ratio_best_frame_skip_1"] = r.BestRatioFrameSkip1,
            ["ratio_best_frame_skip_5"] = r.BestRatioFrameSkip5,
            ["ratio_median_paired_frame_skip_1"] = r.MedianPairedRatioFrameSkip1,
            ["ratio_median_paired_frame_skip_5"] = r.MedianPairedRatioFrameSkip5,
        };
        Output.Result(Json, json, () =>
        {
            Console.WriteLine($"mujoco-testspeed:            best {r.TestSpeedBest,9:N0}  median {r.TestSpeedMedian,9:N0} physics steps/s");
            Console.WriteLine($"backend, frame skip 1:       best {r.BackendBestFrameSkip1,9:N0}  median {r.BackendMedianFrameSkip1,9:N0}  (best/best {r.BestRatioFrameSkip1:F3}, paired median {r.MedianPairedRatioFrameSkip1:F3})");
            Console.WriteLine($"backend, frame skip 5:       best {r.BackendBestFrameSkip5,9:N0}  median {r.BackendMedianFrameSkip5,9:N0}  (best/best {r.BestRatioFrameSkip5:F3}, paired median {r.MedianPairedRatioFrameSkip5:F3})");
        });
        return 0;
    }

    private static string EngineName(EngineKind engine) => engine == EngineKind.MuJoCo ? "mujoco" : "kernel";

    /// <summary>Runs Steps env steps, drawing uniform actions in [-1, 1] on the device before each; returns the wall time of the stepping.</summary>
    private sealed record MeasureCode(PhysicsOptions Verb, IPhysicsBatch Physics, Device Device) : IViewCode<TimeSpan>
    {
        public TimeSpan Run<TF, TI>() where TF : struct, IView<float> where TI : struct, IView<int> => Verb.Measure<TF>(Physics, Device);
    }

    private TimeSpan Measure<TF>(IPhysicsBatch physics, Device device) where TF : struct, IView<float>
    {
        var ctrl = physics.Ctrl.View<TF>();
        var sw = new Stopwatch();
        for (int s = 0; s < Steps; s++)
        {
            device.Launch(physics.Ctrl.Length, new FillUniformKernel<TF>
            {
                Output = ctrl,
                Seed = Seed,
                Stream = Philox.Stream(RandomStreams.ActionNoise, (uint)s),
                Low = -1f,
                High = 1f,
            });
            sw.Start();
            physics.Step(FrameSkip);
            device.Synchronize();
            sw.Stop();
        }
        return sw.Elapsed;
    }
}
