using System.Text.Json.Nodes;
using EpgFast.Backends;
using EpgFast.Kernels.Networks;
using EpgFast.Runs;
using EpgFast.Training;

namespace EpgFast.Rl2;

/// <summary>
/// A meta-trained RL^2 policy (DIR/best.rl2, written by `epg train --method rl2`, read by `epg eval --method rl2`):
/// <see cref="PhiFile"/>'s container with magic "EPGRL2\0\0" (SHA-256 over the file), floats = the GRU policy's
/// parameters (P, layout of <see cref="GruShape"/>) then the observation statistics (sum, sum2 (Obs), count);
/// metadata: env, obs, act, hidden, params, trial_episodes, best_epoch, best_fitness and the run's config.
/// </summary>
public sealed record Rl2PolicyFile(TrainConfig Config, int Obs, int Act, float[] Parameters, float[] Normalizer, JsonObject Metadata)
{
    private static ReadOnlySpan<byte> Magic => "EPGRL2\0\0"u8;

    public void Write(string path) => PhiFile.Write(path, Magic, [.. Parameters, .. Normalizer], Metadata);

    /// <summary>The file of a run's best parameters with their observation statistics.</summary>
    public static Rl2PolicyFile Of(TrainConfig config, GruShape shape, float[] parameters, float[] normalizer, int bestEpoch, double bestFitness) =>
        new(config, shape.Obs, shape.Act, parameters, normalizer, new JsonObject
        {
            ["env"] = config.Env, ["obs"] = shape.Obs, ["act"] = shape.Act, ["hidden"] = shape.Hidden, ["params"] = shape.ParamCount,
            ["trial_episodes"] = config.Rl2TrialEpisodes, ["best_epoch"] = bestEpoch,
            ["best_fitness"] = double.IsFinite(bestFitness) ? bestFitness : null, ["config"] = Rl2Config.Json(config),
        });

    /// <summary>Reads and verifies a best.rl2; a missing, wrong, damaged or inconsistent file is a one-line error (exit 1).</summary>
    public static Rl2PolicyFile Read(string path)
    {
        var f = PhiFile.Read(path, Magic, "RL^2 policy file", "an EpgFast RL^2 policy", "a best.rl2 written by epg train --method rl2");
        var m = f.Metadata ?? throw new EpgException($"RL^2 policy file {path} has no metadata");
        TrainConfig config;
        int obs, act, hidden, count;
        try
        {
            obs = (int)m["obs"]!;
            act = (int)m["act"]!;
            hidden = (int)m["hidden"]!;
            count = (int)m["params"]!;
            config = Rl2Config.FromJson(m["config"]!.AsObject());
        }
        catch (Exception e) when (e is InvalidOperationException or NullReferenceException or FormatException or System.Text.Json.JsonException or ArgumentException)
        {
            throw new EpgException($"RL^2 policy file {path} has unreadable metadata");
        }
        var shape = GruShape.Create(1, 1, obs, act, hidden);
        if (obs < 1 || act < 1 || hidden < 1 || count != shape.ParamCount || f.Phi.Length != count + 2 * obs + 1 || config.Rl2Hidden != hidden)
            throw new EpgException($"RL^2 policy file {path} is inconsistent: its sizes do not add up to its {f.Phi.Length} floats");
        return new Rl2PolicyFile(config, obs, act, f.Phi[..count], f.Phi[count..], m);
    }
}
