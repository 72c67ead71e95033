using System.Text.Json.Nodes;
using EpgFast.Backends;
using EpgFast.Training;

namespace EpgFast.Reproduce;

/// <summary>
/// Every size of one `epg reproduce`: the EPG meta-training configuration (its task, engine and seed are the plan's),
/// the learners each method trains on the right and on the left targets, the seeds, and the RL^2 sizes.
/// <list type="bullet">
/// <item>mini: point-goal, a few minutes on 2 cores;</item>
/// <item>cpu: goal-ant on the kernel simulator, sized to finish within 2 hours on 2 cores;</item>
/// <item>gpu: the gpu preset's sizes for one GPU.</item>
/// </list>
/// </summary>
public sealed record ReproducePlan(string Scale, TrainConfig Epg, int Learners, ulong Seed, int Seeds)
{
    public static readonly string[] Scales = ["mini", "cpu", "gpu"];

    /// <summary>The plan of <paramref name="scale"/> with seeds <paramref name="seed"/> .. <paramref name="seed"/> + <paramref name="seeds"/> - 1.</summary>
    public static ReproducePlan For(string scale, ulong seed, int seeds)
    {
        if (seeds < 1 || seeds > 100) throw EpgException.BadArguments($"--seeds must be in 1..100 (got {seeds})");
        string s = scale.Trim().ToLowerInvariant();
        var plan = s switch
        {
            // point-goal: 50-step episodes, lives of 16 updates x 32 steps (about 10 episodes)
            "mini" => new ReproducePlan(s, new TrainConfig
            {
                Env = "point-goal", Epochs = 40, Population = 16, Antithetic = true, LearnersPerMember = 2,
                ActSteps = 32, Updates = 16, BufferRows = 64, Minibatch = 16, TestEvery = 10, TestTasks = 4,
                Sigma = 0.1, EsLearningRate = 0.05, EsFinalLearningRate = 0.01, InnerLearningRate = 0.03f, AlphaSchedule = "off",
            }, Learners: 16, seed, seeds),
            // goal-ant on the kernel simulator: the quick preset's learners with three times the epochs
            "cpu" => new ReproducePlan(s, TrainConfig.Preset("quick") with { Env = "goal-ant", Engine = "kernel", Epochs = 300, TestEvery = 50 },
                Learners: 16, seed, seeds),
            "gpu" => new ReproducePlan(s, TrainConfig.Preset("gpu") with { Env = "goal-ant", Engine = "kernel" }, Learners: 64, seed, seeds),
            _ => throw EpgException.BadArguments($"--scale must be one of {string.Join(", ", Scales)} (got '{scale}')"),
        };
        return plan with { Epg = (plan.Epg with { Seed = seed, TrainTargets = "right" }).Validate() };
    }

    /// <summary>The seeds of the runs, in order.</summary>
    public IEnumerable<ulong> SeedList => Enumerable.Range(0, Seeds).Select(i => Seed + (ulong)i);

    /// <summary>The EPG configuration of one seed.</summary>
    public TrainConfig EpgFor(ulong seed) => Epg with { Seed = seed };

    /// <summary>What reproduce.json records (a resumed run must have the same).</summary>
    public JsonObject ToJson() => new()
    {
        ["scale"] = Scale,
        ["seed"] = Seed,
        ["seeds"] = Seeds,
        ["learners_per_method"] = Learners,
        ["epg"] = JsonNode.Parse(Epg.ToJson()),
    };
}
