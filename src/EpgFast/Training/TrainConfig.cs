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
    /// <summary>
    /// Learners per ES member per epoch, each on a fresh task, all sharing the member's phi; the member's fitness
    /// is their mean. In config.json: tasks_per_member (one learner per task).
    /// </summary>
    [JsonPropertyName("tasks_per_member")]
    public int LearnersPerMember { get; init; } = 1;
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
    /// <summary>
    /// Passes over the newest M samples per update. In config.json: epochs_per_update, kept so existing configs
    /// load; everywhere else an epoch is one ES iteration.
    /// </summary>
    [JsonPropertyName("epochs_per_update")]
    public int PassesPerUpdate { get; init; } = 1;
    public float InnerLearningRate { get; init; } = 1e-3f;
    /// <summary>
    /// Adam's step size for PPO from scratch (the baseline of eval, reproduce and the report); null: inner_learning_rate.
    /// Left out of config.json when null.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? PpoLearningRate { get; init; }

    /// <summary>The step size PPO from scratch trains with: <see cref="PpoLearningRate"/>, else <see cref="InnerLearningRate"/>.</summary>
    [JsonIgnore]
    public float PpoStepSize => PpoLearningRate ?? InnerLearningRate;
    /// <summary>Train the 32 memory units (off in the released code's default).</summary>
    public bool Memory { get; init; }
    /// <summary>Give the loss lifetime-progress and episode-progress features (2 extra columns).</summary>
    public bool ProgressFeatures { get; init; } = true;
    /// <summary>Fitness = mean return of the last this many finished episodes of the lifetime.</summary>
    public int FitnessEpisodes { get; init; } = 3;

    // ---- goal tasks -----------------------------------------------------------------------------
    public string TrainTargets { get; init; } = "right";
    /// <summary>goal-ant: the targets' distance range from the start (m); null: the definition's. Left out of config.json when null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? TargetRadiusMin { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? TargetRadiusMax { get; init; }
    /// <summary>Episode length cap in env steps (0: the task's default).</summary>
    public int EpisodeSteps { get; init; }
    /// <summary>goal-ant's definition by name (<see cref="AntTaskConfig.GoalAntDefinition"/>); the fields below override its parts.</summary>
    public string GoalAnt { get; init; } = "reach";
    /// <summary>goal-ant's reward: progress ((d - d') / dt) or negative-distance (-d'); null: the definition's.</summary>
    public string? GoalAntReward { get; init; }
    /// <summary>Ant tasks: reward added each step while healthy (every step under termination); null: the task's.</summary>
    public float? HealthyReward { get; init; }
    /// <summary>Ant tasks: end the episode when the torso z leaves [0.2, 1.0] (Ant-v4's termination); null: the task's.</summary>
    public bool? TerminateWhenUnhealthy { get; init; }
    /// <summary>Ant tasks: w in the control cost w * sum(a^2); null: the task's.</summary>
    public float? CtrlCostWeight { get; init; }
    /// <summary>
    /// goal-ant: end the episode as reached when the torso comes within this distance (m) of the target,
    /// paying the healthy reward for the steps left (<see cref="AntTaskConfig.ReachRadius"/>); 0: off; null: the definition's.
    /// Left out of config.json when null, so that runs written before the field existed resume unchanged.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? ReachRadius { get; init; }

    // ---- hardware -------------------------------------------------------------------------------
    public int Threads { get; init; }
    /// <summary>
    /// Kept so that configs written by earlier versions load: "auto" is the only value, since every device has one MLP
    /// pass (<see cref="MlpBatch{TF}"/>).
    /// </summary>
    public string UpdatePath { get; init; } = "auto";

    // ---- RL^2 (`--method rl2`, src/EpgFast/Rl2/): set by its presets (Rl2Preset), absent from EPG runs ------
    /// <summary>RL^2: H, the GRU's units (RL^2 used 256).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Rl2Hidden { get; init; }
    /// <summary>RL^2: trials per epoch, run in lockstep (each one fresh task for K episodes).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Rl2Trials { get; init; }
    /// <summary>RL^2: K, episodes per trial (the hidden state runs through all of them).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Rl2TrialEpisodes { get; init; }
    /// <summary>RL^2: PPO passes (Adam steps on all trials) per epoch.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Rl2PpoEpochs { get; init; }
    /// <summary>RL^2: Adam step size.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? Rl2LearningRate { get; init; }
    /// <summary>RL^2: weight of the squared value error in the loss (the value head shares the GRU).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? Rl2ValueCoeff { get; init; }

    /// <summary>A configuration of `epg train --method rl2` (its RL^2 fields are set).</summary>
    [JsonIgnore]
    public bool IsRl2 => Rl2Hidden is not null;

    [JsonIgnore]
    public int Learners => Population * LearnersPerMember;

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
            Env = "point-goal", Epochs = 4, Population = 4, Antithetic = true, LearnersPerMember = 1,
            ActSteps = 16, Updates = 10, BufferRows = 32, Minibatch = 8, TestEvery = 2, TestTasks = 2,
            Sigma = 0.1, EsLearningRate = 0.05, EsFinalLearningRate = 0.01, InnerLearningRate = 0.03f,
        },
        "quick" => new TrainConfig
        {
            // Short lifetimes learn only with a larger inner step (0.03, not 1e-3); PPO bootstrapping is off
            // (at that step PPO itself does worse than a random loss), so alpha = 0 throughout. PPO from scratch, the
            // report's baseline, takes 3e-3 (the best mean of 3e-4 .. 3e-2, docs/results/step-sizes.md). Episodes of 200
            // steps (not the definition's 1000), so that a 1024-step life holds several.
            Env = "goal-ant", Engine = "kernel", EpisodeSteps = 200, Epochs = 100, Population = 8, Antithetic = true, LearnersPerMember = 3,
            ActSteps = 64, Updates = 16, BufferRows = 128, Minibatch = 32, TestEvery = 20, TestTasks = 6,
            Sigma = 0.1, EsLearningRate = 0.05, EsFinalLearningRate = 0.01, InnerLearningRate = 0.03f, PpoLearningRate = 3e-3f, AlphaSchedule = "off",
        },
        "gpu" => new TrainConfig
        {
            Env = "goal-ant", Epochs = 500, Population = 256, Antithetic = true, LearnersPerMember = 16,
            ActSteps = 64, Updates = 128, BufferRows = 512, Minibatch = 32, TestEvery = 25, TestTasks = 64,
            Sigma = 0.02,
        },
        "paper" => new TrainConfig(),
        _ => throw new EpgException($"--preset must be one of {string.Join(", ", PresetNames)} (got '{name}')", 2),
    };

    /// <summary>Presets of `--method rl2`: ci (point-goal, seconds), quick (goal-ant, minutes on 2 cores), gpu (goal-ant, RL^2's 256 units).</summary>
    public static TrainConfig Rl2Preset(string name) => name.Trim().ToLowerInvariant() switch
    {
        "ci" => Preset("ci") with
        {
            Env = "point-goal", Epochs = 4, Rl2Hidden = 16, Rl2Trials = 8, Rl2TrialEpisodes = 2, Rl2PpoEpochs = 2, Rl2LearningRate = 3e-3f, Rl2ValueCoeff = 0.5f,
        },
        "quick" => Preset("quick") with
        {
            Env = "goal-ant", Engine = "kernel", PpoLearningRate = null, Epochs = 50, Rl2Hidden = 64, Rl2Trials = 16, Rl2TrialEpisodes = 2, Rl2PpoEpochs = 4, Rl2LearningRate = 1e-3f, Rl2ValueCoeff = 0.5f,
        },
        "gpu" => Preset("gpu") with
        {
            Env = "goal-ant", Epochs = 1000, Rl2Hidden = 256, Rl2Trials = 1024, Rl2TrialEpisodes = 2, Rl2PpoEpochs = 4, Rl2LearningRate = 3e-4f, Rl2ValueCoeff = 0.5f,
        },
        _ => throw new EpgException($"--preset must be ci, quick or gpu with --method rl2 (got '{name}')", 2),
    };

    /// <summary>
    /// Where the fields set by a --config file came from (file and 1-based line of each key), so that
    /// <see cref="Validate"/> names the line of the user's file; not part of config.json.
    /// </summary>
    [JsonIgnore]
    public ConfigSource? Source { get; init; }

    /// <summary>Fields every config takes that config.json leaves out while they are null (added after runs were written without them).</summary>
    private static readonly string[] OmittedWhenNull = ["reach_radius", "target_radius_min", "target_radius_max", "ppo_learning_rate"];

    /// <summary>
    /// Applies a JSON file's fields over this config. The file is checked as a whole before anything
    /// else: a JSON object at the top level, no key twice, only known fields, values of the right
    /// type; each error is one line naming the file and the line of the key. Call
    /// <see cref="Validate"/> on the final config (after flags), which names the file's lines too.
    /// </summary>
    public TrainConfig WithFile(string path)
    {
        var source = ConfigSource.Read(path);
        var baseNode = System.Text.Json.Nodes.JsonNode.Parse(JsonSerializer.Serialize(this, Json))!.AsObject();
        foreach (var (key, value) in source.Fields)
        {
            if (!baseNode.ContainsKey(key) && !OmittedWhenNull.Contains(key))
                throw source.Error(key, $"unknown field '{key}' (fields: snake_case names as in config.json, e.g. {string.Join(", ", baseNode.Select(kv => kv.Key).Take(4))} ...)");
            baseNode[key] = value?.DeepClone();
        }
        try
        {
            return baseNode.Deserialize<TrainConfig>(Json)! with { Source = source };
        }
        catch (JsonException e)
        {
            string key = e.Path is { Length: > 2 } p && p.StartsWith("$.", StringComparison.Ordinal) ? p[2..].Split('.', '[')[0] : "";
            var type = typeof(TrainConfig).GetProperties().FirstOrDefault(pi => JsonName(pi) == key)?.PropertyType;
            string expected = (type is null ? null : Nullable.GetUnderlyingType(type) ?? type) switch
            {
                { } t when t == typeof(int) => "an integer (32-bit)",
                { } t when t == typeof(ulong) => "a non-negative integer",
                { } t when t == typeof(double) || t == typeof(float) => "a number",
                { } t when t == typeof(bool) => "true or false",
                { } t when t == typeof(string) => "a string",
                _ => "another type",
            };
            throw source.Error(key, $"field '{key}' must be {expected}");
        }
    }

    /// <summary>A property's field name in config.json: its [JsonPropertyName], else its snake_case name.</summary>
    private static string JsonName(System.Reflection.PropertyInfo pi) =>
        pi.GetCustomAttributes(typeof(JsonPropertyNameAttribute), false) is [JsonPropertyNameAttribute a, ..] ? a.Name : JsonNamingPolicy.SnakeCaseLower.ConvertName(pi.Name);

    /// <summary>This config with <paramref name="key"/> no longer attributed to the --config file (a flag set it).</summary>
    public TrainConfig SetByFlag(string key) => Source is null ? this : this with { Source = Source.Without(key) };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>
    /// The one check of a whole configuration, run before any file is touched: throws a one-line
    /// error (exit 2; exit 3 for sizes beyond 32-bit indexing) naming the field, and the line of the
    /// --config file that set it.
    /// </summary>
    public TrainConfig Validate()
    {
        void Need(bool ok, string what, params string[] fields)
        {
            if (ok) return;
            string? key = fields.FirstOrDefault(f => Source?.Lines.ContainsKey(f) == true);
            if (key is not null) throw Source!.Error(key, what);
            throw EpgException.BadArguments($"config: {what}");
        }
        void Fits(long value, string what, params string[] fields)
        {
            if (value <= int.MaxValue) return;
            string? key = fields.FirstOrDefault(f => Source?.Lines.ContainsKey(f) == true);
            string message = $"{what} = {value:N0}, beyond 32-bit sizes (2^31 - 1); this does not fit";
            throw key is null ? EpgException.DoesNotFit($"config: {message}") : new EpgException(Source!.Error(key, message).Message, ExitCodes.DoesNotFit);
        }
        try
        {
            EnvFactory.Parse(Env);
        }
        catch (EpgException e)
        {
            Need(false, e.Message, "env");
        }
        Need(Engine.Trim().ToLowerInvariant() is "kernel" or "mujoco", $"engine must be kernel or mujoco (got '{Engine}')", "engine");
        Need(Epochs > 0, "epochs must be positive", "epochs");
        Need(Population >= 2, "population must be at least 2", "population");
        Need(!Antithetic || Population % 2 == 0, "antithetic pairs need an even population", "population", "antithetic");
        Need(LearnersPerMember >= 1, "tasks_per_member must be at least 1", "tasks_per_member");
        Need(Minibatch >= 1, $"minibatch must be at least 1 (got {Minibatch})", "minibatch");
        Need(ActSteps >= Minibatch && ActSteps % Minibatch == 0, $"act_steps ({ActSteps}) must be a multiple of minibatch ({Minibatch})", "act_steps", "minibatch");
        Need(BufferRows >= ActSteps, "buffer_rows must be at least act_steps", "buffer_rows", "act_steps");
        Need(BufferRows % ActSteps == 0, $"buffer_rows ({BufferRows}) must be a multiple of act_steps ({ActSteps})", "buffer_rows", "act_steps");
        Need(Updates >= 1 && PassesPerUpdate >= 1, "updates and epochs_per_update must be positive", "updates", "epochs_per_update");
        Need(FitnessEpisodes >= 1, "fitness_episodes must be at least 1", "fitness_episodes");
        Need(Sigma > 0 && double.IsFinite(Sigma), "sigma must be positive", "sigma");
        Need(L2 >= 0 && double.IsFinite(L2), "l2 must be zero or positive", "l2");
        Need(EsLearningRate > 0 && double.IsFinite(EsLearningRate) && EsFinalLearningRate >= 0 && double.IsFinite(EsFinalLearningRate),
            "es_learning_rate must be positive and es_final_learning_rate not negative", "es_learning_rate", "es_final_learning_rate");
        Need(EsDecayFraction >= 0 && EsDecayFraction <= 1, "es_decay_fraction must be in [0, 1]", "es_decay_fraction");
        Need(InnerLearningRate > 0 && float.IsFinite(InnerLearningRate), "inner_learning_rate must be positive", "inner_learning_rate");
        Need(TestEvery >= 0, "test_every must not be negative", "test_every");
        Need(TestEvery == 0 || TestTasks >= 1, $"test_tasks must be at least 1 when test_every > 0 (got {TestTasks}; test_every 0 turns the tests off)", "test_tasks", "test_every");
        Need(EpisodeSteps >= 0, "episode_steps must not be negative (0: the task's default)", "episode_steps");
        Need(Threads >= 0, "threads must not be negative (0: one per core)", "threads");
        Need(PpoLearningRate is null || (PpoLearningRate > 0 && float.IsFinite(PpoLearningRate.Value)), "ppo_learning_rate must be positive", "ppo_learning_rate");
        try
        {
            GoalTasks.ParseRegion(TrainTargets);
            if (UpdatePath.Trim().ToLowerInvariant() != "auto")
                throw new EpgException($"config: update_path must be auto (got '{UpdatePath}'): each device has one MLP pass", 2);
            Alpha();
        }
        catch (EpgException e)
        {
            Need(false, e.Message.StartsWith("config: ", StringComparison.Ordinal) ? e.Message[8..] : e.Message, "train_targets", "update_path", "alpha_schedule");
        }
        AntTaskConfig definition = AntTaskConfig.GoalAnt;
        try
        {
            definition = AntTaskConfig.GoalAntDefinition(GoalAnt);
            if (GoalAntReward is not null) AntTaskConfig.ParseGoalReward(GoalAntReward);
        }
        catch (EpgException e)
        {
            Need(false, e.Message.StartsWith("config: ", StringComparison.Ordinal) ? e.Message[8..] : e.Message, "goal_ant", "goal_ant_reward");
        }
        float radiusMin = TargetRadiusMin ?? definition.RadiusMin, radiusMax = TargetRadiusMax ?? definition.RadiusMax;
        Need(radiusMin > 0 && radiusMax >= radiusMin && float.IsFinite(radiusMax),
            $"target_radius_min .. target_radius_max must be positive and ordered (got {radiusMin} .. {radiusMax}; the definition gives {definition.RadiusMin} .. {definition.RadiusMax})", "target_radius_min", "target_radius_max");
        Need(CtrlCostWeight is null || CtrlCostWeight >= 0, "ctrl_cost_weight must not be negative", "ctrl_cost_weight");
        Need(ReachRadius is null || (ReachRadius >= 0 && float.IsFinite(ReachRadius.Value)), "reach_radius must not be negative (0: off)", "reach_radius");
        if (IsRl2)
        {
            Need(!Env.Trim().Equals("ant", StringComparison.OrdinalIgnoreCase) && !Env.Trim().Equals("ant-forward", StringComparison.OrdinalIgnoreCase),
                $"--method rl2 runs on tasks with targets, goal-ant or point-goal (got env '{Env}')", "env");
            Need(Rl2Hidden >= 1 && Rl2Trials >= 1 && Rl2TrialEpisodes >= 1 && Rl2PpoEpochs >= 1,
                "rl2_hidden, rl2_trials, rl2_trial_episodes and rl2_ppo_epochs must be at least 1", "rl2_hidden", "rl2_trials", "rl2_trial_episodes", "rl2_ppo_epochs");
            Need(Rl2LearningRate > 0 && float.IsFinite(Rl2LearningRate.Value), "rl2_learning_rate must be positive", "rl2_learning_rate");
            Need(Rl2ValueCoeff >= 0 && float.IsFinite(Rl2ValueCoeff.Value), "rl2_value_coeff must be zero or positive", "rl2_value_coeff");
            Fits((long)Rl2Trials!.Value * Rl2TrialEpisodes!.Value * EpgTrainer.EnvSpecFor(this).EpisodeSteps * 4 * Rl2Hidden!.Value,
                "rl2 gate buffer: rl2_trials x trial steps x 4 rl2_hidden", "rl2_trials", "rl2_trial_episodes", "rl2_hidden", "episode_steps");
        }
        Fits((long)Population * LearnersPerMember, "learners: population x tasks_per_member", "population", "tasks_per_member");
        Fits((long)ActSteps * Updates, "lifetime: act_steps x updates", "act_steps", "updates");
        Fits((long)Epochs * LearnersPerMember + LearnersPerMember, "task ids: epochs x tasks_per_member", "epochs", "tasks_per_member");
        Fits((long)BufferRows * 256, "buffer_rows x 256 columns", "buffer_rows");
        Fits((long)Population * LearnersPerMember * BufferRows, "learners x buffer_rows", "population", "tasks_per_member", "buffer_rows");
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
        LearnersPerMember = LearnersPerMember,
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
    }.Validate();
}

/// <summary>
/// A --config file as the user wrote it: its top-level fields, each with the 1-based line of its
/// key. <see cref="Read"/> refuses (exit 2, one line naming the file and line) anything but one JSON
/// object with distinct keys.
/// </summary>
public sealed class ConfigSource
{
    private ConfigSource(string path, IReadOnlyList<(string Key, System.Text.Json.Nodes.JsonNode? Value)> fields, IReadOnlyDictionary<string, int> lines)
    {
        Path = path;
        Fields = fields;
        Lines = lines;
    }

    public string Path { get; }
    public IReadOnlyList<(string Key, System.Text.Json.Nodes.JsonNode? Value)> Fields { get; }
    public IReadOnlyDictionary<string, int> Lines { get; }

    /// <summary>An error about field <paramref name="key"/>, naming the file and its line (exit 2).</summary>
    public EpgException Error(string key, string what) =>
        EpgException.BadArguments(Lines.TryGetValue(key, out int line) ? $"--config {Path} line {line}: {what}" : $"--config {Path}: {what}");

    public ConfigSource Without(string key) =>
        new(Path, Fields, Lines.Where(kv => kv.Key != key).ToDictionary(kv => kv.Key, kv => kv.Value));

    public static ConfigSource Read(string path)
    {
        byte[] bytes;
        try
        {
            if (Directory.Exists(path)) throw EpgException.BadArguments($"--config {path}: is a directory, not a JSON file");
            if (!File.Exists(path)) throw EpgException.BadArguments($"--config {path}: no such file");
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw EpgException.BadArguments($"--config {path}: cannot read it ({e.Message})");
        }
        int LineOf(long offset)
        {
            int line = 1;
            for (long i = 0; i < offset && i < bytes.Length; i++)
                if (bytes[i] == (byte)'\n') line++;
            return line;
        }
        var options = new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
        var lines = new Dictionary<string, int>();
        try
        {
            // one pass with the reader: top-level shape, duplicate keys at every depth, each key's line
            var reader = new Utf8JsonReader(bytes, options);
            if (!reader.Read()) throw EpgException.BadArguments($"--config {path}: empty file (expected a JSON object such as {{\"epochs\": 10}})");
            if (reader.TokenType != JsonTokenType.StartObject)
                throw EpgException.BadArguments($"--config {path} line {LineOf(reader.TokenStartIndex)}: the top level must be a JSON object of fields (got {Describe(reader.TokenType)})");
            var keys = new Stack<HashSet<string>>();
            keys.Push([]);
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        keys.Push([]);
                        break;
                    case JsonTokenType.EndObject:
                        keys.Pop();
                        break;
                    case JsonTokenType.PropertyName:
                        string name = reader.GetString()!;
                        int line = LineOf(reader.TokenStartIndex);
                        if (!keys.Peek().Add(name))
                            throw EpgException.BadArguments($"--config {path} line {line}: key '{name}' appears twice{(keys.Count == 1 && lines.TryGetValue(name, out int first) ? $" (first on line {first})" : "")}");
                        if (keys.Count == 1) lines[name] = line;
                        break;
                }
                if (keys.Count == 0)
                {
                    if (reader.Read())
                        throw EpgException.BadArguments($"--config {path} line {LineOf(reader.TokenStartIndex)}: text after the top-level object");
                    break;
                }
            }
            var root = System.Text.Json.Nodes.JsonNode.Parse(bytes, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })!.AsObject();
            return new ConfigSource(path, root.Select(kv => (kv.Key, kv.Value)).ToList(), lines);
        }
        catch (JsonException e)
        {
            string where = e.LineNumber is long l ? $" line {l + 1}" : "";
            string what = e.Message.Split('.', 2)[0].Split(" LineNumber")[0].Split(" Path:")[0];
            throw EpgException.BadArguments($"--config {path}{where}: not valid JSON ({what})");
        }
    }

    private static string Describe(JsonTokenType t) => t switch
    {
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => t.ToString(),
    };
}
