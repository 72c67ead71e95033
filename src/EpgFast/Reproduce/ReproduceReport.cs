using System.Globalization;
using System.Text;
using EpgFast.Runs;

namespace EpgFast.Reproduce;

/// <summary>
/// report.md of `epg reproduce`: every size of the setup; per target side a table of final return and final distance
/// (mean and 95% interval over tasks, and over seeds when there are several); the learning-curve figure (right and
/// left side by side, every method's mean and 95% band over tasks); the paths figure (top view, targets marked, one
/// colour per method); and each of the seed's claims answered from those numbers as held, not held or inconclusive.
/// </summary>
public static class ReproduceReport
{
    public const string CurvesFigure = "figures/learning-curves.png";
    public const string PathsFigure = "figures/paths.png";

    public static void Write(RunDirectory dir, ReproducePlan plan, IReadOnlyList<MethodOutcome> outcomes, IReadOnlyList<(string Id, string Name)> methods)
    {
        IEnumerable<MethodOutcome> Of(string side, string method) => outcomes.Where(o => o.Side == side && o.Method == method);
        double[] Pooled(string side, string method, Func<MethodOutcome, IEnumerable<double>> f) => Of(side, method).SelectMany(f).ToArray();
        double[] PerSeed(string side, string method, Func<MethodOutcome, IEnumerable<double>> f)
            => Of(side, method).Select(o => f(o).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average()).ToArray();

        var md = new StringBuilder();
        var e = plan.Epg;
        md.AppendLine($"# EPG reproduced: scale {plan.Scale}");
        md.AppendLine();
        md.AppendLine($"Made by `epg reproduce --scale {plan.Scale} --seed {plan.Seed} --seeds {plan.Seeds}`. Every figure below is computed from the");
        md.AppendLine("outcome files under seed-*/outcomes/ (one per seed, side and method).");
        md.AppendLine();
        md.AppendLine("## Setup");
        md.AppendLine();
        md.AppendLine("| size | value |");
        md.AppendLine("| --- | --- |");
        void Row(string k, object v) => md.AppendLine(FormattableString.Invariant($"| {k} | {v} |"));
        Row("task", e.Env == "goal-ant" ? $"goal-ant ({e.GoalAnt} reward) on the {e.Engine} engine" : e.Env);
        Row("seeds", string.Join(", ", plan.SeedList));
        Row("meta-training targets", $"{e.TrainTargets} half, radius {e.TargetRadiusMin}-{e.TargetRadiusMax} m");
        Row("EPG meta-training", $"{e.Epochs} epochs x {e.Population} members ({(e.Antithetic ? "antithetic" : "plain")}) x {e.LearnersPerMember} learners per member, sigma {e.Sigma}, ES learning rate {e.EsLearningRate} -> {e.EsFinalLearningRate}, PPO bootstrap (alpha) {e.AlphaSchedule}");
        Row("life of every learner", $"{e.Updates} updates x {e.ActSteps} steps = {e.Lifetime} steps");
        Row("learner", $"buffer {e.BufferRows} rows, minibatch {e.Minibatch}, {e.PassesPerUpdate} pass per update, inner learning rate {e.InnerLearningRate}");
        Row("evaluation", $"{plan.Learners} fresh learners per method, side and seed, on the same tasks for every method (one per learner, never seen in meta-training)");
        Row("methods", string.Join("; ", methods.Select(m => m.Name)));
        md.AppendLine();
        md.AppendLine("Intervals: mean ± half-width of the two-sided 95% Student-t interval; over tasks pools every seed's learners, over");
        md.AppendLine("seeds uses each seed's mean. Final return: the mean of each learner's last finished episodes (fitness); final");
        md.AppendLine("distance: from the torso (point) to the target at the end of the last finished episode.");
        md.AppendLine();

        foreach (string side in ReproducePipeline.Sides)
        {
            md.AppendLine($"## {char.ToUpperInvariant(side[0])}{side[1..]} targets{(side == e.TrainTargets ? " (the meta-training distribution)" : " (never seen in meta-training)")}");
            md.AppendLine();
            md.AppendLine(plan.Seeds > 1
                ? "| method | final return, over tasks | over seeds | final distance (m), over tasks | over seeds | start distance (m) | mean return over life |"
                : "| method | final return | final distance (m) | start distance (m) | mean return over life |");
            md.AppendLine(plan.Seeds > 1 ? "| --- | --- | --- | --- | --- | --- | --- |" : "| --- | --- | --- | --- | --- |");
            foreach (var (id, name) in methods)
            {
                var ret = Statistics.Mean(Pooled(side, id, o => o.FinalReturns));
                var dist = Statistics.Mean(Pooled(side, id, o => o.FinalDistances));
                var start = Statistics.Mean(Pooled(side, id, o => o.StartDistances));
                var life = Statistics.Mean(Pooled(side, id, o => o.LifeMeanReturns));
                md.AppendLine(plan.Seeds > 1
                    ? $"| {name} | {ret.Format()} | {Statistics.Mean(PerSeed(side, id, o => o.FinalReturns)).Format()} | {dist.Format()} | {Statistics.Mean(PerSeed(side, id, o => o.FinalDistances)).Format()} | {start.Format()} | {life.Format()} |"
                    : $"| {name} | {ret.Format()} | {dist.Format()} | {start.Format()} | {life.Format()} |");
            }
            md.AppendLine();
        }

        md.AppendLine("## Learning curves");
        md.AppendLine();
        md.AppendLine($"![learning curves]({CurvesFigure})");
        md.AppendLine();
        md.AppendLine("Return of each learner's last finished episode against its step of life; mean over tasks (all seeds) and 95% band.");
        md.AppendLine();
        md.AppendLine("## Paths");
        md.AppendLine();
        md.AppendLine($"![paths]({PathsFigure})");
        md.AppendLine();
        md.AppendLine($"Seen from above: the last finished episode of the first {MethodOutcome.FigurePaths} learners of seed {plan.Seed} per method; dots: starts, crosses: targets.");
        md.AppendLine();

        md.AppendLine("## The seed's claims, from these numbers");
        md.AppendLine();
        md.AppendLine(plan.Seeds >= 3
            ? "Each claim is tested with the 95% interval over seeds (each seed's mean), as the seeds are the independent runs."
            : "Each claim is tested with the 95% interval over tasks (with fewer than 3 seeds, over seeds would say little).");
        md.AppendLine();
        Func<string, string, Func<MethodOutcome, IEnumerable<double>>, double[]> sample = plan.Seeds >= 3 ? PerSeed : Pooled;
        // 1: EPG's frozen loss learns left targets: its learners end closer than they started, and beat the unevolved loss
        var closer = Statistics.Mean(sample("left", "epg", o => o.StartDistances.Zip(o.FinalDistances, (s, f) => s - f)));
        var overInitial = Statistics.Difference(sample("left", "epg", o => o.FinalReturns), sample("left", "initial", o => o.FinalReturns));
        var overPpoLeft = Statistics.Difference(sample("left", "epg", o => o.FinalReturns), sample("left", "ppo", o => o.FinalReturns));
        var v1 = Both(Statistics.AboveZero(closer), Statistics.AboveZero(overInitial));
        md.AppendLine($"1. **EPG's evolved loss, frozen, trains learners to reach left targets** (never seen in meta-training): **{Say(v1)}**.");
        md.AppendLine($"   Start distance minus final distance: {closer.Format()} m (held needs it above 0); final return of EPG minus the initial loss: {overInitial.Format()} (held needs it above 0). For reference, EPG minus PPO from scratch on the left: {overPpoLeft.Format()}.");
        md.AppendLine();
        int claim = 2;
        if (methods.Any(m => m.Id == "rl2"))
        {
            var rightward = Statistics.Mean(sample("left", "rl2", o => o.FinalX));
            var v2 = Statistics.AboveZero(rightward);
            md.AppendLine($"{claim++}. **RL^2, meta-trained on the right, keeps walking right on left targets**: **{Say(v2)}**.");
            md.AppendLine($"   Final torso x of RL^2's learners on left targets: {rightward.Format()} m (held needs it above 0: the right half; the targets all have x < 0). Its final distance on the left: {Statistics.Mean(sample("left", "rl2", o => o.FinalDistances)).Format()} m, on the right: {Statistics.Mean(sample("right", "rl2", o => o.FinalDistances)).Format()} m.");
            md.AppendLine();
        }
        var faster = Statistics.Difference(sample("right", "epg", o => o.LifeMeanReturns), sample("right", "ppo", o => o.LifeMeanReturns));
        var v3 = Statistics.AboveZero(faster);
        md.AppendLine($"{claim}. **EPG learns faster than PPO on its own distribution** (right targets): **{Say(v3)}**.");
        md.AppendLine($"   Mean return over the whole life (the area under the learning curve), EPG minus PPO: {faster.Format()} (held needs it above 0).");
        md.AppendLine();

        dir.WriteText("report.md", md.ToString());
        Figures(dir, outcomes, methods, plan);
    }

    private static Verdict Both(Verdict a, Verdict b)
        => a == Verdict.Held && b == Verdict.Held ? Verdict.Held : a == Verdict.NotHeld || b == Verdict.NotHeld ? Verdict.NotHeld : Verdict.Inconclusive;

    private static string Say(Verdict v) => v switch { Verdict.Held => "held", Verdict.NotHeld => "not held", _ => "inconclusive at this confidence" };

    private static void Figures(RunDirectory dir, IReadOnlyList<MethodOutcome> outcomes, IReadOnlyList<(string Id, string Name)> methods, ReproducePlan plan)
    {
        var curves = new List<ScottPlot.Plot>();
        var paths = new List<ScottPlot.Plot>();
        var names = methods.Select(m => m.Name).ToList();
        foreach (string side in ReproducePipeline.Sides)
        {
            var series = new List<CurveSeries>();
            foreach (var (id, name) in methods)
            {
                var of = outcomes.Where(o => o.Side == side && o.Method == id).ToList();
                if (of.Count == 0 || of[0].CurveSteps.Length == 0) continue;
                double[] steps = of[0].CurveSteps;
                var est = Enumerable.Range(0, steps.Length).Select(t => Statistics.Mean(of.SelectMany(o => t < o.CurveReturns.Length ? o.CurveReturns[t] : []))).ToArray();
                series.Add(new CurveSeries(name, steps, est.Select(x => x.Mean).ToArray(),
                    est.Select(x => double.IsFinite(x.HalfWidth) ? x.Lower : x.Mean).ToArray(), est.Select(x => double.IsFinite(x.HalfWidth) ? x.Upper : x.Mean).ToArray()));
            }
            curves.Add(LearningCurvesPlot.Build(series, $"{side} targets: return (mean, 95% band over tasks)"));
            var ps = methods.SelectMany(m => outcomes.Where(o => o.Side == side && o.Method == m.Id && o.Seed == plan.Seed)
                .SelectMany(o => o.Paths.Select(p => p.ToTorsoPath(m.Name)))).ToList();
            paths.Add(PathsPlot.Build(ps, $"{side} targets: paths (seed {plan.Seed})", names));
        }
        PlotStyle.SaveSideBySide(curves[0], curves[1], dir.PathOf(CurvesFigure), 1600, 560);
        PlotStyle.SaveSideBySide(paths[0], paths[1], dir.PathOf(PathsFigure), 1600, 800);
    }
}
