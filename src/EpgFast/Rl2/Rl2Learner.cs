using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;
using EpgFast.Kernels.Tasks;
using EpgFast.Learners;
using EpgFast.Networks;
using EpgFast.Tasks;
using EpgFast.Training;

namespace EpgFast.Rl2;

/// <summary>What one batch of trials did: per trial and episode slot, the return and final distance of each finished episode.</summary>
/// <param name="Returns">(B, K) episode returns (0 where the episode did not finish)</param>
/// <param name="Distances">(B, K) final distances to the target</param>
/// <param name="Finished">(B) episodes finished per trial</param>
/// <param name="Episodes">K, the episode slots per trial</param>
public sealed record TrialResult(float[] Returns, float[] Distances, int[] Finished, int Episodes)
{
    public int Trials => Finished.Length;

    /// <summary>Trial b's k-th finished episode's slot, counted from its last (k = 0: the last one), or -1.</summary>
    private int Slot(int b, int fromLast) => Math.Min(Finished[b], Episodes) - 1 - fromLast is int e && e >= 0 ? b * Episodes + e : -1;

    /// <summary>Return of each trial's last finished episode (NaN where none finished).</summary>
    public float[] LastReturns => Enumerable.Range(0, Trials).Select(b => Slot(b, 0) is int s && s >= 0 ? Returns[s] : float.NaN).ToArray();

    /// <summary>Final distance of each trial's last finished episode (NaN where none finished).</summary>
    public float[] LastDistances => Enumerable.Range(0, Trials).Select(b => Slot(b, 0) is int s && s >= 0 ? Distances[s] : float.NaN).ToArray();

    /// <summary>Return of each trial's first episode (NaN where none finished).</summary>
    public float[] FirstReturns => Enumerable.Range(0, Trials).Select(b => Finished[b] > 0 ? Returns[b * Episodes] : float.NaN).ToArray();
}

/// <summary>One epoch of meta-training: the trials it acted, the PPO loss of its last pass (means over trials), Adam steps skipped for non-finite gradients.</summary>
public sealed record Rl2EpochResult(TrialResult Trials, double Loss, double ValueLoss, long SkippedSteps, double Seconds);

/// <summary>The RL^2 learner's state, as a checkpoint keeps it: parameters, Adam moments and step, observation statistics.</summary>
public sealed record Rl2State(float[] Parameters, float[] AdamM, float[] AdamV, long AdamStep, float[] Normalizer);

/// <summary>An RL^2 learner on a device: B trials of one env batch, the GRU policy, PPO over trials, Adam.</summary>
public interface IRl2Learner : IDisposable
{
    GruShape Shape { get; }
    /// <summary>Fresh parameters for <paramref name="seed"/> (host copy).</summary>
    float[] InitialParameters(ulong seed);
    void Load(Rl2State state);
    Rl2State Save();
    /// <summary>Acts B trials on tasks <paramref name="taskIds"/> with the current policy (no update).</summary>
    TrialResult Act(ulong seed, uint epoch, int trialBase, int[] taskIds, GoalRegion region, ILifetimeObserver? observer = null);
    /// <summary>One epoch of meta-training (see <see cref="Rl2Learner{TF, TI}.TrainEpoch"/>).</summary>
    Rl2EpochResult TrainEpoch(ulong seed, uint epoch, int[] taskIds, GoalRegion region);
}

/// <summary>
/// The RL^2 learner: B trials (one env each) of T = K x episode-length steps, the GRU policy (H units), PPO over
/// trials and Adam on the one shared parameter vector. <see cref="TrainEpoch"/> is the whole meta-training step.
/// </summary>
public sealed class Rl2Learner<TF, TI> : IRl2Learner where TF : struct, IView<float> where TI : struct, IView<int>
{
    private readonly Device _device;
    private readonly GruPolicyBatch<TF> _policy;
    private readonly TrialRollout<TF, TI> _rollout;
    private readonly TrialPpo<TF, TI> _ppo;
    private readonly AdamBatch<TF, TI> _adam;
    private readonly DeviceBuffer<float> _p;   // p: (P), the policy's parameters
    private readonly int _ppoEpochs;

    public Rl2Learner(IEnvBatch env, TrainConfig config)
    {
        _device = env.Device;
        int episodes = config.Rl2TrialEpisodes!.Value;
        var shape = GruShape.Create(env.Envs, episodes * env.MaxEpisodeSteps, env.ObsDim, env.ActDim, config.Rl2Hidden!.Value);
        var n = new NetworkConfig(env.ObsDim, env.ActDim); // the learners' PPO, Adam and normalizer constants
        _ppoEpochs = config.Rl2PpoEpochs!.Value;
        _policy = new GruPolicyBatch<TF>(_device, shape);
        _rollout = new TrialRollout<TF, TI>(_device, env, _policy, episodes, n.NormalizerEps, n.NormalizerMinVar);
        _ppo = new TrialPpo<TF, TI>(_device, _policy,
            new PpoShape { Gamma = n.Gamma, Lambda = n.Lambda, Clip = n.ClipRange, KlCoeff = n.KlCoeff, AdvEps = n.AdvantageEps }, config.Rl2ValueCoeff!.Value);
        _adam = new AdamBatch<TF, TI>(_device, 1, shape.ParamCount, config.Rl2LearningRate!.Value, n.Beta1, n.Beta2, n.AdamEps);
        _p = _device.Allocate<float>(shape.ParamCount);
    }

    public GruShape Shape => _policy.Shape;

    public float[] InitialParameters(ulong seed)
    {
        _policy.Initialize(_p, seed);
        _device.Synchronize();
        return _p.ToArray();
    }

    public void Load(Rl2State s)
    {
        _p.CopyFrom(s.Parameters);
        _adam.Reset();
        _adam.M.CopyFrom(s.AdamM);
        _adam.V.CopyFrom(s.AdamV);
        _adam.T.CopyFrom([checked((int)s.AdamStep)]);
        _rollout.SetNormalizer(s.Normalizer);
    }

    public Rl2State Save()
    {
        _device.Synchronize();
        return new Rl2State(_p.ToArray(), _adam.M.ToArray(), _adam.V.ToArray(), _adam.T.ToArray()[0], _rollout.Normalizer());
    }

    public TrialResult Act(ulong seed, uint epoch, int trialBase, int[] taskIds, GoalRegion region, ILifetimeObserver? observer = null)
    {
        _rollout.Run(_p, seed, epoch, trialBase, taskIds, region, observer);
        return new TrialResult(_rollout.Returns.ToArray(), _rollout.Distances.ToArray(), _rollout.Episode.ToArray(), _rollout.Shape.Episodes);
    }

    /// <summary>
    /// One epoch of meta-training: act one trial per env with the current policy (hidden state from zero, through all
    /// K episodes); PPO over the trials (old policy and GAE across each trial's episodes, then passes of BPTT
    /// through every trial and an Adam step each); then the observation statistics take in the epoch's observations.
    /// </summary>
    public Rl2EpochResult TrainEpoch(ulong seed, uint epoch, int[] taskIds, GoalRegion region)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long skipped = _adam.SkippedTotal();
        // 1. act: B trials of T steps on fresh tasks
        var trials = Act(seed, epoch, 0, taskIds, region);
        // 2. PPO over trials: old policy, GAE across episode boundaries inside a trial
        _ppo.Prepare(_p, _rollout.Outcome);
        for (int pass = 0; pass < _ppoEpochs; pass++)
        {
            // 3. loss and its gradient through the whole trials (BPTT), one Adam step
            _ppo.Gradient(_p, _rollout.Actions, forwardDone: pass == 0);
            _adam.Step(_p, _policy.Grad);
        }
        // 4. the observation statistics take in this epoch's observations (the next epoch acts with them)
        _rollout.UpdateNormalizer();
        _device.Synchronize();
        var loss = _ppo.Loss.ToArray();
        int B = Shape.Trials;
        double total = Enumerable.Range(0, B).Average(b => (double)loss[4 * b]);
        double value = Enumerable.Range(0, B).Average(b => (double)loss[4 * b + 3]);
        return new Rl2EpochResult(trials, total, value, _adam.SkippedTotal() - skipped, clock.Elapsed.TotalSeconds);
    }

    public void Dispose()
    {
        _ppo.Dispose();
        _rollout.Dispose();
        _policy.Dispose();
        _adam.Dispose();
        _p.Dispose();
    }
}

/// <summary>Opens an RL^2 learner for the device's view types.</summary>
public static class Rl2Learners
{
    public static IRl2Learner Create(IEnvBatch env, TrainConfig config) => env.Device.WithViews(new Open(env, config));

    private sealed record Open(IEnvBatch Env, TrainConfig Config) : IViewCode<IRl2Learner>
    {
        public IRl2Learner Run<TF, TI>() where TF : struct, IView<float> where TI : struct, IView<int> => new Rl2Learner<TF, TI>(Env, Config);
    }
}
