using EpgFast.Backends;
using EpgFast.MuJoCo;
using EpgFast.Physics;

namespace EpgFast.Tasks;

/// <summary>The tasks an env batch can run.</summary>
public enum EnvKind
{
    /// <summary>point-goal: a point mass reaching a hidden goal (no physics engine).</summary>
    PointGoal,
    /// <summary>ant: Ant-v4 forward walking.</summary>
    Ant,
    /// <summary>goal-ant: the Ant walking to a hidden target.</summary>
    GoalAnt,
}

/// <summary>Everything that picks an env batch (besides the device and the number of envs).</summary>
public sealed record EnvSpec
{
    public EnvKind Kind { get; init; } = EnvKind.GoalAnt;

    /// <summary>Physics engine for the Ant tasks.</summary>
    public EngineKind Engine { get; init; } = EngineKind.MuJoCo;

    /// <summary>MJCF for the Ant tasks (null: the project's native/models/ant.xml).</summary>
    public string? ModelPath { get; init; }

    public EngineOptions? Physics { get; init; }

    /// <summary>Task constants for ant / goal-ant (null: <see cref="AntTaskConfig.AntForward"/> / <see cref="AntTaskConfig.GoalAnt"/>).</summary>
    public AntTaskConfig? Ant { get; init; }

    public PointGoalConfig? PointGoal { get; init; }

    /// <summary>The Ant task's constants: <see cref="Ant"/>, else the kind's default.</summary>
    public AntTaskConfig AntTask => Ant ?? (Kind == EnvKind.Ant ? AntTaskConfig.AntForward : AntTaskConfig.GoalAnt);

    /// <summary>point-goal's constants: <see cref="PointGoal"/>, else the defaults.</summary>
    public PointGoalConfig PointGoalTask => PointGoal ?? new PointGoalConfig();

    /// <summary>Steps of one episode (the cap) of the task.</summary>
    public int EpisodeSteps => Kind == EnvKind.PointGoal ? PointGoalTask.MaxSteps : AntTask.MaxSteps;

    /// <summary>The targets' distance range from the start, in metres.</summary>
    public (float Min, float Max) TargetRadius => Kind == EnvKind.PointGoal
        ? (PointGoalTask.RadiusMin, PointGoalTask.RadiusMax)
        : (AntTask.RadiusMin, AntTask.RadiusMax);
}

/// <summary>Opens env batches by name (--env point-goal | ant | goal-ant).</summary>
public static class EnvFactory
{
    public static EnvKind Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "point-goal" or "pointgoal" => EnvKind.PointGoal,
        "ant" or "ant-forward" => EnvKind.Ant,
        "goal-ant" or "goalant" => EnvKind.GoalAnt,
        _ => throw new EpgException($"--env must be point-goal, ant or goal-ant (got '{name}')", 2),
    };

    public static string Name(EnvKind kind) => kind switch
    {
        EnvKind.PointGoal => "point-goal",
        EnvKind.Ant => "ant",
        _ => "goal-ant",
    };

    /// <summary>An env batch of <paramref name="envs"/> environments on <paramref name="device"/> (Reset it before stepping).</summary>
    public static IEnvBatch Create(EnvSpec spec, Device device, int envs)
    {
        if (spec.Kind == EnvKind.PointGoal)
            return new PointGoalEnvBatch(device, envs, spec.PointGoal);
        var config = spec.AntTask;
        var physics = PhysicsFactory.Create(spec.Engine, device, spec.ModelPath ?? MuJoCoModels.AntPath, envs, spec.Physics);
        try
        {
            return new AntEnvBatch(physics, config);
        }
        catch
        {
            physics.Dispose();
            throw;
        }
    }
}
