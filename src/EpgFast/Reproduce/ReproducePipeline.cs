using System.Text.Json.Nodes;
using EpgFast.Backends;
using EpgFast.Kernels.Tasks;
using EpgFast.Runs;
using EpgFast.Tasks;
using EpgFast.Training;

namespace EpgFast.Reproduce;

/// <summary>Where `epg reproduce` reports its stages (stderr in the CLI).</summary>
public interface IReproduceProgress
{
    /// <summary>Stage <paramref name="index"/> (1-based) of <paramref name="count"/> begins (or is skipped, already done).</summary>
    void Stage(int index, int count, string name, bool skipped);

    /// <summary>Inside a stage: <paramref name="done"/> of <paramref name="total"/> (epochs or steps of life), with a detail.</summary>
    void Within(long done, long total, string unit, string detail);

    void Message(string text);
}

/// <summary>
/// The seed's experiment end to end, per seed: meta-train EPG on right-half targets, then train fresh learners with
/// every method on the same fresh right and left tasks, and write the report (<see cref="ReproduceReport"/>). Layout
/// of the output folder:
/// <code>
/// reproduce.json                  the plan (every size); a resumed run must have the same
/// progress.json                   the stages done
/// seed-S/epg/                     EPG's meta-training run (config.json, metrics.csv, checkpoints/, best.phi)
/// seed-S/rl2/                     RL^2's meta-training run (the same, best.rl2)
/// seed-S/eval-right/, eval-left/  every method's curves.csv, summary.json, plots/ (as `epg eval` writes them)
/// seed-S/outcomes/SIDE-METHOD.json  per-learner finals, curves and paths
/// report.md, figures/learning-curves.png, figures/paths.png
/// </code>
/// Every stage checkpoints: meta-training through its run's checkpoints, the evaluations by their outcome files;
/// with resume a killed run continues at its first unfinished stage and ends with the same report (every stage is
/// seeded, and a resumed meta-training is bit-identical to an unbroken one).
/// </summary>
public sealed class ReproducePipeline(ReproducePlan plan, RunDirectory dir, Device device, IReproduceProgress progress)
{
    /// <summary>The methods in the report's order: id and legend name.</summary>
    public static readonly (string Id, string Name)[] Methods =
    [
        ("epg", "EPG (evolved loss, frozen)"),
        ("initial", "initial loss (not evolved)"),
        ("ppo", "PPO from scratch"),
        ("rl2", "RL^2 (meta-trained, frozen)"),
    ];

    public static readonly string[] Sides = ["right", "left"];

    /// <summary>A stage; <paramref name="Output"/>, when given, is the file whose absence makes a listed stage run again.</summary>
    private sealed record Stage(string Id, string Name, Action Run, string? Output = null);

    /// <summary>
    /// Whether <paramref name="root"/> can take this run, touching nothing: a new run needs a missing or empty folder; a
    /// resumed one a folder holding a reproduce run of the same plan.
    /// </summary>
    public static void CheckFolder(string root, ReproducePlan plan, bool resume)
    {
        string planPath = Path.Combine(root, "reproduce.json");
        if (resume)
        {
            if (!File.Exists(planPath)) throw new EpgException($"--resume: {root} holds no reproduce run (no reproduce.json)");
            JsonNode? old;
            try
            {
                old = JsonNode.Parse(File.ReadAllText(planPath));
            }
            catch (System.Text.Json.JsonException)
            {
                throw new EpgException($"--resume: {planPath} is damaged");
            }
            if (!JsonNode.DeepEquals(old, plan.ToJson()))
                throw new EpgException($"--resume: {root} was started with another plan (its reproduce.json differs from this --scale, --seed and --seeds); use those or another --out");
        }
        else if (Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any())
            throw new EpgException(File.Exists(planPath)
                ? $"{root} already holds a reproduce run; continue it with --resume or choose another --out"
                : $"--out {root} is not empty; reproduce writes a folder of its own");
    }

    /// <summary>Checks the folder (<see cref="CheckFolder"/>), then runs every stage not yet done.</summary>
    public void Run(bool resume)
    {
        CheckFolder(dir.Root, plan, resume);
        if (!resume) dir.WriteText("reproduce.json", plan.ToJson().ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        var done = ReadProgress();
        var stages = Stages().ToList();
        for (int i = 0; i < stages.Count; i++)
        {
            var s = stages[i];
            bool skip = done.Contains(s.Id) && (s.Output is null || File.Exists(s.Output));
            progress.Stage(i + 1, stages.Count, s.Name, skip);
            if (skip) continue;
            s.Run();
            if (!done.Contains(s.Id)) done.Add(s.Id);
            dir.WriteText("progress.json", new JsonObject { ["done"] = new JsonArray(done.Select(d => (JsonNode)d).ToArray()) }.ToJsonString());
        }
    }

    private List<string> ReadProgress()
    {
        string path = dir.PathOf("progress.json");
        if (!File.Exists(path)) return [];
        try
        {
            return JsonNode.Parse(File.ReadAllText(path))?["done"]?.AsArray().Select(n => n!.GetValue<string>()).ToList() ?? [];
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
        {
            throw new EpgException($"{path} is damaged; delete it (the finished stages' files are kept and the stages run again)");
        }
    }

    private IEnumerable<Stage> Stages()
    {
        foreach (ulong seed in plan.SeedList)
        {
            ulong s = seed;
            yield return new Stage($"seed-{s}/epg-train", $"seed {s}: meta-train EPG on right targets ({plan.Epg.Epochs} epochs)", () => TrainEpg(s));
            yield return new Stage($"seed-{s}/rl2-train", $"seed {s}: meta-train RL^2 on right targets ({plan.Rl2.Epochs} epochs)", () => TrainRl2(s));
            foreach (string side in Sides)
                foreach (var (id, name) in Methods)
                {
                    string sd = side, m = id;
                    yield return new Stage($"seed-{s}/{side}-{id}", $"seed {s}: {name} on {side} targets ({plan.Learners} learners)", () => Evaluate(s, sd, m),
                        dir.PathOf(OutcomeFile(s, sd, m)));
                }
        }
        yield return new Stage("report", "report.md and figures", WriteReport, dir.ReportPath);
    }

    /// <summary>The seed's folder, relative to the output.</summary>
    public static string SeedFolder(ulong seed) => $"seed-{seed}";

    /// <summary>The outcome file of a seed, side and method, relative to the output folder.</summary>
    private static string OutcomeFile(ulong seed, string side, string method) => Path.Combine(SeedFolder(seed), "outcomes", $"{side}-{method}.json");

    private void TrainEpg(ulong seed)
    {
        var config = plan.EpgFor(seed);
        string path = dir.PathOf(Path.Combine(SeedFolder(seed), "epg"));
        bool resume = File.Exists(Path.Combine(path, "config.json"));
        using var run = RunDirectory.Lock(path);
        EpgTrainer.Train(config, run, resume, device,
            r => progress.Within(r.Epoch + 1, config.Epochs, "epochs", $"fitness mean {r.Info.FitnessMean:F3}" + (r.TestFitness is { } t ? $", test {t:F3}" : "")),
            progress.Message);
    }

    private void TrainRl2(ulong seed)
    {
        var config = plan.Rl2For(seed);
        string path = dir.PathOf(Path.Combine(SeedFolder(seed), "rl2"));
        bool resume = File.Exists(Path.Combine(path, "config.json"));
        using var run = RunDirectory.Lock(path);
        Rl2.Rl2Trainer.Train(config, run, resume, device,
            r => progress.Within(r.Epoch + 1, config.Epochs, "epochs", $"final-episode return {r.FinalReturn:F3}, final distance {r.FinalDistance:F3}"),
            progress.Message);
    }

    /// <summary>Task ids of the evaluations: `epg eval`'s, the same for every method (one region per side).</summary>
    private int[] TaskIds => Evaluator.TestTaskIds(plan.Learners, Evaluator.EvalRound);

    private void Evaluate(ulong seed, string side, string method)
    {
        if (method == "rl2")
        {
            EvaluateRl2(seed, side);
            return;
        }
        var config = plan.EpgFor(seed);
        var spec = EpgTrainer.EnvSpecFor(config);
        bool ppo = method == "ppo";
        var region = GoalTasks.ParseRegion(side);
        int learners = plan.Learners;
        using var evaluator = new Evaluator(device, spec, config, learners, ppo);
        float[] phi = method switch
        {
            "epg" => PhiFile.Read(dir.PathOf(Path.Combine(SeedFolder(seed), "epg", "best.phi")), evaluator.Layout.PhiSize).Phi,
            _ => evaluator.Layout.Initialize(seed),
        };
        string label = $"{method}-{side}";
        // every method meets the same tasks: the same ids and seed, one region per side
        var r = evaluator.Run(label, ppo ? EvalMethod.Ppo : EvalMethod.Epg, phi, region, TaskIds, seed, Evaluator.EvalRound, recordPaths: learners,
            (stepsDone, total, mean) => progress.Within(stepsDone, total, "steps of life", $"last-episode return mean {mean:F3}"));
        Save(seed, side, method, r, EnvFactory.Parse(config.Env) != EnvKind.Ant);
    }

    /// <summary>RL^2's frozen policy runs one trial as long as the other methods' lives (its hidden state through every episode) on each task.</summary>
    private void EvaluateRl2(ulong seed, string side)
    {
        var config = plan.Rl2EvalFor(seed);
        var policy = Rl2.Rl2PolicyFile.Read(dir.PathOf(Path.Combine(SeedFolder(seed), "rl2", Rl2.Rl2Trainer.BestFileName)));
        Rl2.Rl2Trainer.EnsureFits(device, config, null, policy);
        var r = Rl2.Rl2Evaluator.Run(device, policy, config, $"rl2-{side}", GoalTasks.ParseRegion(side), plan.Learners, recordPaths: plan.Learners,
            (stepsDone, total, mean) => progress.Within(stepsDone, total, "steps of the trial", $"last-episode return mean {mean:F3}"));
        Save(seed, side, "rl2", r, goal: true);
    }

    private void Save(ulong seed, string side, string method, EvalResult r, bool goal)
    {
        using (var evalDir = RunDirectory.Lock(dir.PathOf(Path.Combine(SeedFolder(seed), $"eval-{side}"))))
            EvalOutputs.Write(evalDir, r with { Paths = r.Paths.Take(MethodOutcome.FigurePaths).ToList() }, goal);
        dir.WriteText(OutcomeFile(seed, side, method), MethodOutcome.From(method, side, seed, r).ToJson());
    }

    private void WriteReport()
    {
        var outcomes = new List<MethodOutcome>();
        foreach (ulong seed in plan.SeedList)
            foreach (string side in Sides)
                foreach (var (id, _) in Methods)
                    outcomes.Add(MethodOutcome.Read(dir.PathOf(OutcomeFile(seed, side, id))));
        ReproduceReport.Write(dir, plan, outcomes, Methods);
        progress.Message($"report: {dir.ReportPath}");
    }
}
