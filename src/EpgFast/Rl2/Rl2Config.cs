using System.Text.Json;
using System.Text.Json.Nodes;
using EpgFast.Training;

namespace EpgFast.Rl2;

/// <summary>
/// The part of a <see cref="TrainConfig"/> an RL^2 run uses (task, seed, epochs, threads and the rl2_* fields): what
/// its config.json holds, what --resume compares and what best.rl2 records. The EPG-only fields (population, sigma,
/// lifetimes ...) play no part in RL^2 and are left out.
/// </summary>
public static class Rl2Config
{
    /// <summary>The config.json keys of an RL^2 run.</summary>
    public static readonly string[] Keys =
    [
        "env", "engine", "seed", "epochs", "threads", "train_targets", "target_radius_min", "target_radius_max", "episode_steps",
        "goal_ant", "goal_ant_reward", "healthy_reward", "terminate_when_unhealthy", "ctrl_cost_weight", "reach_radius",
        "rl2_hidden", "rl2_trials", "rl2_trial_episodes", "rl2_ppo_epochs", "rl2_learning_rate", "rl2_value_coeff",
    ];

    /// <summary>The RL^2 keys of <paramref name="config"/> (null-valued optional fields left out).</summary>
    public static JsonObject Json(TrainConfig config)
    {
        var all = JsonNode.Parse(config.ToJson())!.AsObject();
        var o = new JsonObject();
        foreach (string k in Keys)
            if (all[k] is { } v) o[k] = v.DeepClone();
        return o;
    }

    /// <summary>A configuration from an RL^2 config object (the ci preset's values under its fields).</summary>
    public static TrainConfig FromJson(JsonObject fields)
    {
        var node = JsonNode.Parse(TrainConfig.Rl2Preset("ci").ToJson())!.AsObject();
        foreach (var (k, v) in fields) node[k] = v?.DeepClone();
        return node.Deserialize<TrainConfig>(TrainConfig.Json) ?? throw new JsonException("null config");
    }
}
