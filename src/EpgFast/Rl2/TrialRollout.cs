using EpgFast.Backends;
using EpgFast.Kernels.Learners;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;
using EpgFast.Kernels.Random;
using EpgFast.Kernels.Tasks;
using EpgFast.Learners;
using EpgFast.Tasks;

namespace EpgFast.Rl2;

/// <summary>
/// Acting: B trials in lockstep, one per env of the batch, each T = K x episode-length steps on one task. The env's
/// episodes restart by themselves inside a trial; the GRU's hidden state runs through them and starts from zero with
/// the trial. Every step: observe (normalize with the shared running statistics, frozen during the trial), the
/// policy's step, sample a ~ N(mean, exp(logstd)^2) from Philox keyed by (seed, epoch, trial, step), env step,
/// record. The statistics take in the trials' observations afterwards (<see cref="UpdateNormalizer"/>).
/// </summary>
public sealed class TrialRollout<TF, TI> : IDisposable where TF : struct, IView<float> where TI : struct, IView<int>
{
    private readonly Device _device;
    private readonly IEnvBatch _env;
    private readonly GruPolicyBatch<TF> _policy;
    private readonly TrialShape _shape;
    private readonly NormalizerShape _norm;
    private readonly float _normEps;

    public TrialRollout(Device device, IEnvBatch env, GruPolicyBatch<TF> policy, int episodes, float normalizerEps, float normalizerMinVar)
    {
        _device = device;
        _env = env;
        _policy = policy;
        var s = policy.Shape;
        _shape = new TrialShape { Trials = s.Trials, Steps = s.Steps, Episodes = episodes, Obs = s.Obs, Act = s.Act };
        _norm = new NormalizerShape { Learners = 1, Dim = s.Obs, MinVar = normalizerMinVar };
        _normEps = normalizerEps;
        int B = s.Trials, T = s.Steps;
        NormSum = device.Allocate<float>(s.Obs);
        NormSum2 = device.Allocate<float>(s.Obs);
        NormCount = device.Allocate<float>(1);
        Raw = device.Allocate<float>(B * T * s.Obs);
        Sampled = device.Allocate<float>(B * s.Act);
        Actions = device.Allocate<float>(B * T * s.Act);
        Outcome = device.Allocate<float>(B * T * 2);
        Returns = device.Allocate<float>(B * episodes);
        Distances = device.Allocate<float>(B * episodes);
        Episode = device.Allocate<int>(B);
        ResetNormalizer();
    }

    public TrialShape Shape => _shape;
    /// <summary>The observations' running statistics, shared by all trials: sum, sum2 (Obs), count (1).</summary>
    public DeviceBuffer<float> NormSum { get; }
    public DeviceBuffer<float> NormSum2 { get; }
    public DeviceBuffer<float> NormCount { get; }
    /// <summary>raw: (B, T, Obs), the observations as the env gave them</summary>
    public DeviceBuffer<float> Raw { get; }
    /// <summary>sampled: (B, Act), this step's actions</summary>
    public DeviceBuffer<float> Sampled { get; }
    /// <summary>actions: (B, T, Act) as sampled; outcome: (B, T, 2) = (reward, trial end)</summary>
    public DeviceBuffer<float> Actions { get; }
    public DeviceBuffer<float> Outcome { get; }
    /// <summary>returns, distances: (B, K), each finished episode's return and final distance to the target</summary>
    public DeviceBuffer<float> Returns { get; }
    public DeviceBuffer<float> Distances { get; }
    /// <summary>episode: (B), episodes finished in the trial</summary>
    public DeviceBuffer<int> Episode { get; }

    /// <summary>The statistics before any observation: sums (0, eps), count eps (the released Normalizer's start).</summary>
    public void ResetNormalizer() => SetNormalizer([.. new float[_norm.Dim], .. Enumerable.Repeat(_normEps, _norm.Dim), _normEps]);

    /// <summary>The statistics as one host vector (sum, sum2, count): 2 Obs + 1 floats.</summary>
    public float[] Normalizer() => [.. NormSum.ToArray(), .. NormSum2.ToArray(), .. NormCount.ToArray()];

    public void SetNormalizer(ReadOnlySpan<float> stats)
    {
        int d = _norm.Dim;
        if (stats.Length != 2 * d + 1) throw new ArgumentException($"normalizer statistics: {stats.Length} floats for {d} observation columns");
        NormSum.CopyFrom(stats[..d]);
        NormSum2.CopyFrom(stats[d..(2 * d)]);
        NormCount.CopyFrom(stats[(2 * d)..]);
    }

    /// <summary>
    /// Runs one trial per env with parameters p on tasks <paramref name="taskIds"/> (targets in <paramref name="region"/>):
    /// trial b's random numbers are keyed by (seed, epoch, trialBase + b, step). <paramref name="observer"/> (eval) hears
    /// every step with host copies.
    /// </summary>
    public void Run(DeviceBuffer<float> p, ulong seed, uint epoch, int trialBase, int[] taskIds, GoalRegion region, ILifetimeObserver? observer = null)
    {
        var s = _policy.Shape;
        _env.SampleTargets(seed, taskIds, region);
        _policy.X.Clear(); // x row 0's previous action, reward and done are zero
        foreach (var b in new[] { Returns, Distances }) b.Clear();
        Episode.Clear();
        var bits = Philox.Draw(seed, Philox.Stream(RandomStreams.EnvReset, epoch), 0);
        _env.StreamBase = trialBase;
        _env.StreamPeriod = 0;
        _env.Reset(bits.X | ((ulong)bits.Y << 32));
        for (int t = 0; t < s.Steps; t++)
        {
            _device.Launch(s.Trials, new TrialObserveKernel<TF>
            {
                EnvObs = _env.Observations.View<TF>(), Raw = Raw.View<TF>(), X = _policy.X.View<TF>(),
                Sum = NormSum.View<TF>(), Sum2 = NormSum2.View<TF>(), Count = NormCount.View<TF>(), Norm = _norm, S = _shape, Step = t,
            });
            _policy.Step(p, t);
            _device.Launch(s.Trials, new GaussianSampleKernel<TF>
            {
                Mean = _policy.MeanStep.View<TF>(), LogStd = p.View<TF>(), Actions = Sampled.View<TF>(), Rows = 1, Act = s.Act,
                LogStdStride = 0, LogStdOffset = s.LogStd, Seed = seed, Epoch = epoch, LearnerBase = trialBase, Step = t,
            });
            _env.Step(Sampled);
            _device.Launch(s.Trials, new TrialRecordKernel<TF, TI>
            {
                Sampled = Sampled.View<TF>(), Rewards = _env.Rewards.View<TF>(), Dones = _env.Dones.View<TF>(),
                LastReturns = _env.LastReturns.View<TF>(), LastDistances = _env.LastDistances.View<TF>(),
                Actions = Actions.View<TF>(), Outcome = Outcome.View<TF>(), X = _policy.X.View<TF>(),
                Returns = Returns.View<TF>(), Distances = Distances.View<TF>(), Episode = Episode.View<TI>(), S = _shape, Step = t,
            });
            if (observer is not null)
            {
                _device.Synchronize();
                observer.OnStep(t, _env.Dones.ToArray(), _env.LastReturns.ToArray(), _env.LastDistances.ToArray(), _env.Positions.ToArray());
            }
        }
        _device.Synchronize();
    }

    /// <summary>The running statistics take in every observation of the last <see cref="Run"/> (B x T rows).</summary>
    public void UpdateNormalizer()
    {
        int rows = _shape.Trials * _shape.Steps;
        _device.Launch(_norm.Dim, new NormalizerUpdateKernel<TF>
        {
            X = Raw.View<TF>(), Sum = NormSum.View<TF>(), Sum2 = NormSum2.View<TF>(), Count = NormCount.View<TF>(), S = _norm,
            XRows = rows, Row0 = 0, Rows = rows, XStride = _norm.Dim, XOffset = 0,
        });
    }

    public void Dispose()
    {
        foreach (var b in new[] { NormSum, NormSum2, NormCount, Raw, Sampled, Actions, Outcome, Returns, Distances }) b.Dispose();
        Episode.Dispose();
    }
}
