using System.Text.Json;
using System.Text.Json.Serialization;
using EpgFast.Backends;
using EpgFast.Evolution;
using EpgFast.Networks;
using EpgFast.Physics;
using EpgFast.Tasks;

namespace EpgFast.Training;

/// <summary>
/// Everything that defines an EPG run: one immutable record, written to config.json with every
/// run. Presets: <see cref="Preset"/>. Override with --config FILE.json (any subset of these
/// fields, snake_case) and then with command-line flags.
/// </summary>
public sealed record TrainConfig
{
    // ---- task -------------------------------------------------------------------------------
    /// <summary>point-goal, ant or goal-ant.</summary>
    public string Env { get; init; } = "goal-ant";
    /// <summary>kernel (the vectorized simulator) or mujoco.</summary>
    public string Engine { get; init; } = "kernel";
    public ulong Seed { get; init; } = 1;

    // ---- outer loop (evolution strategies over phi) ------------------------------------------
    public int Epochs { get; init; } = 2000;
    /// <summary>W: ES members per epoch.</summary>
    public int Population { get; init; } = 8;
    public bool Antithetic { get; init; }
    /// <summary>Learners (fresh tasks) per member per epoch; the member's fitness is their mean.</summary>
    public int TasksPerMember { get; init; } = 1;
    public double Sigma { get; init; } = 0.01;
    public double L2 { get; init; } = 0.001;
    public double EsLearningRate { get; init; } = 1e-2;
    public double EsFinalLearningRate { get; init; } = 1e-3;
    public double EsDecayFraction { get; init; } = 0.5;
    /// <summary>PPO bootstrapping: default (alpha 1 -> 0 over the first 1/8 of epochs), half (1 -> 0.5 over 1/16, held), off.</summary>
    public string AlphaSchedule { get; init; } = "default";
    /// <summary>
    /// Common random numbers: every member's t-th learner meets the same task with the same initial
    /// weights, action noise and minibatch order, so fitness differences between members come from
    /// their losses alone.
    /// </summary>
    public bool CommonRandomNumbers { get; init; } = true;
    /// <summary>Test the current phi on fresh tasks every this many epochs (0: never).</summary>
    public int TestEvery { get; init; } = 50;
    public int TestTasks { get; init; } = 7;

    // ---- inner loop (one learner's lifetime) --------------------------------------------------
    /// <summary>M: steps acted between updates.</summary>
    public int ActSteps { get; init; } = 64;
    /// <summary>K: updates per lifetime (lifetime U = M K steps).</summary>
    public int Updates { get; init; } = 128;
    /// <summary>N: buffer rows the loss network sees (zero-padded at the start of life).</summary>
    public int BufferRows { get; init; } = 512;
    public int Minibatch { get; init; } = 32;
    /// <summary>Passes over the newest M samples per update.</summary>
    public int EpochsPerUpdate { get; init; } = 1;
    public float InnerLearningRate { get; init; } = 1e-3f;
    /// <summary>Train the 32 memory units (off in the released code's default).</summary>
    public bool Memory { get; init; }
    /// <summary>Give the loss lifetime-progress and episode-progress features (2 extra columns).</summary>
    public bool ProgressFeatures { get; init; } = true;
    /// <summary>Fitness = mean return of the last this many finished episodes of the lifetime.</summary>
    public int FitnessEpisodes { get; init; } = 3;

    // ---- goal tasks -----------------------------------------------------------------------------
    public string TrainTargets { get; init; } = "right";
    public float TargetRadiusMin { get; init; } = 1f;
    public float TargetRadiusMax { get; init; } = 3f;
    /// <summary>Episode length cap in env steps (0: the task's default).</summary>
    public int EpisodeSteps { get; init; }
    /// <summary>goal-ant's definition by name (<see cref="AntTaskConfig.GoalAntDefinition"/>); the fields below override its parts.</summary>
    public string GoalAnt { get; init; } = "progress";
    /// <summary>goal-ant's reward: progress ((d - d') / dt) or negative-distance (-d'); null: the definition's.</summary>
    public string? GoalAntReward { get; init; }
    /// <summary>Ant tasks: reward added each step while healthy (every step under termination); null: the task's.</summary>
    public float? HealthyReward { get; init; }
    /// <summary>Ant tasks: end the episode when the torso z leaves [0.2, 1.0] (Ant-v4's termination); null: the task's.</summary>
    public bool? TerminateWhenUnhealthy { get; init; }
    /// <summary>Ant tasks: w in the control cost w * sum(a^2); null: the task's.</summary>
    public float? CtrlCostWeight { get; init; }

    // ---- hardware -------------------------------------------------------------------------------
    public int Threads { get; init; }
    /// <summary>How the update's MLP passes compute: auto (the device's default), dense, lanes, group or recompute (same math; speed and device memory).</summary>
    public string UpdatePath { get; init; } = "auto";

    [JsonIgnore]
    public int Learners => Population * TasksPerMember;

    [JsonIgnore]
    public int Lifetime => ActSteps * Updates;

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>Preset names: ci (seconds on a CPU), quick (minutes on a 2-core CPU), gpu (thousands of learners), paper (the released code's values).</summary>
    public static readonly string[] PresetNames = ["ci", "quick", "gpu", "paper"];

    public static TrainConfig Preset(string name) => name.Trim().ToLowerInvariant() switch
    {
        "ci" => new TrainConfig
        {
            Env = "point-goal", Epochs = 4, Population = 4, Antithetic = true, TasksPerMember = 1,
            ActSteps = 16, Updates = 10, BufferRows = 32, Minibatch = 8, TestEvery = 2, TestTasks = 2,
            Sigma = 0.1, EsLearningRate = 0.05, EsFinalLearningRate = 0.01, InnerLearningRate = 0.03f,
        },
        "quick" => new TrainConfig
        {
            // Short lifetimes learn only with a larger inner step (0.03, not 1e-3); PPO bootstrapping is off
            // (at that step PPO itself does worse than a random loss), so alpha = 0 throughout.
            Env = "goal-ant", Engine = "kernel", Epochs = 100, Population = 8, Antithetic = true, TasksPerMember = 3,
            ActSteps = 64, Updates = 16, BufferRows = 128, Minibatch = 32, TestEvery = 20, TestTasks = 6,
            Sigma = 0.1, EsLearningRate = 0.05, EsFinalLearningRate = 0.01, InnerLearningRate = 0.03f, AlphaSchedule = "off",
        },
        "gpu" => new TrainConfig
        {
            Env = "goal-ant", Epochs = 500, Population = 256, Antithetic = true, TasksPerMember = 16,
            ActSteps = 64, Updates = 128, BufferRows = 512, Minibatch = 32, TestEvery = 25, TestTasks = 64,
            Sigma = 0.02,
        },
        "paper" => new TrainConfig(),
        _ => throw new EpgException($"--preset must be one of {string.Join(", ", PresetNames)} (got '{name}')", 2),
    };

    /// <summary>Applies a JSON file's fields over this config; unknown fields are an error naming them.</summary>
    public TrainConfig WithFile(string path)
    {
        if (!File.Exists(path)) throw new EpgException($"--config {path}: no such file", 2);
        try
        {
            var baseNode = System.Text.Json.Nodes.JsonNode.Parse(JsonSerializer.Serialize(this, Json))!.AsObject();
            var overrides = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))?.AsObject()
                ?? throw new EpgException($"--config {path}: not a JSON object", 2);
            foreach (var (key, value) in overrides)
                baseNode[key] = value?.DeepClone();
            return baseNode.Deserialize<TrainConfig>(Json)!.Validate();
        }
        catch (JsonException e)
        {
            throw new EpgException($"--config {path}: {e.Message}", 2);
        }
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Throws a one-line error when the values cannot work together.</summary>
    public TrainConfig Validate()
    {
        void Need(bool ok, string what)
        {
            if (!ok) throw new EpgException($"config: {what}", 2);
        }
        EnvFactory.Parse(Env);
        ParseEngine(Engine);
        Need(Epochs > 0, "epochs must be positive");
        Need(Population >= 2, "population must be at least 2");
        Need(!Antithetic || Population % 2 == 0, "antithetic pairs need an even population");
        Need(TasksPerMember >= 1, "tasks_per_member must be at least 1");
        Need(ActSteps >= Minibatch && ActSteps % Minibatch == 0, $"act_steps ({ActSteps}) must be a multiple of minibatch ({Minibatch})");
        Need(BufferRows >= ActSteps, "buffer_rows must be at least act_steps");
        Need(Updates >= 1 && EpochsPerUpdate >= 1, "updates and epochs_per_update must be positive");
        Need(FitnessEpisodes >= 1, "fitness_episodes must be at least 1");
        Need(Sigma > 0, "sigma must be positive");
        Need(TargetRadiusMin > 0 && TargetRadiusMax >= TargetRadiusMin, "target radius range must be positive and ordered");
        GoalTasks.ParseRegion(TrainTargets);
        AntTaskConfig.GoalAntDefinition(GoalAnt);
        if (GoalAntReward is not null) AntTaskConfig.ParseGoalReward(GoalAntReward);
        Need(CtrlCostWeight is null || CtrlCostWeight >= 0, "ctrl_cost_weight must not be negative");
        MlpPaths.Parse(UpdatePath, "config: update_path");
        Alpha();
        return this;
    }

    public static EngineKind ParseEngine(string name) => name.Trim().ToLowerInvariant() switch
    {
        "kernel" => EngineKind.Kernel,
        "mujoco" => EngineKind.MuJoCo,
        _ => throw new EpgException($"--engine must be kernel or mujoco (got '{name}')", 2),
    };

    public AlphaSchedule Alpha() => AlphaSchedule.Trim().ToLowerInvariant() switch
    {
        "default" => Evolution.AlphaSchedule.Default(Epochs),
        "half" => Evolution.AlphaSchedule.HalfHeld(Epochs),
        "off" => Evolution.AlphaSchedule.Off(Epochs),
        _ => throw new EpgException($"alpha_schedule must be default, half or off (got '{AlphaSchedule}')", 2),
    };

    public EsConfig Es() => new()
    {
        Population = Population,
        Sigma = Sigma,
        Antithetic = Antithetic,
        TasksPerMember = TasksPerMember,
        L2 = L2,
        LearningRate = EsLearningRate,
        FinalLearningRate = EsFinalLearningRate,
        DecayFraction = EsDecayFraction,
        Epochs = Epochs,
        Seed = Seed,
    };

    /// <summary>
    /// The networks' sizes for a task with the given observation and action widths; <paramref name="ppo"/>: the learners
    /// will train with alpha &gt; 0 (false: lean learners without a value net).
    /// </summary>
    public NetworkConfig Networks(int obs, int act, bool ppo) => new NetworkConfig(obs, act)
    {
        Ppo = ppo,
        TrainMemory = Memory,
        BufferRows = BufferRows,
        ActSteps = ActSteps,
        Minibatch = Minibatch,
        LearningRate = InnerLearningRate,
        Extra = ProgressFeatures ? 2 : 0,
        UpdatePath = MlpPaths.Parse(UpdatePath),
    }.Validate();
}
