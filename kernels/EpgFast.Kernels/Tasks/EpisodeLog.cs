using System.Runtime.CompilerServices;
using EpgFast.Kernels.Memory;

namespace EpgFast.Kernels.Tasks;

/// <summary>
/// The episode bookkeeping every task kernel keeps per environment (views over Envs rows): this
/// step's outputs, the running episode, and the last finished one. Written once here and used by
/// the Ant and point-goal kernels alike.
/// </summary>
public struct EpisodeLog<TF, TI>
    where TF : struct, IView<float>
    where TI : struct, IView<int>
{
    /// <summary>rewards: (Envs), of this step</summary>
    public TF Rewards;
    /// <summary>dones: (Envs), 1 when the episode ended at this step (terminated or truncated)</summary>
    public TF Dones;
    /// <summary>positions: (Envs, 2), torso (or point) xy reached by the step (before any reset)</summary>
    public TF Positions;
    /// <summary>episodeReturn: (Envs), running return of the current episode</summary>
    public TF EpisodeReturn;
    /// <summary>lastReturn: (Envs), return of the last finished episode</summary>
    public TF LastReturn;
    /// <summary>lastDistance: (Envs), goal tasks: distance to the target at the last episode's end; Ant forward: x travelled in it</summary>
    public TF LastDistance;
    /// <summary>steps: (Envs), env steps taken in the current episode</summary>
    public TI Steps;
    /// <summary>episodes: (Envs), index of the current episode (keys its reset noise)</summary>
    public TI Episodes;
    /// <summary>lastLength: (Envs), length of the last finished episode</summary>
    public TI LastLength;
    /// <summary>finished: (Envs), episodes finished since Reset</summary>
    public TI Finished;

    /// <summary>Episode 0 of env <paramref name="e"/>: no episode finished yet, no reward, not done.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Clear(int e)
    {
        TI episodes = Episodes, finished = Finished, lastLength = LastLength;
        TF lastReturn = LastReturn, lastDistance = LastDistance, rewards = Rewards, dones = Dones;
        episodes[e] = 0;
        finished[e] = 0;
        lastLength[e] = 0;
        lastReturn[e] = 0f;
        lastDistance[e] = 0f;
        rewards[e] = 0f;
        dones[e] = 0f;
    }

    /// <summary>A new episode of env <paramref name="e"/> starts: no steps, no return yet.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void BeginEpisode(int e)
    {
        TI steps = Steps;
        TF ret = EpisodeReturn;
        steps[e] = 0;
        ret[e] = 0f;
    }

    /// <summary>Writes the position (x, y) of env <paramref name="e"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void SetPosition(int e, float x, float y)
    {
        TF positions = Positions;
        positions[2 * e] = x;
        positions[2 * e + 1] = y;
    }

    /// <summary>Counts one more step of env <paramref name="e"/>'s episode; returns the steps so far.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly int CountStep(int e)
    {
        TI steps = Steps;
        int n = steps[e] + 1;
        steps[e] = n;
        return n;
    }

    /// <summary>
    /// Records the outcome of env <paramref name="e"/>'s step: reward, done flag and position;
    /// returns the episode's return so far.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly float Record(int e, float reward, int done, float x, float y)
    {
        TF ret = EpisodeReturn, rewards = Rewards, dones = Dones;
        float total = ret[e] + reward;
        ret[e] = total;
        rewards[e] = reward;
        dones[e] = done;
        SetPosition(e, x, y);
        return total;
    }

    /// <summary>The episode of env <paramref name="e"/> ended: keeps its return, length and distance, and counts it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Finish(int e, float total, int n, float distance)
    {
        TF lastReturn = LastReturn, lastDistance = LastDistance;
        TI lastLength = LastLength, finished = Finished, episodes = Episodes;
        lastReturn[e] = total;
        lastLength[e] = n;
        lastDistance[e] = distance;
        finished[e] = finished[e] + 1;
        episodes[e] = episodes[e] + 1;
    }
}
