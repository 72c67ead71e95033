using EpgFast.Backends;
using EpgFast.Kernels.Tasks;

namespace EpgFast.Tasks;

/// <summary>
/// A batch of <see cref="Envs"/> environments of one task, stepped together on <see cref="Device"/>:
/// the API the EPG learner loop drives. Every buffer lives on <see cref="Device"/>; no call copies
/// to the host except <see cref="IEnvBatch.SetTargets"/>/<see cref="IEnvBatch.SampleTargets"/>.
/// <para>
/// Protocol: <see cref="Reset"/> once (starts episode 0 everywhere and fills
/// <see cref="Observations"/>), then <see cref="Step"/> repeatedly. Episodes restart by
/// themselves: where <see cref="Dones"/>[e] = 1 the episode ended at this step, its reward is in
/// <see cref="Rewards"/>[e], and <see cref="Observations"/> row e already holds the first
/// observation of the next episode. Results are a pure function of (reset seed, targets,
/// actions), whatever the thread count.
/// </para>
/// </summary>
public interface IEnvBatch : IDisposable
{
    /// <summary>The task's name (ant, goal-ant, point-goal).</summary>
    string Name { get; }

    Device Device { get; }

    int Envs { get; }

    /// <summary>Observation width.</summary>
    int ObsDim { get; }

    /// <summary>Action width; actions are clamped to [-1, 1] (the Ant's ctrlrange).</summary>
    int ActDim { get; }

    /// <summary>Episode length cap (steps).</summary>
    int MaxEpisodeSteps { get; }

    /// <summary>Seconds of simulated time per env step.</summary>
    double ControlDt { get; }

    /// <summary>obs: (Envs, ObsDim), after the last Reset/Step</summary>
    DeviceBuffer<float> Observations { get; }

    /// <summary>rewards: (Envs), of the last step</summary>
    DeviceBuffer<float> Rewards { get; }

    /// <summary>dones: (Envs), 1 where the last step ended the episode (terminated or truncated), else 0</summary>
    DeviceBuffer<float> Dones { get; }

    /// <summary>terminals: (Envs), 1 where the episode ended by the task's termination rule (not by the time cap)</summary>
    DeviceBuffer<float> Terminals { get; }

    /// <summary>positions: (Envs, 2), torso (or point) xy reached by the last step, before any reset: record it every step for path plots</summary>
    DeviceBuffer<float> Positions { get; }

    /// <summary>targets: (Envs, 2), goal xy per env (zeros for tasks without goals)</summary>
    DeviceBuffer<float> Targets { get; }

    /// <summary>episodeReturns: (Envs), running return of the episode in progress</summary>
    DeviceBuffer<float> EpisodeReturns { get; }

    /// <summary>lastReturns: (Envs), return of the last finished episode (0 before the first)</summary>
    DeviceBuffer<float> LastReturns { get; }

    /// <summary>lastDistances: (Envs), goal tasks: distance to the target when the last episode ended; ant: x travelled in it</summary>
    DeviceBuffer<float> LastDistances { get; }

    /// <summary>lastLengths: (Envs), steps of the last finished episode</summary>
    DeviceBuffer<int> LastLengths { get; }

    /// <summary>finishedEpisodes: (Envs), episodes finished since Reset</summary>
    DeviceBuffer<int> FinishedEpisodes { get; }

    /// <summary>Sets every env's goal: xy (Envs, 2). Takes effect from the next step.</summary>
    void SetTargets(ReadOnlySpan<float> xy);

    /// <summary>
    /// Sets env e's goal to <see cref="GoalTargets.Sample"/>(seed, taskIds[e], region) with the
    /// task's radius range; region defaults to the task's configured one.
    /// </summary>
    void SampleTargets(ulong seed, ReadOnlySpan<int> taskIds, GoalRegion? region = null);

    /// <summary>
    /// Reset-noise streams: env e draws from stream id StreamBase + e, taken mod StreamPeriod when that
    /// is &gt; 0 (see Philox.LearnerStream). Defaults 0, 0: env e uses stream e. Read at Reset.
    /// </summary>
    int StreamBase { get; set; }

    /// <summary>
    /// The reset-noise streams' period (0: none). LearnerBatch sets it to its learners per ES member under
    /// common random numbers, so the same learner of every member meets the same reset noise.
    /// </summary>
    int StreamPeriod { get; set; }

    /// <summary>Starts episode 0 of every env with reset noise keyed by <paramref name="seed"/>; fills Observations.</summary>
    void Reset(ulong seed);

    /// <summary>Applies actions: (Envs, ActDim) on <see cref="Device"/>, advances one env step, fills the outputs.</summary>
    void Step(DeviceBuffer<float> actions);
}

/// <summary>Host-side helpers for goal targets.</summary>
public static class GoalTasks
{
    /// <summary>targets: (taskIds.Length, 2) from <see cref="GoalTargets.Sample"/>.</summary>
    public static float[] Targets(ulong seed, ReadOnlySpan<int> taskIds, GoalRegion region, float radiusMin, float radiusMax)
    {
        var xy = new float[2 * taskIds.Length];
        for (int i = 0; i < taskIds.Length; i++)
            GoalTargets.Sample(seed, (uint)taskIds[i], region, radiusMin, radiusMax, out xy[2 * i], out xy[2 * i + 1]);
        return xy;
    }

    /// <summary>Parses left, right or full.</summary>
    public static GoalRegion ParseRegion(string name) => name.Trim().ToLowerInvariant() switch
    {
        "right" => GoalRegion.Right,
        "left" => GoalRegion.Left,
        "full" or "all" => GoalRegion.Full,
        _ => throw new EpgException($"targets must be left, right or full (got '{name}')", 2),
    };
}
