using System.Runtime.InteropServices;
using EpgFast.Backends;
using EpgFast.Evolution;
using EpgFast.Kernels.Networks;
using EpgFast.Runs;
using EpgFast.Tasks;
using EpgFast.Training;

namespace EpgFast.Rl2;

/// <summary>What the RL^2 trainer tells its caller after each epoch (for the progress line).</summary>
public readonly record struct Rl2EpochReport(int Epoch, double FinalReturn, double FinalReturnMax, double FirstReturn, double FinalDistance, double Loss, double StepsPerSecond);

/// <summary>
/// `epg train --method rl2`: meta-trains the RL^2 policy with PPO over trials. Each epoch: B fresh tasks from the
/// training region (task ids epoch x B + b, the same draws EPG's meta-training uses), one trial each, one PPO update
/// (<see cref="Rl2Learner{TF, TI}.TrainEpoch"/>), then metrics.csv, checkpoints and best.rl2 through
/// <see cref="TrainingRun"/>. The run's state is an <see cref="EsState"/> (parameters, Adam moments and step, best
/// parameters), the observation statistics ride in the checkpoint's extra bytes; --resume ends bit-identical.
/// The best parameters are those whose epoch's trials had the highest mean final-episode return.
/// </summary>
public static class Rl2Trainer
{
    /// <summary>metrics.csv's columns after epoch, fitness_mean and fitness_max (the trials' final-episode returns).</summary>
    public static readonly string[] ExtraColumns = ["first_episode_return", "final_distance", "loss", "value_loss", "skipped_steps"];

    public const string BestFileName = "best.rl2";

    /// <summary>Runs (or resumes) an RL^2 run in <paramref name="dir"/>, which the caller has locked; returns the final state.</summary>
    public static EsState Train(TrainConfig config, RunDirectory dir, bool resume, Device device, Action<Rl2EpochReport> onEpoch, Action<string> message)
    {
        config.Validate();
        if (!config.IsRl2) throw new ArgumentException("not an RL^2 configuration (Rl2Preset)");
        var spec = EpgTrainer.EnvSpecFor(config);
        var region = GoalTasks.ParseRegion(config.TrainTargets);
        int B = config.Rl2Trials!.Value;
        using var env = EnvFactory.Create(spec, device, B);
        using var learner = Rl2Learners.Create(env, config);
        var shape = learner.Shape;
        float[] p0 = learner.InitialParameters(config.Seed);
        // TrainingRun keeps an EsState: its seed and initial state are all it takes from the strategy (no ES step is taken).
        var es = new EvolutionStrategy(new EsConfig { Seed = config.Seed, Epochs = config.Epochs });
        using var run = TrainingRun.Start(dir, es, p0, Rl2Config.Json(config), ExtraColumns, resume, message, ["threads"]);
        float[] fresh = learner.Save().Normalizer;
        var (normalizer, bestNormalizer) = run.Resumed ? SplitExtra(run.Extra) : (fresh, fresh);
        EsState state = run.State;
        learner.Load(new Rl2State(state.Phi, state.AdamM, state.AdamV, state.AdamStep, normalizer));
        run.BestFile = (Path.Combine(dir.Root, BestFileName), ckpt =>
        {
            var (_, best) = SplitExtra(ckpt.Extra);
            Rl2PolicyFile.Of(config, shape, ckpt.State.BestPhi, best, ckpt.State.BestEpoch, ckpt.State.BestFitness).Write(Path.Combine(dir.Root, BestFileName));
            ckpt.Write(dir.BestCheckpointPath);
        });
        message($"epg train --method rl2: {config.Env}, {B} trials x {shape.Steps} steps ({config.Rl2TrialEpisodes} episodes) per epoch, " +
                $"GRU {shape.Hidden} units ({shape.ParamCount} parameters), {device.Kind.ToString().ToLowerInvariant()} backend ({device.Name})");
        var taskIds = new int[B];
        while (state.Epoch < config.Epochs)
        {
            EsState s = state;
            int epoch = s.Epoch;
            for (int b = 0; b < B; b++) taskIds[b] = epoch * B + b;
            float[] acted = normalizer; // the statistics this epoch's trials were normalized with
            var r = learner.TrainEpoch(config.Seed, (uint)epoch, taskIds, region);
            var saved = learner.Save();
            normalizer = saved.Normalizer;

            var final = r.Trials.LastReturns;
            double mean = Mean(final), max = final.Where(float.IsFinite).DefaultIfEmpty(float.NaN).Max(), min = final.Where(float.IsFinite).DefaultIfEmpty(float.NaN).Min();
            var next = s.With(epoch: epoch + 1, phi: saved.Parameters, m: saved.AdamM, v: saved.AdamV, adamStep: saved.AdamStep);
            next = next.OfferBest(s.Phi, mean, epoch);
            if (next.BestImprovedSince(s)) bestNormalizer = acted;
            var info = new EsStepInfo(epoch, mean, max, min, final.Count(x => !float.IsFinite(x)), config.Rl2LearningRate!.Value, 0, 0);
            double first = Mean(r.Trials.FirstReturns), distance = Mean(r.Trials.LastDistances);
            run.Commit(next, info, [first, distance, r.Loss, r.ValueLoss, r.SkippedSteps], Extra(normalizer, bestNormalizer));
            state = next;
            onEpoch(new Rl2EpochReport(epoch, mean, max, first, distance, r.Loss, (double)B * shape.Steps / Math.Max(1e-9, r.Seconds)));
        }
        run.Finish();
        return state;
    }

    /// <summary>
    /// Refuses (exit 3), before anything is allocated for the run or written, an RL^2 batch whose buffers exceed
    /// 32-bit sizes or the device's memory (<paramref name="limitBytes"/>: a smaller limit). The bytes are counted from
    /// the buffers' shapes: per trial and step the GRU's input, hidden states, gates and their gradients, the heads and
    /// PPO's rows; per trial a gradient block; the env's own buffers are not counted. With <paramref name="policy"/>, also
    /// refuses (exit 1) a policy for other observation or action widths than the config's env.
    /// </summary>
    public static void EnsureFits(Device device, TrainConfig config, long? limitBytes, Rl2PolicyFile? policy = null)
    {
        int B = config.Rl2Trials!.Value, H = config.Rl2Hidden!.Value;
        int obs, act, episodeSteps;
        using (var probe = EnvFactory.Create(EpgTrainer.EnvSpecFor(config), device, 1))
            (obs, act, episodeSteps) = (probe.ObsDim, probe.ActDim, probe.MaxEpisodeSteps);
        if (policy is not null && (policy.Obs != obs || policy.Act != act))
            throw new EpgException($"the RL^2 policy acts on {policy.Obs} observations and {policy.Act} actions but {config.Env} has {obs} and {act}");
        long T = (long)config.Rl2TrialEpisodes!.Value * episodeSteps;
        var shape = GruShape.Create(1, 1, obs, act, H);
        long perStep = shape.In + 10L * H + 8L * act + obs + 12, largest = Math.Max(B * T * 4 * H, (long)B * shape.ParamCount);
        long bytes = 4 * (B * T * perStep + (long)B * shape.ParamCount + 6L * shape.ParamCount);
        if (largest > int.MaxValue)
            throw EpgException.DoesNotFit($"--method rl2: {B} trials x {T} steps x {H} units need a buffer of {largest:N0} floats, beyond 32-bit sizes (2^31 - 1); this does not fit");
        long limit = limitBytes ?? device.MemoryBytes;
        if (bytes > limit)
            throw EpgException.DoesNotFit($"--method rl2: {B} trials x {T} steps with {H} GRU units need about {MemoryCheck.Mib(bytes)} of device memory but {MemoryCheck.Mib(limit)} is available; use fewer rl2_trials or rl2_hidden");
    }

    private static double Mean(float[] v) => v.Where(float.IsFinite).Select(x => (double)x).DefaultIfEmpty(double.NaN).Average();

    /// <summary>The checkpoint's extra bytes: the current and the best parameters' observation statistics (float32).</summary>
    private static byte[] Extra(float[] current, float[] best) => MemoryMarshal.AsBytes<float>([.. current, .. best]).ToArray();

    private static (float[] Current, float[] Best) SplitExtra(byte[] extra)
    {
        var f = MemoryMarshal.Cast<byte, float>(extra).ToArray();
        if (f.Length == 0 || f.Length % 2 != 0) throw new EpgException($"the RL^2 checkpoint's observation statistics are damaged ({extra.Length} bytes)");
        return (f[..(f.Length / 2)], f[(f.Length / 2)..]);
    }
}
