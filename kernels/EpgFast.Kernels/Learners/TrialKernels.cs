using EpgFast.Kernels.Launch;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;

namespace EpgFast.Kernels.Learners;

// RL^2 trials: B trials in lockstep, each T steps of one task (K episodes), recorded step by step into
// (Trials, Steps, ...) buffers that the PPO-over-trials update reads.

/// <summary>Sizes of a batch of RL^2 trials.</summary>
public struct TrialShape
{
    /// <summary>B: trials in lockstep.</summary>
    public int Trials;
    /// <summary>T: steps per trial.</summary>
    public int Steps;
    /// <summary>K: episodes per trial (the slots of the per-episode records).</summary>
    public int Episodes;
    public int Obs;
    public int Act;

    /// <summary>The GRU's input width: observation, previous action, previous reward, previous done flag.</summary>
    public readonly int In => Obs + Act + 2;
}

/// <summary>
/// Before step <see cref="Step"/>: keeps the env's raw observation and writes its normalized copy (shared running
/// statistics, frozen during the trial) into the first Obs columns of the GRU input row t. One work item per trial.
/// </summary>
public struct TrialObserveKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>obs: (Trials, Obs), the env's observations</summary>
    public TF EnvObs;
    /// <summary>raw: (Trials, Steps, Obs), row t written</summary>
    public TF Raw;
    /// <summary>x: (Trials, Steps, In), columns [0, Obs) of row t written</summary>
    public TF X;
    /// <summary>sum, sum2: (Obs); count: (1): the running statistics (one learner of the normalizer's shape)</summary>
    public TF Sum;
    public TF Sum2;
    public TF Count;
    public NormalizerShape Norm;
    public TrialShape S;
    public int Step;

    public readonly void Execute(int b)
    {
        TF raw = Raw, x = X;
        int row = b * S.Steps + Step;
        for (int c = 0; c < S.Obs; c++)
        {
            float v = EnvObs[b * S.Obs + c];
            NormalizerMath.MeanStd(Sum, Sum2, Count, Norm, 0, c, out float mean, out float std);
            raw[row * S.Obs + c] = v;
            x[row * S.In + c] = (v - mean) / std;
        }
    }
}

/// <summary>
/// After step <see cref="Step"/>'s env step: records the action as sampled (PPO's ratio needs it raw), the reward and
/// the trial-end flag (1 only at the trial's last step: GAE runs across the episodes of a trial), feeds the clamped
/// action, the reward and the done flag into the GRU input of step t + 1, and, where an episode ended, stores its
/// return and final distance in the trial's episode slot (slot K - 1 keeps the newest when more episodes end).
/// One work item per trial.
/// </summary>
public struct TrialRecordKernel<TF, TI> : IKernel where TF : struct, IView<float> where TI : struct, IView<int>
{
    /// <summary>actions: (Trials, Act), as sampled</summary>
    public TF Sampled;
    /// <summary>rewards, dones, lastReturns, lastDistances: (Trials), from the env step</summary>
    public TF Rewards;
    public TF Dones;
    public TF LastReturns;
    public TF LastDistances;
    /// <summary>actions: (Trials, Steps, Act), row t written</summary>
    public TF Actions;
    /// <summary>outcome: (Trials, Steps, 2) = (reward, trial end), row t written</summary>
    public TF Outcome;
    /// <summary>x: (Trials, Steps, In), columns [Obs, In) of row t + 1 written</summary>
    public TF X;
    /// <summary>returns, distances: (Trials, Episodes), the finished episodes' figures</summary>
    public TF Returns;
    public TF Distances;
    /// <summary>episode: (Trials), episodes finished in the trial so far</summary>
    public TI Episode;
    public TrialShape S;
    public int Step;

    public readonly void Execute(int b)
    {
        TF actions = Actions, outcome = Outcome, x = X, returns = Returns, distances = Distances;
        TI episode = Episode;
        int t = Step, row = b * S.Steps + t;
        float reward = Rewards[b], done = Dones[b];
        for (int a = 0; a < S.Act; a++) actions[row * S.Act + a] = Sampled[b * S.Act + a];
        outcome[2 * row] = reward;
        outcome[2 * row + 1] = t == S.Steps - 1 ? 1f : 0f;
        if (t + 1 < S.Steps)
        {
            int next = (row + 1) * S.In + S.Obs;
            for (int a = 0; a < S.Act; a++)
            {
                float v = Sampled[b * S.Act + a];
                x[next + a] = v < -1f ? -1f : (v > 1f ? 1f : v);
            }
            x[next + S.Act] = reward;
            x[next + S.Act + 1] = done;
        }
        if (done != 0f)
        {
            int e = episode[b];
            int slot = b * S.Episodes + (e < S.Episodes ? e : S.Episodes - 1);
            returns[slot] = LastReturns[b];
            distances[slot] = LastDistances[b];
            episode[b] = e + 1;
        }
    }
}
