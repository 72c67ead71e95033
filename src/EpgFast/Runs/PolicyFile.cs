using System.Text.Json.Nodes;
using EpgFast.Backends;
using EpgFast.Learners;
using EpgFast.Training;

namespace EpgFast.Runs;

/// <summary>
/// Trained policies of an evaluation (DIR/policies/LABEL.bin, written by <c>epg eval</c>, read by
/// <c>epg play</c>): every learner's parameter vector and running-normalizer statistics at the end of its
/// lifetime, with the configuration that sized them. Stored in <see cref="PhiFile"/>'s container (magic
/// "EPGPOL\0\0", a SHA-256 over the file); the floats are parameters (Count, Stride), then the normalizer's
/// sum, sum2 (Count, TrajDim) and count (Count); the metadata says Count, Stride, TrajDim, obs, act, ppo,
/// env, engine, method, targets and the configuration.
/// </summary>
public sealed record PolicyFile(TrainConfig Config, string Env, string Engine, string Label, bool Ppo, int Obs, int Act, int Stride, int TrajDim, LearnerSnapshot Learners)
{
    private static ReadOnlySpan<byte> Magic => "EPGPOL\0\0"u8;

    public int Count => Learners.NormCount.Length;

    public void Write(string path)
    {
        int n = Count;
        var floats = new float[n * Stride + 2 * n * TrajDim + n];
        Learners.Parameters.CopyTo(floats, 0);
        Learners.NormSum.CopyTo(floats, n * Stride);
        Learners.NormSum2.CopyTo(floats, n * Stride + n * TrajDim);
        Learners.NormCount.CopyTo(floats, n * Stride + 2 * n * TrajDim);
        var meta = new JsonObject
        {
            ["count"] = n, ["stride"] = Stride, ["traj_dim"] = TrajDim, ["obs"] = Obs, ["act"] = Act, ["ppo"] = Ppo,
            ["env"] = Env, ["engine"] = Engine, ["label"] = Label, ["config"] = JsonNode.Parse(Config.ToJson()),
        };
        PhiFile.Write(path, Magic, floats, meta);
    }

    /// <summary>Reads and verifies a policy file; a wrong, damaged or inconsistent file is a one-line <see cref="EpgException"/>.</summary>
    public static PolicyFile Read(string path)
    {
        var f = PhiFile.Read(path, Magic, "policy file", "an EpgFast policy file", "DIR/policies/LABEL.bin written by epg eval");
        var m = f.Metadata ?? throw new EpgException($"policy file {path} has no metadata");
        try
        {
            int n = (int)m["count"]!, stride = (int)m["stride"]!, traj = (int)m["traj_dim"]!;
            if (n < 1 || stride < 1 || traj < 1 || (long)n * stride + 2L * n * traj + n != f.Phi.Length)
                throw new EpgException($"policy file {path} is inconsistent: its sizes do not add up to its {f.Phi.Length} floats");
            var config = JsonSerializerConfig(m["config"]!.ToJsonString());
            var snap = new LearnerSnapshot(f.Phi[..(n * stride)], f.Phi[(n * stride)..(n * stride + n * traj)],
                f.Phi[(n * stride + n * traj)..(n * stride + 2 * n * traj)], f.Phi[(n * stride + 2 * n * traj)..]);
            return new PolicyFile(config, (string)m["env"]!, (string)m["engine"]!, (string)m["label"]!, (bool)m["ppo"]!,
                (int)m["obs"]!, (int)m["act"]!, stride, traj, snap);
        }
        catch (Exception e) when (e is InvalidOperationException or NullReferenceException or FormatException or System.Text.Json.JsonException or ArgumentException)
        {
            throw new EpgException($"policy file {path} has unreadable metadata");
        }
    }

    private static TrainConfig JsonSerializerConfig(string json) =>
        System.Text.Json.JsonSerializer.Deserialize<TrainConfig>(json, TrainConfig.Json) ?? throw new FormatException();
}
