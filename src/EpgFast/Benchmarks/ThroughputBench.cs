using System.Diagnostics;
using System.Text.Json.Nodes;
using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Random;
using EpgFast.Learners;
using EpgFast.MuJoCo;
using EpgFast.Networks;
using EpgFast.Physics;
using EpgFast.Tasks;
using EpgFast.Training;

namespace EpgFast.Benchmarks;

/// <summary>The parts `epg bench` can time.</summary>
public enum BenchSuite
{
    /// <summary>Ant physics: env steps/s and physics steps/s under random controls.</summary>
    Physics,
    /// <summary>The learner update's pieces: policy forward, forward + backward, loss network, Adam (GFLOP/s).</summary>
    Networks,
    /// <summary>The whole inner loop (act, env step, update) over one short lifetime: learner steps/s, updates/s.</summary>
    Learner,
}

/// <summary>What `epg bench` runs.</summary>
public sealed record BenchSettings
{
    public IReadOnlyList<BenchSuite> Suites { get; init; } = [BenchSuite.Physics, BenchSuite.Networks, BenchSuite.Learner];

    /// <summary>Batch sizes (learners = environments), run in the order given.</summary>
    public IReadOnlyList<int> Learners { get; init; } = [1024, 4096, 16384, 65536];

    public EngineKind Engine { get; init; } = EngineKind.Kernel;

    /// <summary>Cap on the timed repetitions of one measurement, in seconds (one warm-up call comes before).</summary>
    public double Seconds { get; init; } = 2;

    /// <summary>Device memory to fit into (null: the device's <see cref="Device.MemoryBytes"/>).</summary>
    public long? MemoryLimitBytes { get; init; }

    public ulong Seed { get; init; } = 1;

    /// <summary>Physics steps per env step.</summary>
    public int FrameSkip { get; init; } = 5;

    /// <summary>The inner loop's sizes: M act steps per update, K updates per lifetime, N buffer rows (TrainConfig's names).</summary>
    public int ActSteps { get; init; } = 64;
    public int Updates { get; init; } = 2;
    public int BufferRows { get; init; } = 512;

    /// <summary>
    /// PPO's weight in the learner suite's loss. 0: the evolved loss alone, on lean learners without a value net
    /// (as at test time and after PPO's annealing); &gt; 0: learners with the value net and PPO (early meta-training).
    /// </summary>
    public float Alpha { get; init; }
}

/// <summary>One measurement: wall seconds per call (mean of the timed repetitions after one warm-up call).</summary>
public sealed record Timing(double SecondsPerCall, int Repetitions, double WarmupSeconds);

/// <summary>A batch size that did not fit in device memory.</summary>
public sealed record BenchFailure(int Learners, BenchSuite Suite, string Reason);

/// <summary>
/// The results: one JSON object per batch size that fitted (<see cref="Batches"/>), in the order run, and the
/// failure that stopped the run (null when every size fitted).
/// </summary>
public sealed record BenchReport(string Device, string Backend, long MemoryLimitBytes, BenchSettings Settings,
    IReadOnlyList<JsonObject> Batches, BenchFailure? Failure)
{
    /// <summary>results.json / --json: settings, device, per-batch results and the failure if any.</summary>
    public JsonObject ToJson()
    {
        var batches = new JsonArray();
        foreach (var b in Batches) batches.Add(b.DeepClone());
        return new JsonObject
        {
            ["device"] = Device,
            ["backend"] = Backend,
            ["memory_limit_bytes"] = MemoryLimitBytes,
            ["engine"] = Settings.Engine == EngineKind.MuJoCo ? "mujoco" : "kernel",
            ["suites"] = new JsonArray(Settings.Suites.Select(s => (JsonNode)ThroughputBench.Name(s)).ToArray()),
            ["learners"] = new JsonArray(Settings.Learners.Select(l => (JsonNode)l).ToArray()),
            ["seconds_cap"] = Settings.Seconds,
            ["frame_skip"] = Settings.FrameSkip,
            ["act_steps"] = Settings.ActSteps,
            ["updates"] = Settings.Updates,
            ["buffer_rows"] = Settings.BufferRows,
            ["date_utc"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss"),
            ["batches"] = batches,
            ["error"] = Failure is null ? null : ThroughputBench.Describe(Failure),
        };
    }
}

/// <summary>
/// Single-node throughput against batch size: for each batch size L, the chosen suites are set up on
/// the device, timed by wall clock (one warm-up call, then repetitions until <see cref="BenchSettings.Seconds"/>),
/// and their device memory counted (<see cref="Device.AllocatedBytes"/> before and after setup). A size that does
/// not fit (out-of-memory on allocation, or more bytes than the limit, estimated from the previous size or counted
/// after setup) stops the run; the sizes before it are reported.
/// </summary>
public sealed class ThroughputBench
{
    private readonly Device _device;
    private readonly BenchSettings _s;
    private readonly Action<string> _message;
    private readonly long _limit;
    private readonly Dictionary<BenchSuite, (int Learners, long Bytes)> _lastBytes = new();
    private uint _call;

    public ThroughputBench(Device device, BenchSettings settings, Action<string>? message = null)
    {
        _device = device;
        _s = settings;
        _message = message ?? (_ => { });
        _limit = settings.MemoryLimitBytes ?? device.MemoryBytes;
    }

    public static string Name(BenchSuite suite) => suite.ToString().ToLowerInvariant();

    /// <summary>Parses a --suite value (physics, networks, learner or all).</summary>
    public static IReadOnlyList<BenchSuite> ParseSuites(string name) => name.Trim().ToLowerInvariant() switch
    {
        "all" => [BenchSuite.Physics, BenchSuite.Networks, BenchSuite.Learner],
        "physics" => [BenchSuite.Physics],
        "networks" => [BenchSuite.Networks],
        "learner" => [BenchSuite.Learner],
        _ => throw new EpgException($"--suite must be physics, networks, learner or all (got '{name}')", 2),
    };

    /// <summary>Parses a --learners list such as 1024,4096 (positive, comma-separated).</summary>
    public static int[] ParseLearners(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) throw new EpgException("--learners needs at least one batch size, e.g. 1024,4096", 2);
        return parts.Select(p => int.TryParse(p, out int v) && v > 0
            ? v
            : throw new EpgException($"--learners: '{p}' is not a positive integer", 2)).ToArray();
    }

    public static string Describe(BenchFailure f) =>
        $"batch of {f.Learners} learners does not fit in device memory ({Name(f.Suite)} suite: {f.Reason})";

    /// <summary>Runs every batch size through every chosen suite; stops at the first size that does not fit.</summary>
    public BenchReport Run()
    {
        var batches = new List<JsonObject>();
        BenchFailure? failure = null;
        foreach (int l in _s.Learners)
        {
            var batch = new JsonObject { ["learners"] = l };
            foreach (var suite in _s.Suites)
            {
                _message($"bench: {Name(suite)}, {l} learners");
                failure = Guarded(l, suite, () => batch[Name(suite)] = RunSuite(suite, l));
                if (failure is not null) break;
            }
            if (failure is not null) break;
            batch["bytes_per_learner"] = _s.Suites.Max(s => (double?)batch[Name(s)]?["bytes_per_learner"] ?? 0);
            batches.Add(batch);
        }
        return new BenchReport(_device.Name, _device.Kind.ToString().ToLowerInvariant(), _limit, _s, batches, failure);
    }

    private BenchFailure? Guarded(int learners, BenchSuite suite, Action run)
    {
        if (_lastBytes.TryGetValue(suite, out var last))
        {
            long estimate = (long)((double)last.Bytes / last.Learners * learners);
            if (estimate > _limit - _device.AllocatedBytes)
                return new BenchFailure(learners, suite, $"estimated {Mb(estimate)} from {last.Learners} learners, limit {Mb(_limit)}");
        }
        try
        {
            run();
            return null;
        }
        catch (BenchOutOfMemory e)
        {
            return new BenchFailure(learners, suite, e.Message);
        }
        catch (EpgException e) when (e.ExitCode == ExitCodes.DoesNotFit)
        {
            return new BenchFailure(learners, suite, e.Message.StartsWith("does not fit: ", StringComparison.Ordinal) ? e.Message[14..] : e.Message);
        }
        catch (Exception e) when (IsOutOfMemory(e))
        {
            return new BenchFailure(learners, suite, $"allocation failed: {e.Message.Split('\n')[0].Trim()}");
        }
    }

    private static string Mb(long bytes) => $"{bytes / 1048576.0:F1} MiB";

    /// <summary>Whether an exception (or one inside it) is an allocation failure: .NET's, or CUDA's "out of memory".</summary>
    public static bool IsOutOfMemory(Exception? e) => Training.MemoryCheck.IsOutOfMemory(e);

    private sealed class BenchOutOfMemory(string message) : Exception(message);

    private JsonObject RunSuite(BenchSuite suite, int learners) => _device.WithViews(new SuiteCode(this, suite, learners));

    private sealed record SuiteCode(ThroughputBench Bench, BenchSuite Suite, int Learners) : IViewCode<JsonObject>
    {
        public JsonObject Run<TF, TI>() where TF : struct, IView<float> where TI : struct, IView<int> => Bench.RunSuite<TF, TI>(Suite, Learners);
    }

    private JsonObject RunSuite<TF, TI>(BenchSuite suite, int learners) where TF : struct, IView<float> where TI : struct, IView<int>
    {
        long before = _device.AllocatedBytes;
        var owned = new List<IDisposable>();
        try
        {
            // Setup allocates; Allocated() checks the counted bytes against the limit and records them.
            long Allocated()
            {
                long bytes = _device.AllocatedBytes - before;
                if (_device.AllocatedBytes > _limit)
                    throw new BenchOutOfMemory($"{Mb(_device.AllocatedBytes)} allocated, limit {Mb(_limit)}");
                _lastBytes[suite] = (learners, bytes);
                return bytes;
            }
            return suite switch
            {
                BenchSuite.Physics => PhysicsSuite<TF>(learners, owned, Allocated),
                BenchSuite.Networks => NetworksSuite<TF, TI>(learners, owned, Allocated),
                _ => LearnerSuite(learners, owned, Allocated),
            };
        }
        finally
        {
            for (int i = owned.Count - 1; i >= 0; i--) owned[i].Dispose();
        }
    }

    /// <summary>One warm-up call, then timed calls until the cap (at least one; at most 20 once a quarter of the cap is spent).</summary>
    private Timing Time(Action call)
    {
        long t = Stopwatch.GetTimestamp();
        call();
        _device.Synchronize();
        double warm = Stopwatch.GetElapsedTime(t).TotalSeconds;
        int reps = 0;
        double total = 0;
        while (reps < 1 || (total < _s.Seconds && !(reps >= 20 && total >= _s.Seconds / 4)))
        {
            t = Stopwatch.GetTimestamp();
            call();
            _device.Synchronize();
            total += Stopwatch.GetElapsedTime(t).TotalSeconds;
            reps++;
        }
        return new Timing(total / reps, reps, warm);
    }

    private static JsonObject TimingJson(Timing t) => new()
    {
        ["seconds_per_call"] = t.SecondsPerCall,
        ["repetitions"] = t.Repetitions,
        ["warmup_seconds"] = t.WarmupSeconds,
    };

    private static JsonObject Memory(JsonObject o, long bytes, int learners)
    {
        o["device_bytes"] = bytes;
        o["bytes_per_learner"] = (double)bytes / learners;
        return o;
    }

    private DeviceBuffer<T> Own<T>(List<IDisposable> owned, DeviceBuffer<T> b) where T : unmanaged
    {
        owned.Add(b);
        return b;
    }

    private void FillUniform<TF>(DeviceBuffer<float> b, float low, float high) where TF : struct, IView<float>
        => _device.Launch(b.Length, new FillUniformKernel<TF>
        {
            Output = b.View<TF>(), Seed = _s.Seed, Stream = Philox.Stream(RandomStreams.Test, 0xBE4C, _call++), Low = low, High = high,
        });

    // ---- physics ---------------------------------------------------------------------------------------

    private JsonObject PhysicsSuite<TF>(int learners, List<IDisposable> owned, Func<long> allocated) where TF : struct, IView<float>
    {
        var physics = PhysicsFactory.Create(_s.Engine, _device, MuJoCoModels.AntPath, learners);
        owned.Add(physics);
        long bytes = allocated();
        var timing = Time(() =>
        {
            FillUniform<TF>(physics.Ctrl, -1f, 1f); // ctrl: (Envs, Nu) uniform in the Ant's ctrlrange
            physics.Step(_s.FrameSkip);
        });
        double envPerS = learners / timing.SecondsPerCall;
        var o = TimingJson(timing);
        o["engine"] = _s.Engine == EngineKind.MuJoCo ? "mujoco" : "kernel";
        o["env_steps_per_s"] = envPerS;
        o["physics_steps_per_s"] = envPerS * _s.FrameSkip;
        return Memory(o, bytes, learners);
    }

    // ---- networks --------------------------------------------------------------------------------------

    /// <summary>goal-ant's observation and action widths (from a one-env batch).</summary>
    private (int Obs, int Act) TaskDims()
    {
        using var env = EnvFactory.Create(LearnerSpec(), _device, 1);
        return (env.ObsDim, env.ActDim);
    }

    private TrainConfig LearnerConfig => new()
    {
        Env = "goal-ant",
        Engine = _s.Engine == EngineKind.MuJoCo ? "mujoco" : "kernel",
        Seed = _s.Seed,
        ActSteps = _s.ActSteps,
        Updates = _s.Updates,
        BufferRows = _s.BufferRows,
    };

    private EnvSpec LearnerSpec() => EpgTrainer.EnvSpecFor(LearnerConfig);

    private JsonObject NetworksSuite<TF, TI>(int learners, List<IDisposable> owned, Func<long> allocated)
        where TF : struct, IView<float> where TI : struct, IView<int>
    {
        var (obsDim, actDim) = TaskDims();
        var config = LearnerConfig.Networks(obsDim, actDim, ppo: _s.Alpha > 0);
        var layout = new LearnerLayout(config);
        int L = learners, M = config.ActSteps, N = config.BufferRows, A = config.Act;
        var p = Own(owned, _device.Allocate<float>(L * layout.Stride));            // p: (L, Stride)
        var g = Own(owned, _device.Allocate<float>(L * layout.Stride));            // g: (L, Stride)
        var obs = Own(owned, _device.Allocate<float>(L * M * config.Obs));         // obs: (L, M, Obs)
        var dMeanM = Own(owned, _device.Allocate<float>(L * M * A));               // dMeanM: (L, M, Act)
        var traj = Own(owned, _device.Allocate<float>(L * N * config.TrajDim));    // traj: (L, N, TrajDim)
        var mean = Own(owned, _device.Allocate<float>(L * N * A));                 // mean: (L, N, Act)
        var dMeanN = Own(owned, _device.Allocate<float>(L * N * A));               // dMeanN: (L, N, Act)
        var mem = Own(owned, _device.Allocate<float>(L * config.MemoryUnits));     // mem: (L, MemoryUnits)
        var dMem = Own(owned, _device.Allocate<float>(L * config.MemoryUnits));    // dMem: (L, MemoryUnits)
        var lossLayout = new LossLayout(config);
        var phi = Own(owned, _device.Upload<float>(lossLayout.Initialize(_s.Seed)));  // phi: (1, PhiSize), one ES member
        var idxHost = new int[L * M];                                              // idx: (L, M), a permutation of 0..M-1 per learner
        for (int l = 0; l < L; l++)
            for (int j = 0; j < M; j++) idxHost[l * M + j] = (int)(((long)j * 37 + l) % M);
        var idx = Own(owned, _device.Upload<int>(idxHost));
        var policy = new PolicyBatch<TF>(_device, layout, L, M);
        owned.Add(policy);
        var update = new PolicyBatch<TF>(_device, layout, L, N);                                // the update's pass over N rows
        owned.Add(update);
        var loss = new LossNetwork<TF, TI>(_device, layout, L, L);
        owned.Add(loss);
        var adam = new AdamBatch<TF, TI>(_device, layout, L);
        owned.Add(adam);
        long bytes = allocated();

        LearnerInit.Initialize<TF>(_device, layout, L, p, _s.Seed, 0, 0);
        FillUniform<TF>(obs, -1f, 1f);
        FillUniform<TF>(dMeanM, -0.5f, 0.5f);
        FillUniform<TF>(traj, -1f, 1f);
        FillUniform<TF>(mean, -1f, 1f);
        FillUniform<TF>(mem, -1f, 1f);
        _device.Synchronize();
        var sel = new Kernels.Networks.RowSelection { RowBase = N - M, IdxStride = M, IdxOffset = 0 };
        var mlp = layout.Policy;

        var o = new JsonObject { ["obs"] = config.Obs, ["act"] = A, ["policy_rows"] = M, ["buffer_rows"] = N };
        void Piece(string name, long flops, Action call)
        {
            var t = Time(call);
            var j = TimingJson(t);
            j["flops"] = flops;
            j["gflops_per_s"] = flops / t.SecondsPerCall / 1e9;
            o[name] = j;
        }
        Piece("policy_forward", (long)L * M * mlp.ForwardFlopsPerRow, () => policy.Forward(p, obs, M, config.Obs));
        Piece("policy_forward_backward", (long)L * M * (mlp.ForwardFlopsPerRow + mlp.BackwardFlopsPerRow), () =>
        {
            policy.Forward(p, obs, M, config.Obs);
            policy.Backward(p, obs, config.Obs, 0, dMeanM, g);
        });
        Piece("policy_update", (long)L * N * (mlp.ForwardFlopsPerRow + mlp.BackwardFlopsPerRow), () =>
        {
            update.Forward(p, traj, N, config.TrajDim);
            update.Backward(p, traj, config.TrajDim, 0, dMeanN, g);
        });
        o["mlp_pass"] = MlpPass.Name(_device);
        Piece("loss_forward_backward", loss.Flops, () =>
            loss.ForwardBackward(phi, traj, mean, p, mem, idx, sel, 0.5f, dMeanN, g, dMem));
        // zeroGrad false: every call does the same work on the same gradient.
        Piece("adam_step", adam.Flops, () => adam.Step(p, g, zeroGrad: false));
        return Memory(o, bytes, learners);
    }

    // ---- learner ---------------------------------------------------------------------------------------

    private JsonObject LearnerSuite(int learners, List<IDisposable> owned, Func<long> allocated)
    {
        var cfg = LearnerConfig;
        long before = allocated();
        var env = EnvFactory.Create(LearnerSpec(), _device, learners);
        owned.Add(env);
        long envBytes = allocated() - before;
        var networks = cfg.Networks(env.ObsDim, env.ActDim, ppo: _s.Alpha > 0);
        var batch = LearnerBatchFactory.Create(env, networks, cfg.Updates, cfg.PassesPerUpdate, learners, cfg.FitnessEpisodes);
        owned.Add(batch);
        var phi = Own(owned, _device.Upload<float>(new LossLayout(networks).Initialize(_s.Seed)));  // phi: (1, PhiSize)
        long bytes = allocated();
        var parts = new JsonObject { ["env + physics"] = Math.Round((double)envBytes / learners, 1) };
        foreach (var (part, b) in batch.BytesByPart) parts[part] = Math.Round((double)b / learners, 1);
        var targets = Enumerable.Range(0, learners).ToArray();
        env.SampleTargets(_s.Seed, targets);
        LifetimeResult? last = null;
        uint epoch = 0;
        var t = Time(() => last = batch.RunLifetime(phi, _s.Alpha, _s.Seed, epoch++, 0));
        int adamPerUpdate = networks.ActSteps / networks.Minibatch * cfg.PassesPerUpdate;
        var o = TimingJson(t);
        o["lifetime_steps"] = batch.Lifetime;
        o["act_steps"] = networks.ActSteps;
        o["updates"] = cfg.Updates;
        o["buffer_rows"] = networks.BufferRows;
        o["learner_steps_per_s"] = (double)learners * batch.Lifetime / t.SecondsPerCall;
        o["updates_per_s"] = (double)learners * cfg.Updates / t.SecondsPerCall;
        o["adam_steps_per_s"] = (double)learners * cfg.Updates * adamPerUpdate / t.SecondsPerCall;
        o["update_share"] = last is null || last.Seconds <= 0 ? 0 : last.UpdateSeconds / last.Seconds;
        o["mlp_pass"] = MlpPass.Name(_device);
        o["alpha"] = _s.Alpha;
        // One more lifetime with a wait after every phase: where a learner step's time goes (microseconds per
        // learner step, all learners together; the waits add a little, so the sum exceeds the timed figure slightly).
        var profile = new Diagnostics.PhaseTimer(_device);
        batch.Profile = profile;
        batch.RunLifetime(phi, _s.Alpha, _s.Seed, epoch++, 0);
        batch.Profile = null;
        double steps = (double)learners * batch.Lifetime;
        var phases = new JsonObject();
        foreach (var (phase, sec) in profile.Phases) phases[phase] = Math.Round(sec / steps * 1e6, 3);
        o["us_per_learner_step_by_phase"] = phases;
        o["bytes_per_learner_by_part"] = parts;
        return Memory(o, bytes, learners);
    }
}
