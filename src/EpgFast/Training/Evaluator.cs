using EpgFast.Backends;
using EpgFast.Learners;
using EpgFast.Networks;
using EpgFast.Tasks;

namespace EpgFast.Training;

/// <summary>How the fresh learners of an evaluation are trained.</summary>
public enum EvalMethod
{
    /// <summary>The evolved (frozen) loss alone: alpha = 0.</summary>
    Epg,
    /// <summary>PPO from scratch: alpha = 1 (the loss network gets no weight).</summary>
    Ppo,
    /// <summary>The RL^2 baseline: a meta-trained recurrent policy, frozen (src/EpgFast/Rl2/Rl2Evaluator.cs; not a learner of this class).</summary>
    Rl2,
}

/// <summary>
/// The result of training K fresh learners for one lifetime on K tasks.
/// Curves: at every window end (every M steps of life), each learner's return of its last
/// finished episode (0 before the first).
/// </summary>
public sealed record EvalResult(
    string Label,
    float[] Fitness,
    float[] FinalDistances,
    double[] CurveSteps,
    IReadOnlyList<double[]> CurveReturns,
    IReadOnlyList<Runs.TorsoPath> Paths,
    int Quarantined,
    double StepsPerSecond)
{
    /// <summary>At every window end, each learner's final distance to its target in its last finished episode (0 before the first).</summary>
    public IReadOnlyList<double[]> CurveDistances { get; init; } = [];

    /// <summary>Each learner's target distance from the origin (where the torso starts, up to the reset noise).</summary>
    public float[] TargetDistances { get; init; } = [];

    public double FitnessMean => Finite(Fitness).DefaultIfEmpty(double.NaN).Average();
    public double FitnessStd => Std(Finite(Fitness));
    public double DistanceMean => Finite(FinalDistances).DefaultIfEmpty(double.NaN).Average();
    public double DistanceStd => Std(Finite(FinalDistances));

    private static IEnumerable<double> Finite(float[] v) => v.Where(float.IsFinite).Select(x => (double)x);

    public static double Std(IEnumerable<double> values)
    {
        var v = values.ToArray();
        if (v.Length < 2) return 0;
        double m = v.Average();
        return Math.Sqrt(v.Sum(x => (x - m) * (x - m)) / (v.Length - 1));
    }
}

/// <summary>
/// Trains fresh learners with a frozen loss (or with PPO) on given tasks and records their
/// learning curves, final distances and (for the first few) the torso path of their last finished episode. Used by `epg eval`,
/// by the periodic tests of `epg train` and by its final report.
/// </summary>
public sealed class Evaluator : IDisposable
{
    private readonly IEnvBatch _env;
    private readonly ILearnerBatch _batch;
    private readonly DeviceBuffer<float> _phi;
    private readonly TrainConfig _config;

    /// <summary>Fresh learners on <paramref name="learners"/> environments of <paramref name="spec"/>, sized by <paramref name="config"/>;
    /// <paramref name="ppo"/>: the learners need PPO (to run <see cref="EvalMethod.Ppo"/>); false: lean learners, the evolved loss only.</summary>
    public Evaluator(Device device, EnvSpec spec, TrainConfig config, int learners, bool ppo)
    {
        _config = config;
        _env = EnvFactory.Create(spec, device, learners);
        try
        {
            var networks = config.Networks(_env.ObsDim, _env.ActDim, ppo);
            _batch = LearnerBatchFactory.Create(_env, networks, config.Updates, config.PassesPerUpdate, learners, config.FitnessEpisodes);
            Layout = new LossLayout(networks);
            _phi = device.Allocate<float>(Layout.PhiSize);
        }
        catch
        {
            _env.Dispose();
            throw;
        }
    }

    public LossLayout Layout { get; }

    public int Learners => _batch.Learners;

    /// <summary>
    /// The round of `epg eval` and `epg reproduce`: every method evaluated in this round meets the same tasks
    /// (<see cref="TestTaskIds"/>) and draws from the same evaluation streams.
    /// </summary>
    public const int EvalRound = 1 << 15;

    /// <summary>Task ids for an evaluation: disjoint from training's ids (which are epoch x L + l, below 2^31).</summary>
    public static int[] TestTaskIds(int count, int round) =>
        Enumerable.Range(0, count).Select(i => int.MinValue + round * 65536 + i).ToArray();

    /// <summary>
    /// Trains the learners for one lifetime on tasks <paramref name="taskIds"/> in <paramref name="region"/>.
    /// <paramref name="progress"/>, when given, hears (steps of life done, lifetime, mean of the learners'
    /// last finished episode returns) at the end of every M-step window.
    /// </summary>
    public EvalResult Run(string label, EvalMethod method, ReadOnlySpan<float> phi, Kernels.Tasks.GoalRegion region,
        int[] taskIds, ulong seed, uint round, int recordPaths = 0, Action<int, int, double>? progress = null)
    {
        if (method == EvalMethod.Rl2) throw new ArgumentException("RL^2 policies are evaluated by Rl2Evaluator");
        if (phi.Length != Layout.PhiSize)
            throw new EpgException($"loss has {phi.Length} parameters; this configuration's loss network needs {Layout.PhiSize}");
        _phi.CopyFrom(phi);
        _env.SampleTargets(seed, taskIds, region);
        var targets = _env.Targets.ToArray();
        var observer = new CurveObserver(_batch.Learners, _config.ActSteps, Math.Min(recordPaths, _batch.Learners))
        {
            Progress = progress is null ? null : (step, mean) => progress(step, _config.Lifetime, mean),
        };
        float alpha = method == EvalMethod.Ppo ? 1f : 0f;
        _batch.LearningRate = method == EvalMethod.Ppo ? _config.PpoStepSize : _config.InnerLearningRate;
        // Evaluation streams: epoch numbers from 2^23 up never occur in training.
        var result = _batch.RunLifetime(_phi, alpha, seed, (1u << 23) + round, 0, observer);
        return Result(label, observer, targets, result.Fitness, result.Quarantined, result.Steps / Math.Max(1e-9, result.Seconds));
    }

    /// <summary>An evaluation's result from what <paramref name="observer"/> recorded over the lifetime (or RL^2 trial) on targets (L, 2).</summary>
    internal static EvalResult Result(string label, CurveObserver observer, float[] targets, float[] fitness, int quarantined, double stepsPerSecond)
    {
        var paths = new List<Runs.TorsoPath>();
        for (int l = 0; l < observer.PathCount; l++)
            paths.Add(new Runs.TorsoPath(observer.PathX[l].ToArray(), observer.PathY[l].ToArray(), targets[2 * l], targets[2 * l + 1], label));
        return new EvalResult(label, fitness, observer.FinalDistances, observer.Steps.ToArray(), observer.Returns, paths, quarantined, stepsPerSecond)
        {
            CurveDistances = observer.Distances,
            TargetDistances = Enumerable.Range(0, targets.Length / 2)
                .Select(l => MathF.Sqrt(targets[2 * l] * targets[2 * l] + targets[2 * l + 1] * targets[2 * l + 1])).ToArray(),
        };
    }

    /// <summary>The learners' policies as the last <see cref="Run"/> left them (for <c>epg play</c>).</summary>
    public Runs.PolicyFile Policies(string label)
    {
        var c = _batch.Layout.Config;
        return new Runs.PolicyFile(_config, _config.Env, _config.Engine, label, c.Ppo, _env.ObsDim, _env.ActDim, _batch.Layout.Stride, c.TrajDim, _batch.Snapshot());
    }

    public void Dispose()
    {
        _batch.Dispose();
        _env.Dispose();
        _phi.Dispose();
    }

    /// <summary>Every step: each learner's last finished episode's return and distance, recorded every <c>every</c> steps; the first few learners' paths.</summary>
    internal sealed class CurveObserver(int learners, int every, int pathCount) : ILifetimeObserver
    {
        private readonly float[] _last = new float[learners];
        public readonly List<double> Steps = [];
        public readonly List<double[]> Returns = [];
        public readonly List<double[]> Distances = [];
        public float[] FinalDistances = new float[learners];
        public readonly int PathCount = pathCount;
        public Action<int, double>? Progress { get; init; }
        // The path of each learner's last finished episode (the trained policy's walk), and of the running one.
        public List<double>[] PathX = Enumerable.Range(0, pathCount).Select(_ => new List<double>()).ToArray();
        public List<double>[] PathY = Enumerable.Range(0, pathCount).Select(_ => new List<double>()).ToArray();
        private readonly List<double>[] _runX = Enumerable.Range(0, pathCount).Select(_ => new List<double>()).ToArray();
        private readonly List<double>[] _runY = Enumerable.Range(0, pathCount).Select(_ => new List<double>()).ToArray();

        public void OnStep(int step, float[] dones, float[] lastReturns, float[] lastDistances, float[] positions)
        {
            for (int l = 0; l < dones.Length; l++)
                if (dones[l] != 0f) _last[l] = lastReturns[l];
            FinalDistances = lastDistances;
            for (int l = 0; l < PathCount; l++)
            {
                _runX[l].Add(positions[2 * l]);
                _runY[l].Add(positions[2 * l + 1]);
                if (dones[l] != 0f || PathX[l].Count == 0)
                {
                    PathX[l] = [.. _runX[l]];
                    PathY[l] = [.. _runY[l]];
                }
                if (dones[l] != 0f)
                {
                    _runX[l].Clear();
                    _runY[l].Clear();
                }
            }
            if ((step + 1) % every == 0)
            {
                Steps.Add(step + 1);
                Returns.Add(_last.Select(x => (double)x).ToArray());
                Progress?.Invoke(step + 1, _last.Average(x => (double)x));
                Distances.Add(lastDistances.Select(x => (double)x).ToArray());
            }
        }
    }
}
