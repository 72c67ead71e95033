using EpgFast.Kernels.Launch;
using EpgFast.Kernels.Memory;

namespace EpgFast.Kernels.Learners;

/// <summary>
/// Sizes shared by the experience kernels. A trajectory row is
/// [obs (Obs) | action (Act) | reward | aux | done | extra (Extra)] (TrajDim columns), the
/// layout the loss network and the normalizer read.
/// </summary>
public struct ExperienceShape
{
    public int Learners;
    public int Obs;
    public int Act;
    public int Aux;
    public int Extra;
    public int TrajDim;
    /// <summary>N: rows of the normalized trajectory buffer the update sees.</summary>
    public int BufferRows;
    /// <summary>M: steps per update window (step s of life is written raw at buffer row N - M + s % M; the update after it
    /// normalizes it in place, and each later update moves it up by M rows).</summary>
    public int ActSteps;
    /// <summary>U: steps in a lifetime (for the lifetime-progress feature).</summary>
    public int Lifetime;
    /// <summary>The task's episode cap (for the episode-progress feature).</summary>
    public int EpisodeSteps;
    /// <summary>F: finished-episode returns kept per learner for the fitness.</summary>
    public int FitnessEpisodes;

    /// <summary>Where learner l's raw row of life step <paramref name="step"/> sits in traj (Learners, N, TrajDim), in rows.</summary>
    public readonly int WindowRow(int l, int step) => l * BufferRows + BufferRows - ActSteps + step % ActSteps;
}

/// <summary>
/// Before an env step: stores the observation the policy acted on and the sampled action, raw, in the buffer row of
/// step <c>Step</c> (<see cref="ExperienceShape.WindowRow"/>). One work item per learner.
/// </summary>
public struct RecordActionKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>obs: (Learners, Obs), raw, before the step</summary>
    public TF Obs;
    /// <summary>actions: (Learners, Act), as sampled (unclamped)</summary>
    public TF Actions;
    /// <summary>traj: (Learners, N, TrajDim), written at the step's window row</summary>
    public TF Traj;
    public ExperienceShape S;
    public int Step;

    public readonly void Execute(int l)
    {
        TF window = Traj;
        int row = S.WindowRow(l, Step) * S.TrajDim;
        for (int i = 0; i < S.Obs; i++) window[row + i] = Obs[l * S.Obs + i];
        for (int a = 0; a < S.Act; a++) window[row + S.Obs + a] = Actions[l * S.Act + a];
    }
}

/// <summary>
/// After an env step: stores reward, aux (0), done and the progress features in the buffer row of
/// step <c>Step</c> (<see cref="ExperienceShape.WindowRow"/>); keeps each learner's episode step counter and the
/// returns of its last F finished episodes (the fitness). One work item per learner.
/// </summary>
public struct RecordOutcomeKernel<TF, TI> : IKernel where TF : struct, IView<float> where TI : struct, IView<int>
{
    /// <summary>rewards, dones: (Learners), of the step just taken</summary>
    public TF Rewards;
    public TF Dones;
    /// <summary>lastReturns: (Learners), the env's return of its last finished episode</summary>
    public TF LastReturns;
    /// <summary>traj: (Learners, N, TrajDim), written at the step's window row</summary>
    public TF Traj;
    /// <summary>fitness ring: (Learners, F) returns of finished episodes, slot = episode % F</summary>
    public TF EpisodeReturns;
    /// <summary>episodes finished: (Learners); episode step: (Learners), steps into the running episode</summary>
    public TI Finished;
    public TI EpisodeStep;
    public ExperienceShape S;
    public int Step;

    public readonly void Execute(int l)
    {
        TF window = Traj, er = EpisodeReturns;
        TI finished = Finished, epStep = EpisodeStep;
        float r = Rewards[l], d = Dones[l];
        int row = S.WindowRow(l, Step) * S.TrajDim + S.Obs + S.Act;
        window[row] = r;
        for (int i = 0; i < S.Aux; i++) window[row + 1 + i] = 0f;
        window[row + 1 + S.Aux] = d;
        int k = epStep[l];
        if (S.Extra > 0) window[row + 2 + S.Aux] = (float)Step / S.Lifetime;
        if (S.Extra > 1) window[row + 3 + S.Aux] = (float)k / S.EpisodeSteps;
        if (d != 0f)
        {
            int n = finished[l];
            er[l * S.FitnessEpisodes + n % S.FitnessEpisodes] = LastReturns[l];
            finished[l] = n + 1;
            epStep[l] = 0;
        }
        else
        {
            epStep[l] = k + 1;
        }
    }
}

/// <summary>
/// End of life: fitness[l] = mean return of the last min(F, finished) episodes (the running
/// episode's return when none finished); NaN when the learner is quarantined or any of its
/// parameters is not finite. One work item per learner.
/// </summary>
public struct FitnessKernel<TF, TI> : IKernel where TF : struct, IView<float> where TI : struct, IView<int>
{
    /// <summary>fitness ring: (Learners, F)</summary>
    public TF EpisodeReturns;
    /// <summary>running episode return: (Learners)</summary>
    public TF RunningReturns;
    /// <summary>p: (Learners, Stride)</summary>
    public TF P;
    public TI Finished;
    /// <summary>quarantined: (Learners), 1 once the learner went non-finite</summary>
    public TI Quarantined;
    /// <summary>fitness: (Learners), written</summary>
    public TF Fitness;
    public ExperienceShape S;
    public int Stride;

    public readonly void Execute(int l)
    {
        TF fitness = Fitness;
        int n = Finished[l];
        int k = n < S.FitnessEpisodes ? n : S.FitnessEpisodes;
        float f;
        if (k == 0)
        {
            f = RunningReturns[l];
        }
        else
        {
            float sum = 0f;
            for (int j = 0; j < k; j++) sum += EpisodeReturns[l * S.FitnessEpisodes + (n - 1 - j) % S.FitnessEpisodes];
            f = sum / k;
        }
        bool bad = Quarantined[l] != 0 || !(f - f == 0f) || !Finite.Block(P, l * Stride, Stride);
        fitness[l] = bad ? float.NaN : f;
    }
}

/// <summary>
/// Quarantine: a learner whose parameters hold a NaN or infinity is flagged, and its parameters
/// are zeroed so it keeps acting harmlessly (zero mean, unit std) until the end of its life;
/// its fitness is NaN (the worst rank). One work item per learner.
/// </summary>
public struct QuarantineKernel<TF, TI> : IKernel where TF : struct, IView<float> where TI : struct, IView<int>
{
    /// <summary>p: (Learners, Stride)</summary>
    public TF P;
    /// <summary>quarantined: (Learners)</summary>
    public TI Quarantined;
    public int Stride;

    public readonly void Execute(int l)
    {
        TF p = P;
        TI q = Quarantined;
        if (q[l] == 0 && Finite.Block(p, l * Stride, Stride)) return;
        q[l] = 1;
        for (int i = 0; i < Stride; i++) p[l * Stride + i] = 0f;
    }
}

/// <summary>Finiteness tests usable inside kernels (x - x is 0 exactly for finite x, NaN otherwise).</summary>
public static class Finite
{
    /// <summary>True when every element of v[start .. start + count) is finite.</summary>
    public static bool Block<TF>(TF v, int start, int count) where TF : struct, IView<float>
    {
        for (int i = 0; i < count; i++)
        {
            float x = v[start + i];
            if (!(x - x == 0f)) return false;
        }
        return true;
    }
}
