using EpgFast.Backends;
using EpgFast.Kernels.Tasks;

namespace EpgFast.Tasks;

/// <summary>
/// An Ant task on any physics engine: Ant-v4 forward walking (<see cref="AntForward"/>) or
/// GoalAnt (<see cref="GoalAnt"/>). Formulas: see <see cref="AntStepKernel{TF, TI}"/>.
/// </summary>
public sealed record AntTaskConfig
{
    public AntObjective Objective { get; init; } = AntObjective.Forward;

    /// <summary>Physics steps per env step (control dt = timestep x FrameSkip = 0.05 s for the Ant).</summary>
    public int FrameSkip { get; init; } = 5;

    /// <summary>w in the control cost w * sum(a^2) (a clamped to [-1, 1]).</summary>
    public float CtrlCostWeight { get; init; } = 0.5f;

    public float HealthyReward { get; init; } = 1f;

    public float HealthyZMin { get; init; } = 0.2f;

    public float HealthyZMax { get; init; } = 1.0f;

    public bool TerminateWhenUnhealthy { get; init; } = true;

    /// <summary>Episode cap in env steps.</summary>
    public int MaxSteps { get; init; } = 1000;

    /// <summary>Whether the observation includes the torso x, y (qpos[0:2]).</summary>
    public bool ObserveXY { get; init; }

    public float ResetQposNoise { get; init; } = 0.1f;

    public float ResetQvelNoise { get; init; } = 0.1f;

    public GoalReward GoalReward { get; init; } = GoalReward.Progress;

    /// <summary>Where goal targets are sampled by default.</summary>
    public GoalRegion Region { get; init; } = GoalRegion.Right;

    public float RadiusMin { get; init; } = 1f;

    public float RadiusMax { get; init; } = 3f;

    /// <summary>
    /// GoalAnt: 0 (off) or the distance (m) within which the episode ends as reached, paying the healthy
    /// reward for the steps left to <see cref="MaxSteps"/> (see <see cref="AntStepKernel{TF, TI}"/>).
    /// </summary>
    public float ReachRadius { get; init; }

    /// <summary>Ant-v4: obs qpos[2:] ++ qvel (27), r = v_x + 1 - 0.5 |a|^2, terminated unless 0.2 &lt;= z &lt;= 1, 1000 steps.</summary>
    public static AntTaskConfig AntForward { get; } = new();

    /// <summary>
    /// GoalAnt, the project's definition (name reach; chosen by the GoalAnt study in docs/goalant-study, where PPO from
    /// scratch walks to its targets within 1M steps of life on MuJoCo): Ant-v4's reward shape with progress toward the
    /// target in place of forward velocity, r = (d - d') / 0.05 + 1 - 0.5 |a|^2 with d the torso's xy distance to the
    /// target before and after the step; Ant-v4's termination (z outside [0.2, 1]); the episode also ends as reached
    /// when d' &lt;= 0.5 m, that step paying the healthy reward for the steps left; 1000 steps (50 s); targets at radius
    /// U[3, 5] m, in the right half-plane for meta-training. obs qpos ++ qvel (29, the torso x, y included; the target
    /// is never observed).
    /// </summary>
    public static AntTaskConfig GoalAntReach { get; } = new()
    {
        Objective = AntObjective.Goal,
        ObserveXY = true,
        RadiusMin = 3f,
        RadiusMax = 5f,
        ReachRadius = 0.5f,
    };

    /// <summary>
    /// GoalAnt, the project's first definition (name progress): r = (d - d') / 0.05 - 0.05 |a|^2; no healthy reward and
    /// no termination except a non-finite state; 200 steps (10 s); targets at radius U[1, 3] m. PPO from scratch does
    /// not learn it (docs/goalant-study).
    /// </summary>
    public static AntTaskConfig GoalAntProgress { get; } = new()
    {
        Objective = AntObjective.Goal,
        CtrlCostWeight = 0.05f,
        HealthyReward = 0f,
        TerminateWhenUnhealthy = false,
        MaxSteps = 200,
        ObserveXY = true,
    };

    /// <summary>
    /// GoalAnt with the meta-RL literature's Ant-goal reward (name distance-survive; negative distance, as MAML's,
    /// ProMP's and PEARL's Ant goal tasks; Euclidean here, L1 there) and MAML's "happy, not suicidal" survive bonus
    /// with Ant-v4's termination: r = -d' + 4 - 0.05 |a|^2, terminated unless 0.2 &lt;= z &lt;= 1 (the bonus is paid on
    /// every step, so with d' &lt;= 4 living always pays more than ending); 200 steps; observation, targets and control
    /// cost as <see cref="GoalAntProgress"/>.
    /// </summary>
    public static AntTaskConfig GoalAntDistanceSurvive { get; } = GoalAntProgress with
    {
        GoalReward = GoalReward.NegativeDistance,
        HealthyReward = 4f,
        TerminateWhenUnhealthy = true,
    };

    /// <summary>GoalAnt's default definition: <see cref="GoalAntReach"/>.</summary>
    public static AntTaskConfig GoalAnt => GoalAntReach;

    /// <summary>The names <see cref="GoalAntDefinition"/> knows; the first is the default.</summary>
    public static readonly string[] GoalAntDefinitions = ["reach", "progress", "distance-survive"];

    /// <summary>
    /// A GoalAnt definition by name (config field goal_ant): reach (<see cref="GoalAntReach"/>, the default),
    /// progress (<see cref="GoalAntProgress"/>), distance-survive (<see cref="GoalAntDistanceSurvive"/>).
    /// </summary>
    public static AntTaskConfig GoalAntDefinition(string name) => name.Trim().ToLowerInvariant() switch
    {
        "reach" => GoalAntReach,
        "progress" => GoalAntProgress,
        "distance-survive" => GoalAntDistanceSurvive,
        _ => throw new EpgException($"goal_ant must be one of {string.Join(", ", GoalAntDefinitions)} (got '{name}')", 2),
    };

    /// <summary>The task's reward and episode end in one line, e.g. for reports.</summary>
    public string Summary()
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        string gain = Objective == AntObjective.Forward ? "v_x" : GoalReward == GoalReward.Progress ? "(d - d') / dt" : "-d'";
        string reward = string.Format(inv, "r = {0}{1} - {2} sum(a^2)", gain, HealthyReward != 0 ? string.Format(inv, " + {0}", HealthyReward) : "", CtrlCostWeight);
        var ends = new List<string> { $"after {MaxSteps} steps" };
        if (TerminateWhenUnhealthy) ends.Add(string.Format(inv, "when the torso z leaves [{0}, {1}]", HealthyZMin, HealthyZMax));
        if (Objective == AntObjective.Goal && ReachRadius > 0) ends.Add(string.Format(inv, "as reached within {0} m of the target", ReachRadius));
        return $"{reward}; an episode ends {string.Join(", ", ends)}";
    }

    /// <summary>GoalAnt's reward by name: progress ((d - d') / dt) or negative-distance (-d').</summary>
    public static GoalReward ParseGoalReward(string name) => name.Trim().ToLowerInvariant() switch
    {
        "progress" => GoalReward.Progress,
        "negative-distance" or "distance" => GoalReward.NegativeDistance,
        _ => throw new EpgException($"goal_ant_reward must be progress or negative-distance (got '{name}')", 2),
    };

    /// <summary>The kernels' constants for an engine with the given sizes and timestep.</summary>
    public AntTaskParams ToParams(int nq, int nv, int nu, double timestep, ulong seed)
    {
        int start = ObserveXY ? 0 : 2;
        return new AntTaskParams
        {
            Nq = nq,
            Nv = nv,
            Nu = nu,
            ObsQposStart = start,
            ObsDim = nq - start + nv,
            Objective = Objective,
            GoalReward = GoalReward,
            Dt = (float)(timestep * FrameSkip),
            CtrlCostWeight = CtrlCostWeight,
            HealthyReward = HealthyReward,
            HealthyZMin = HealthyZMin,
            HealthyZMax = HealthyZMax,
            TerminateWhenUnhealthy = TerminateWhenUnhealthy ? 1 : 0,
            MaxSteps = MaxSteps,
            ReachRadius = ReachRadius,
            CtrlLow = -1f,
            CtrlHigh = 1f,
            ResetQposNoise = ResetQposNoise,
            ResetQvelNoise = ResetQvelNoise,
            NormalizeRootQuat = 1,
            Reset = new EnvResetKey { Seed = seed },
        };
    }
}

/// <summary>
/// point-goal: a unit point mass pushed by a force toward a hidden goal (see
/// <see cref="PointGoalStepKernel{TF, TI}"/>). obs (px, py, vx, vy), action (fx, fy) in [-1, 1]^2.
/// </summary>
public sealed record PointGoalConfig
{
    public float Dt { get; init; } = 0.1f;

    public float ForceScale { get; init; } = 1f;

    public float Damping { get; init; } = 1f;

    public float CtrlCostWeight { get; init; } = 0.01f;

    public GoalReward GoalReward { get; init; } = GoalReward.Progress;

    public int MaxSteps { get; init; } = 50;

    public float ResetNoise { get; init; } = 0.1f;

    public GoalRegion Region { get; init; } = GoalRegion.Right;

    public float RadiusMin { get; init; } = 0.5f;

    public float RadiusMax { get; init; } = 1.5f;

    public PointGoalParams ToParams(ulong seed) => new()
    {
        Dt = Dt,
        ForceScale = ForceScale,
        Damping = Damping,
        CtrlCostWeight = CtrlCostWeight,
        GoalReward = GoalReward,
        MaxSteps = MaxSteps,
        ResetNoise = ResetNoise,
        Reset = new EnvResetKey { Seed = seed },
    };
}
