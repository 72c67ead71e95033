using EpgFast.Backends;
using EpgFast.Diagnostics;
using EpgFast.Kernels.Learners;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Random;
using EpgFast.Networks;
using EpgFast.Tasks;

namespace EpgFast.Learners;

/// <summary>What one lifetime of the learner batch produced.</summary>
/// <param name="Fitness">(Learners): mean return of the last F finished episodes; NaN = quarantined</param>
/// <param name="Quarantined">learners quarantined for non-finite numbers</param>
/// <param name="SkippedSteps">Adam steps skipped for non-finite gradients, summed over learners</param>
/// <param name="Steps">learner steps taken (learners x lifetime)</param>
/// <param name="Seconds">wall time of the lifetime</param>
/// <param name="UpdateSeconds">the part of it spent in updates (the rest: acting and env steps)</param>
public sealed record LifetimeResult(float[] Fitness, int Quarantined, long SkippedSteps, long Steps, double Seconds, double UpdateSeconds);

/// <summary>Per-step observations of a lifetime, for `epg eval` curves and path plots.</summary>
public interface ILifetimeObserver
{
    /// <summary>Called after every env step with host copies: dones (L), last returns (L), last distances (L), positions (L, 2).</summary>
    void OnStep(int step, float[] dones, float[] lastReturns, float[] lastDistances, float[] positions);
}

/// <summary>
/// L learners in lockstep, each with its own environment, policy, Adam state, normalizer and
/// N-step buffer: the EPG inner loop. <see cref="RunLifetime"/> reads top to bottom:
/// for each of the K update windows, act M steps (normalize, policy, sample, env step, record),
/// then update on minibatches of the newest M steps against (1 - alpha) L_phi + alpha L_PPO.
/// The N-row buffer is one array: acting writes raw rows at its last M rows; the update normalizes them in place
/// (and moves the older rows to the new statistics), then moves every row up by M for the next window.
/// Learner l belongs to ES member l / LearnersPerMember and uses that member's row of phi.
/// Every random number is keyed by (seed, epoch, learner, step), so a lifetime is a pure
/// function of its arguments on a given backend.
/// </summary>
public sealed class LearnerBatch<TF, TI> : ILearnerBatch where TF : struct, IView<float> where TI : struct, IView<int>
{
    private readonly Device _device;
    private readonly IEnvBatch _env;
    private readonly LearnerLayout _layout;
    private readonly ExperienceShape _shape;
    private readonly int _updates;
    private readonly int _passes;
    private readonly int _learnersPerMember;

    private readonly PolicyBatch<TF> _actor;             // the policy on one row per learner, for acting
    private readonly LearnerGradient<TF, TI> _gradient;  // the update: loss network, PPO, policy backward
    private readonly AdamBatch<TF, TI> _adam;
    private readonly RunningNormalizer<TF> _normalizer;
    private readonly TrajectoryBuffer<TF> _traj;         // the N-row experience buffer the loss network reads

    private readonly DeviceBuffer<float> _p;             // p: (L, Stride) learner parameters
    private readonly DeviceBuffer<float> _obsNorm;       // obsNorm: (L, Obs) normalized observation to act on
    private readonly DeviceBuffer<float> _actions;       // actions: (L, Act) sampled
    private readonly DeviceBuffer<float> _episodeReturns; // (L, F) fitness ring
    private readonly DeviceBuffer<int> _finished;        // (L)
    private readonly DeviceBuffer<int> _episodeStep;     // (L)
    private readonly DeviceBuffer<int> _quarantined;     // (L)
    private readonly DeviceBuffer<float> _fitness;       // (L)

    public LearnerBatch(Device device, IEnvBatch env, NetworkConfig networks, int updates, int passesPerUpdate,
        int learnersPerMember, int fitnessEpisodes)
    {
        if (networks.BufferRows % networks.ActSteps != 0)
            throw new EpgException($"buffer rows ({networks.BufferRows}) must be a multiple of act steps ({networks.ActSteps})", 2);
        _device = device;
        _env = env;
        _layout = new LearnerLayout(networks);
        _updates = updates;
        _passes = passesPerUpdate;
        _learnersPerMember = learnersPerMember;
        int l = env.Envs, c = networks.TrajDim;
        Learners = l;
        _shape = new ExperienceShape
        {
            Learners = l, Obs = networks.Obs, Act = networks.Act, Aux = networks.Aux, Extra = networks.Extra, TrajDim = c,
            BufferRows = networks.BufferRows, ActSteps = networks.ActSteps, Lifetime = networks.ActSteps * updates,
            EpisodeSteps = Math.Max(1, env.MaxEpisodeSteps), FitnessEpisodes = fitnessEpisodes,
        };
        var bytes = new DeviceBytes(device);
        _actor = new PolicyBatch<TF>(device, _layout, l, 1);
        bytes.Mark("policy (acting)");
        _gradient = new LearnerGradient<TF, TI>(device, _layout, l, learnersPerMember);
        bytes.Mark(_gradient.BytesByPart);
        _adam = new AdamBatch<TF, TI>(device, _layout, l);
        bytes.Mark("adam");
        _normalizer = new RunningNormalizer<TF>(device, networks, l);
        bytes.Mark("normalizer");
        _p = device.Allocate<float>(l * _layout.Stride);
        bytes.Mark("parameters");
        _traj = new TrajectoryBuffer<TF>(device, networks, l);
        bytes.Mark("buffer (N rows)");
        _obsNorm = device.Allocate<float>(l * networks.Obs);
        _actions = device.Allocate<float>(l * networks.Act);
        _episodeReturns = device.Allocate<float>(l * fitnessEpisodes);
        _finished = device.Allocate<int>(l);
        _episodeStep = device.Allocate<int>(l);
        _quarantined = device.Allocate<int>(l);
        _fitness = device.Allocate<float>(l);
        bytes.Mark("acting and episode bookkeeping");
        BytesByPart = bytes.Parts;
    }

    /// <summary>Device bytes the batch allocated, by part (all learners; the env's own buffers are not included).</summary>
    public IReadOnlyList<(string Part, long Bytes)> BytesByPart { get; }

    public int Learners { get; }

    public int Lifetime => _shape.Lifetime;

    /// <summary>
    /// Common random numbers: when set, learners LearnersPerMember apart (the same learner of different ES members)
    /// share their initial weights, action noise, minibatch order and env reset noise, so every member's learners
    /// meet the same tasks with the same luck (training); off (evaluation) keeps every learner's draws distinct.
    /// </summary>
    public bool CommonRandomNumbers { get; set; }

    public float LearningRate
    {
        get => _adam.LearningRate;
        set => _adam.LearningRate = value;
    }

    /// <summary>The random streams' period the kernels take: learner stream ids are taken mod this when &gt; 0.</summary>
    private int StreamPeriod => CommonRandomNumbers ? _learnersPerMember : 0;

    public LearnerLayout Layout => _layout;

    /// <summary>When set, every phase of the lifetime waits for the device and books its time here (profiling only).</summary>
    public PhaseTimer? Profile
    {
        get => _gradient.Profile;
        set => _gradient.Profile = value;
    }

    /// <summary>
    /// Trains every learner from scratch for one lifetime of K x M steps and returns its fitness.
    /// </summary>
    /// <param name="phi">(Members, PhiSize): each member's loss parameters</param>
    /// <param name="alpha">PPO's weight in the total loss (0: the evolved loss alone)</param>
    /// <param name="seed">run seed</param>
    /// <param name="epoch">the ES epoch (part of every random stream's key)</param>
    /// <param name="learnerBase">global index of learner 0 (keeps streams distinct across batches)</param>
    /// <param name="observer">optional per-step observer (copies to the host every step: eval only)</param>
    public LifetimeResult RunLifetime(DeviceBuffer<float> phi, float alpha, ulong seed, uint epoch, int learnerBase,
        ILifetimeObserver? observer = null)
    {
        _gradient.CheckAlpha(alpha);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var n = _layout.Config;
        BeginLife(seed, epoch, learnerBase);

        int step = 0;
        double updateSeconds = 0;
        var prof = Profile;
        prof?.Restart();
        for (int update = 0; update < _updates; update++)
        {
            // ---- act M steps ------------------------------------------------------------------
            for (int t = 0; t < n.ActSteps; t++, step++)
            {
                _normalizer.Normalize(_env.Observations, n.Obs, 0, _obsNorm, n.Obs, 0, rows: 1, cols: n.Obs);
                _actor.Forward(_p, _obsNorm, rows: 1, obsStride: n.Obs);
                prof?.Mark("act: normalize + policy");
                _actor.Sample(_p, _actions, seed, epoch, learnerBase, step, StreamPeriod);
                _device.Launch(Learners, new RecordActionKernel<TF>
                {
                    Obs = _env.Observations.View<TF>(), Actions = _actions.View<TF>(), Traj = _traj.Rows.View<TF>(), S = _shape, Step = step,
                });
                _gradient.Ppo?.RecordAction(_actions, step);
                prof?.Mark("act: sample + record");
                _env.Step(_actions);
                prof?.Mark("env step (physics, task)");
                _device.Launch(Learners, new RecordOutcomeKernel<TF, TI>
                {
                    Rewards = _env.Rewards.View<TF>(), Dones = _env.Dones.View<TF>(), LastReturns = _env.LastReturns.View<TF>(),
                    Traj = _traj.Rows.View<TF>(),
                    EpisodeReturns = _episodeReturns.View<TF>(), Finished = _finished.View<TI>(), EpisodeStep = _episodeStep.View<TI>(),
                    S = _shape, Step = step,
                });
                prof?.Mark("act: record outcome");
                if (observer is not null) Observe(observer, step);
            }

            // ---- update on the newest M steps ------------------------------------------------
            _device.Synchronize();
            long updateStart = System.Diagnostics.Stopwatch.GetTimestamp();
            _traj.Advance(_normalizer, n.ActSteps, step);
            prof?.Mark("update: normalize buffer");
            _gradient.BeginUpdate(_p, _traj.Rows);
            for (int pass = 0; pass < _passes; pass++)
            {
                _gradient.Shuffle(seed, epoch, learnerBase, (long)update * _passes + pass, StreamPeriod);
                for (int k = 0; k < n.ActSteps / n.Minibatch; k++)
                {
                    _gradient.Minibatch(k, _p, phi, _traj.Rows, alpha);
                    _adam.Step(_p, _gradient.G);
                    prof?.Mark("update: adam");
                }
            }
            _traj.Shift(n.ActSteps);  // room for the next window's raw rows
            _device.Launch(Learners, new QuarantineKernel<TF, TI> { P = _p.View<TF>(), Quarantined = _quarantined.View<TI>(), Stride = _layout.Stride });
            _device.Synchronize();
            prof?.Mark("update: shift buffer, quarantine");
            updateSeconds += System.Diagnostics.Stopwatch.GetElapsedTime(updateStart).TotalSeconds;
        }

        return EndLife(step, clock.Elapsed.TotalSeconds, updateSeconds);
    }

    /// <summary>Fresh parameters, optimizer, normalizer, buffers and episodes for every learner.</summary>
    private void BeginLife(ulong seed, uint epoch, int learnerBase)
    {
        LearnerInit.Initialize<TF>(_device, _layout, Learners, _p, seed, epoch, learnerBase, StreamPeriod);
        _gradient.Memory.BeginLife(seed, epoch, learnerBase, StreamPeriod);
        _adam.Reset();
        _normalizer.Reset();
        _traj.Clear();
        foreach (var b in new[] { _episodeReturns, _fitness }) b.Clear();
        foreach (var b in new[] { _finished, _episodeStep, _quarantined }) b.Clear();
        // The envs' reset noise: a 64-bit seed of its own per (run seed, epoch); env e of this batch
        // draws from the stream of global learner learnerBase + e (mod StreamPeriod when sharing).
        var bits = Philox.Draw(seed, Philox.Stream(RandomStreams.EnvReset, epoch), 0);
        _env.StreamBase = learnerBase;
        _env.StreamPeriod = StreamPeriod;
        _env.Reset(bits.X | ((ulong)bits.Y << 32));
    }

    private LifetimeResult EndLife(int steps, double seconds, double updateSeconds)
    {
        _device.Launch(Learners, new FitnessKernel<TF, TI>
        {
            EpisodeReturns = _episodeReturns.View<TF>(), RunningReturns = _env.EpisodeReturns.View<TF>(), P = _p.View<TF>(),
            Finished = _finished.View<TI>(), Quarantined = _quarantined.View<TI>(), Fitness = _fitness.View<TF>(),
            S = _shape, Stride = _layout.Stride,
        });
        _device.Synchronize();
        float[] fitness = _fitness.ToArray();
        long skipped = _adam.Skipped.ToArray().Sum(x => (long)x);
        int quarantined = fitness.Count(f => !float.IsFinite(f));
        return new LifetimeResult(fitness, quarantined, skipped, (long)steps * Learners, seconds, updateSeconds);
    }

    private void Observe(ILifetimeObserver observer, int step)
    {
        _device.Synchronize();
        observer.OnStep(step, _env.Dones.ToArray(), _env.LastReturns.ToArray(), _env.LastDistances.ToArray(), _env.Positions.ToArray());
    }

    /// <summary>Makes learner <paramref name="learner"/>'s parameters NaN (a poisoned learner, for the quarantine test).</summary>
    internal void Poison(int learner)
    {
        var p = _p.ToArray();
        Array.Fill(p, float.NaN, learner * _layout.Stride, _layout.Stride);
        _p.CopyFrom(p);
    }

    public LearnerSnapshot Snapshot()
    {
        _device.Synchronize();
        return new LearnerSnapshot(_p.ToArray(), _normalizer.Sum.ToArray(), _normalizer.Sum2.ToArray(), _normalizer.Count.ToArray());
    }

    public void Dispose()
    {
        _actor.Dispose();
        _gradient.Dispose();
        _adam.Dispose();
        _normalizer.Dispose();
        _traj.Dispose();
        foreach (var b in new[] { _p, _obsNorm, _actions, _episodeReturns, _fitness }) b.Dispose();
        foreach (var b in new[] { _finished, _episodeStep, _quarantined }) b.Dispose();
    }
}
