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
        var data = new Outcomes(plan, outcomes);
        var md = new StringBuilder();
        md.AppendLine($"# EPG reproduced: scale {plan.Scale}");
        md.AppendLine();
        md.AppendLine($"Made by `epg reproduce --scale {plan.Scale} --seed {plan.Seed} --seeds {plan.Seeds}`. Every figure below is computed from the");
        md.AppendLine("outcome files under seed-*/outcomes/ (one per seed, side and method).");
        md.AppendLine();
        Setup(md, plan, methods);
        foreach (string side in ReproducePipeline.Sides) Table(md, plan, data, side, methods);
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
        Claims(md, plan, data, methods);
        dir.WriteText("report.md", md.ToString());
        Figures(dir, outcomes, methods, plan);
    }

    /// <summary>The outcomes by side and method: every task pooled over seeds, or one mean per seed.</summary>
    private sealed class Outcomes(ReproducePlan plan, IReadOnlyList<MethodOutcome> all)
    {
        private IEnumerable<MethodOutcome> Of(string side, string method) => all.Where(o => o.Side == side && o.Method == method);

        public double[] Pooled(string side, string method, Func<MethodOutcome, IEnumerable<double>> f) => Of(side, method).SelectMany(f).ToArray();

        public double[] PerSeed(string side, string method, Func<MethodOutcome, IEnumerable<double>> f)
            => Of(side, method).Select(o => f(o).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average()).ToArray();

        /// <summary>What the claims are tested on: one mean per seed with 3 seeds or more, else every task.</summary>
        public double[] Sample(string side, string method, Func<MethodOutcome, IEnumerable<double>> f)
            => plan.Seeds >= 3 ? PerSeed(side, method, f) : Pooled(side, method, f);
    }

    private static void Setup(StringBuilder md, ReproducePlan plan, IReadOnlyList<(string Id, string Name)> methods)
    {
        var e = plan.Epg;
        md.AppendLine("## Setup");
        md.AppendLine();
        md.AppendLine("| size | value |");
        md.AppendLine("| --- | --- |");
        void Row(string k, object v) => md.AppendLine(FormattableString.Invariant($"| {k} | {v} |"));
        Row("task", e.Env == "goal-ant" ? $"goal-ant (definition {e.GoalAnt}: {plan.Spec.AntTask.Summary()}) on the {e.Engine} engine" : e.Env);
        Row("seeds", string.Join(", ", plan.SeedList));
        var (rMin, rMax) = plan.TargetRadius;
        int episode = plan.EpisodeSteps;
        Row("targets", $"radius {rMin}-{rMax} m from the start, never observed; meta-training on the {e.TrainTargets} half (x > 0), tests on both halves");
        Row("episode", $"{episode} steps");
        Row("EPG meta-training", $"{e.Epochs} epochs x {e.Population} members ({(e.Antithetic ? "antithetic" : "plain")}) x {e.LearnersPerMember} learners per member, sigma {e.Sigma}, ES learning rate {e.EsLearningRate} -> {e.EsFinalLearningRate}, PPO bootstrap (alpha) {e.AlphaSchedule}");
        Row("life of every learner", $"{e.Updates} updates x {e.ActSteps} steps = {e.Lifetime} steps");
        Row("learner", $"buffer {e.BufferRows} rows, minibatch {e.Minibatch}, {e.PassesPerUpdate} {(e.PassesPerUpdate == 1 ? "pass" : "passes")} per update, Adam step size {e.InnerLearningRate} with the losses, {e.PpoStepSize} with PPO from scratch");
        var r = plan.Rl2;
        Row("RL^2 meta-training", $"{r.Epochs} epochs x {r.Rl2Trials} trials of {r.Rl2TrialEpisodes} episodes (the hidden state through all of them), GRU {r.Rl2Hidden} units, {r.Rl2PpoEpochs} PPO passes per epoch, learning rate {r.Rl2LearningRate}");
        Row("RL^2 evaluation", $"one trial per task of {plan.Rl2EvalEpisodes} episodes ({plan.Rl2EvalEpisodes * episode} steps), the hidden state through all of them");
        Row("evaluation", $"{plan.Learners} fresh learners per method, side and seed, on the same tasks for every method (one per learner, never seen in meta-training)");
        Row("methods", string.Join("; ", methods.Select(m => m.Name)));
        md.AppendLine();
        md.AppendLine("Intervals: mean ± half-width of the two-sided 95% Student-t interval; over tasks pools every seed's learners, over");
        md.AppendLine("seeds uses each seed's mean. Final return: the mean of each learner's last finished episodes (fitness; RL^2: its");
        md.AppendLine("trial's last episode); final distance: from the torso (point) to the target at the end of the last finished episode.");
        md.AppendLine();
    }

    private static void Table(StringBuilder md, ReproducePlan plan, Outcomes data, string side, IReadOnlyList<(string Id, string Name)> methods)
    {
        md.AppendLine($"## {char.ToUpperInvariant(side[0])}{side[1..]} targets{(side == plan.Epg.TrainTargets ? " (the meta-training distribution)" : " (never seen in meta-training)")}");
        md.AppendLine();
        md.AppendLine(plan.Seeds > 1
            ? "| method | final return, over tasks | over seeds | final distance (m), over tasks | over seeds | start distance (m) | mean return over life |"
            : "| method | final return | final distance (m) | start distance (m) | mean return over life |");
        md.AppendLine(plan.Seeds > 1 ? "| --- | --- | --- | --- | --- | --- | --- |" : "| --- | --- | --- | --- | --- |");
        foreach (var (id, name) in methods)
        {
            var ret = Statistics.Mean(data.Pooled(side, id, o => o.FinalReturns));
            var dist = Statistics.Mean(data.Pooled(side, id, o => o.FinalDistances));
            var start = Statistics.Mean(data.Pooled(side, id, o => o.StartDistances));
            var life = Statistics.Mean(data.Pooled(side, id, o => o.LifeMeanReturns));
            md.AppendLine(plan.Seeds > 1
                ? $"| {name} | {ret.Format()} | {Statistics.Mean(data.PerSeed(side, id, o => o.FinalReturns)).Format()} | {dist.Format()} | {Statistics.Mean(data.PerSeed(side, id, o => o.FinalDistances)).Format()} | {start.Format()} | {life.Format()} |"
                : $"| {name} | {ret.Format()} | {dist.Format()} | {start.Format()} | {life.Format()} |");
        }
        md.AppendLine();
    }

    /// <summary>The seed's three claims, each answered from a 95% interval: held, not held, or inconclusive.</summary>
    private static void Claims(StringBuilder md, ReproducePlan plan, Outcomes data, IReadOnlyList<(string Id, string Name)> methods)
    {
        md.AppendLine("## The seed's claims, from these numbers");
        md.AppendLine();
        md.AppendLine(plan.Seeds >= 3
            ? "Each claim is tested with the 95% interval over seeds (each seed's mean), as the seeds are the independent runs."
            : "Each claim is tested with the 95% interval over tasks (with fewer than 3 seeds, over seeds would say little).");
        md.AppendLine();
        // 1: EPG's frozen loss learns left targets: its learners end closer than they started, and beat the unevolved loss
        var closer = Statistics.Mean(data.Sample("left", "epg", o => o.StartDistances.Zip(o.FinalDistances, (s, f) => s - f)));
        var overInitial = Statistics.Difference(data.Sample("left", "epg", o => o.FinalReturns), data.Sample("left", "initial", o => o.FinalReturns));
        var overPpoLeft = Statistics.Difference(data.Sample("left", "epg", o => o.FinalReturns), data.Sample("left", "ppo", o => o.FinalReturns));
        var v1 = Both(Statistics.AboveZero(closer), Statistics.AboveZero(overInitial));
        md.AppendLine($"1. **EPG's evolved loss, frozen, trains learners to reach left targets** (never seen in meta-training): **{Say(v1)}**.");
        md.AppendLine($"   Start distance minus final distance: {closer.Format()} m (held needs it above 0); final return of EPG minus the initial loss: {overInitial.Format()} (held needs it above 0). For reference, EPG minus PPO from scratch on the left: {overPpoLeft.Format()}.");
        md.AppendLine();
        int claim = 2;
        if (methods.Any(m => m.Id == "rl2"))
        {
            var rightward = Statistics.Mean(data.Sample("left", "rl2", o => o.FinalX));
            md.AppendLine($"{claim++}. **RL^2, meta-trained on the right, keeps walking right on left targets**: **{Say(Statistics.AboveZero(rightward))}**.");
            md.AppendLine($"   Final torso x of RL^2's learners on left targets: {rightward.Format()} m (held needs it above 0: the right half; the targets all have x < 0). Its final distance on the left: {Statistics.Mean(data.Sample("left", "rl2", o => o.FinalDistances)).Format()} m, on the right: {Statistics.Mean(data.Sample("right", "rl2", o => o.FinalDistances)).Format()} m.");
            md.AppendLine();
        }
        var faster = Statistics.Difference(data.Sample("right", "epg", o => o.LifeMeanReturns), data.Sample("right", "ppo", o => o.LifeMeanReturns));
        md.AppendLine($"{claim}. **EPG learns faster than PPO on its own distribution** (right targets): **{Say(Statistics.AboveZero(faster))}**.");
        md.AppendLine($"   Mean return over the whole life (the area under the learning curve), EPG minus PPO: {faster.Format()} (held needs it above 0).");
        md.AppendLine();
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
