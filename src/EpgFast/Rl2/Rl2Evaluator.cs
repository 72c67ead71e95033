using EpgFast.Backends;
using EpgFast.Kernels.Tasks;
using EpgFast.Tasks;
using EpgFast.Training;

namespace EpgFast.Rl2;

/// <summary>
/// `epg eval --method rl2`: the frozen meta-trained policy (no update) runs one trial on each of K fresh tasks, its
/// hidden state from zero through the trial's episodes, with the run's observation statistics. The result has the
/// other methods' form (<see cref="EvalResult"/>): fitness = each trial's final-episode return, and the curves, final
/// distances and paths of <see cref="Evaluator"/> (a curve point every fifth of an episode).
/// </summary>
public static class Rl2Evaluator
{
    /// <summary>Task ids, streams and epoch numbering as `epg eval` uses them for the other methods.</summary>
    public static EvalResult Run(Device device, Rl2PolicyFile policy, TrainConfig config, string label, GoalRegion region, int trials,
        int recordPaths = 0, Action<int, int, double>? progress = null)
    {
        var spec = EpgTrainer.EnvSpecFor(config);
        using var env = EnvFactory.Create(spec, device, trials);
        if (env.ObsDim != policy.Obs || env.ActDim != policy.Act) throw new ArgumentException("the policy's sizes differ from the env's (Rl2Trainer.EnsureFits refuses this first)");
        using var learner = Rl2Learners.Create(env, config);
        var shape = learner.Shape;
        learner.Load(new Rl2State(policy.Parameters, new float[shape.ParamCount], new float[shape.ParamCount], 0, policy.Normalizer));
        int[] taskIds = Evaluator.TestTaskIds(trials, Evaluator.EvalRound);
        env.SampleTargets(config.Seed, taskIds, region);
        var targets = env.Targets.ToArray();
        var observer = new Evaluator.CurveObserver(trials, Math.Max(1, env.MaxEpisodeSteps / 5), Math.Min(recordPaths, trials))
        {
            Progress = progress is null ? null : (step, mean) => progress(step, shape.Steps, mean),
        };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var r = learner.Act(config.Seed, (1u << 23) + Evaluator.EvalRound, 0, taskIds, region, observer);
        var fitness = r.LastReturns;
        return Evaluator.Result(label, observer, targets, fitness, 0, (double)trials * shape.Steps / Math.Max(1e-9, clock.Elapsed.TotalSeconds));
    }
}
