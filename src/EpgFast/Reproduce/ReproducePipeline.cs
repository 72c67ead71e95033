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
    ];

    public static readonly string[] Sides = ["right", "left"];

    private sealed record Stage(string Id, string Name, Action Run);

    /// <summary>Checks the folder against the plan (new: empty of a reproduce run; resume: the same plan), then runs every stage not yet done.</summary>
    public void Run(bool resume)
    {
        var planJson = plan.ToJson();
        string planPath = dir.PathOf("reproduce.json");
        if (resume)
        {
            if (!File.Exists(planPath)) throw new EpgException($"--resume: {dir.Root} holds no reproduce run (no reproduce.json)");
            var old = JsonNode.Parse(File.ReadAllText(planPath));
            if (!JsonNode.DeepEquals(old, planJson))
                throw new EpgException($"--resume: {dir.Root} was started with another plan (reproduce.json differs from --scale/--seed/--seeds); use another --out");
        }
        else
        {
            if (File.Exists(planPath)) throw new EpgException($"{dir.Root} already holds a reproduce run; continue it with --resume or choose another --out");
            dir.WriteText("reproduce.json", planJson.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        }
        var done = ReadProgress();
        var stages = Stages().ToList();
        for (int i = 0; i < stages.Count; i++)
        {
            var s = stages[i];
            bool skip = done.Contains(s.Id);
            progress.Stage(i + 1, stages.Count, s.Name, skip);
            if (skip) continue;
            s.Run();
            done.Add(s.Id);
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
            foreach (string side in Sides)
                foreach (var (id, name) in Methods)
                {
                    string sd = side, m = id;
                    yield return new Stage($"seed-{s}/{side}-{id}", $"seed {s}: {name} on {side} targets ({plan.Learners} learners)", () => Evaluate(s, sd, m));
                }
        }
        yield return new Stage("report", "report.md and figures", WriteReport);
    }

    /// <summary>The seed's folder, relative to the output.</summary>
    public static string SeedFolder(ulong seed) => $"seed-{seed}";

    private void TrainEpg(ulong seed)
    {
        var config = plan.EpgFor(seed);
        string path = dir.PathOf(Path.Combine(SeedFolder(seed), "epg"));
        Directory.CreateDirectory(path);
        bool resume = File.Exists(Path.Combine(path, "config.json"));
        using var run = RunDirectory.Lock(path);
        EpgTrainer.Train(config, run, resume, device,
            r => progress.Within(r.Epoch + 1, config.Epochs, "epochs", $"fitness mean {r.Info.FitnessMean:F3}" + (r.TestFitness is { } t ? $", test {t:F3}" : "")),
            progress.Message);
    }

    private void Evaluate(ulong seed, string side, string method)
    {
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
        var taskIds = Evaluator.TestTaskIds(learners, 1 << 14);
        var r = evaluator.Run(label, ppo ? EvalMethod.Ppo : EvalMethod.Epg, phi, region, taskIds, seed, 1u << 14, recordPaths: learners,
            (stepsDone, total, mean) => progress.Within(stepsDone, total, "steps of life", $"last-episode return mean {mean:F3}"));
        Save(seed, side, method, r, EnvFactory.Parse(config.Env) != EnvKind.Ant);
    }

    private void Save(ulong seed, string side, string method, EvalResult r, bool goal)
    {
        using (var evalDir = RunDirectory.Lock(dir.PathOf(Path.Combine(SeedFolder(seed), $"eval-{side}"))))
            EvalOutputs.Write(evalDir, r with { Paths = r.Paths.Take(MethodOutcome.FigurePaths).ToList() }, goal);
        dir.WriteText(Path.Combine(SeedFolder(seed), "outcomes", $"{side}-{method}.json"), MethodOutcome.From(method, side, seed, r).ToJson());
    }

    private void WriteReport()
    {
        var outcomes = new List<MethodOutcome>();
        foreach (ulong seed in plan.SeedList)
            foreach (string side in Sides)
                foreach (var (id, _) in Methods)
                    outcomes.Add(MethodOutcome.Read(dir.PathOf(Path.Combine(SeedFolder(seed), "outcomes", $"{side}-{id}.json"))));
        ReproduceReport.Write(dir, plan, outcomes, Methods);
        progress.Message($"report: {dir.ReportPath}");
    }
}
