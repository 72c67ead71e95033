using System.Text.Json.Nodes;
using EpgFast.Backends;
using EpgFast.Training;

namespace EpgFast.Reproduce;

/// <summary>
/// Every size of one `epg reproduce`: the EPG meta-training configuration (its task, engine and seed are the plan's),
/// the RL^2 meta-training configuration (the same task, its trial as long as an EPG learner's life), the learners
/// each method trains on the right and on the left targets, and the seeds.
/// <list type="bullet">
/// <item>mini: point-goal, a few minutes on 2 cores;</item>
/// <item>cpu: goal-ant on the kernel simulator, sized to finish within 2 hours on 2 cores;</item>
/// <item>gpu: the gpu preset's sizes for one GPU.</item>
/// </list>
/// </summary>
public sealed record ReproducePlan(string Scale, TrainConfig Epg, TrainConfig Rl2, int Learners, ulong Seed, int Seeds)
{
    public static readonly string[] Scales = ["mini", "cpu", "gpu"];

    /// <summary>The plan of <paramref name="scale"/> with seeds <paramref name="seed"/> .. <paramref name="seed"/> + <paramref name="seeds"/> - 1.</summary>
    public static ReproducePlan For(string scale, ulong seed, int seeds)
    {
        if (seeds < 1 || seeds > 100) throw EpgException.BadArguments($"--seeds must be in 1..100 (got {seeds})");
        string s = scale.Trim().ToLowerInvariant();
        var plan = s switch
        {
            // point-goal (50-step episodes): EPG learners live 16 updates x 32 steps = 512 steps (10 episodes) and train
            // with Adam step 0.01; RL^2 meta-trains on trials of 4 episodes and is evaluated on trials of 10. PPO from
            // scratch takes Adam step 3e-3, the best of 3e-4 .. 3e-2 for this learner (docs/results/step-sizes.md).
            "mini" => new ReproducePlan(s,
                new TrainConfig
                {
                    Env = "point-goal", Epochs = 300, Population = 16, Antithetic = true, LearnersPerMember = 2,
                    ActSteps = 32, Updates = 16, BufferRows = 64, Minibatch = 16, TestEvery = 50, TestTasks = 4,
                    Sigma = 0.1, EsLearningRate = 0.05, EsFinalLearningRate = 0.01, InnerLearningRate = 0.01f, PpoLearningRate = 3e-3f,
                    AlphaSchedule = "off",
                },
                TrainConfig.Rl2Preset("ci") with
                {
                    Env = "point-goal", Epochs = 150, Rl2Hidden = 32, Rl2Trials = 32, Rl2TrialEpisodes = 4, Rl2PpoEpochs = 8, Rl2LearningRate = 3e-3f,
                },
                Learners: 16, seed, seeds),
            // goal-ant (reach, 1000-step episodes) on the kernel simulator: the paper's learner (128 updates x 64 steps =
            // 8192 steps of life, a 512-row buffer, minibatch 32, Adam 1e-3 for every method: the best PPO step of
            // 3e-4 .. 3e-2 here) in 200 epochs of 16 members x 2 learners; RL^2 meta-trains on 2-episode trials and is
            // evaluated on trials of 8 (as long as a life)
            "cpu" => new ReproducePlan(s,
                TrainConfig.Preset("quick") with
                {
                    Env = "goal-ant", Engine = "kernel", EpisodeSteps = 0, Epochs = 200, Population = 16, LearnersPerMember = 2,
                    ActSteps = 64, Updates = 128, BufferRows = 512, Minibatch = 32, TestEvery = 50, TestTasks = 4,
                    InnerLearningRate = 1e-3f, PpoLearningRate = null,
                },
                TrainConfig.Rl2Preset("quick") with { Env = "goal-ant", Engine = "kernel", EpisodeSteps = 0, Epochs = 200, Rl2TrialEpisodes = 2 },
                Learners: 16, seed, seeds),
            "gpu" => new ReproducePlan(s,
                TrainConfig.Preset("gpu") with { Env = "goal-ant", Engine = "kernel" },
                TrainConfig.Rl2Preset("gpu") with { Env = "goal-ant", Engine = "kernel" },
                Learners: 64, seed, seeds),
            _ => throw EpgException.BadArguments($"--scale must be one of {string.Join(", ", Scales)} (got '{scale}')"),
        };
        return plan with
        {
            Epg = (plan.Epg with { Seed = seed, TrainTargets = "right" }).Validate(),
            Rl2 = (plan.Rl2 with { Seed = seed, TrainTargets = "right" }).Validate(),
        };
    }

    /// <summary>The seeds of the runs, in order.</summary>
    public IEnumerable<ulong> SeedList => Enumerable.Range(0, Seeds).Select(i => Seed + (ulong)i);

    /// <summary>The EPG configuration of one seed.</summary>
    public TrainConfig EpgFor(ulong seed) => Epg with { Seed = seed };

    /// <summary>
    /// Episodes of RL^2's evaluation trial: as many as fit an EPG learner's life (RL^2 meta-trains on shorter trials, K
    /// episodes; its frozen policy then runs one trial as long as the other methods' lives, its hidden state through all).
    /// </summary>
    public int Rl2EvalEpisodes => Math.Max(1, Epg.Lifetime / EpisodeSteps);

    /// <summary>The plan's task (every seed's).</summary>
    public Tasks.EnvSpec Spec => EpgTrainer.EnvSpecFor(Epg);

    /// <summary>Steps of one episode of the plan's task.</summary>
    public int EpisodeSteps => Spec.EpisodeSteps;

    /// <summary>The targets' distance from the start, in metres (the task's radius range).</summary>
    public (float Min, float Max) TargetRadius => Spec.TargetRadius;

    /// <summary>The RL^2 configuration of one seed.</summary>
    public TrainConfig Rl2For(ulong seed) => Rl2 with { Seed = seed };

    /// <summary>RL^2's evaluation of one seed: one trial per learner, <see cref="Rl2EvalEpisodes"/> episodes long.</summary>
    public TrainConfig Rl2EvalFor(ulong seed) => Rl2For(seed) with { Rl2Trials = Learners, Rl2TrialEpisodes = Rl2EvalEpisodes };

    /// <summary>What reproduce.json records (a resumed run must have the same).</summary>
    public JsonObject ToJson() => new()
    {
        ["scale"] = Scale,
        ["seed"] = Seed,
        ["seeds"] = Seeds,
        ["learners_per_method"] = Learners,
        ["rl2_eval_episodes"] = Rl2EvalEpisodes,
        ["epg"] = JsonNode.Parse(Epg.ToJson()),
        ["rl2"] = JsonNode.Parse(Rl2.ToJson()),
    };
}
