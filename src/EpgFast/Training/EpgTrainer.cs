using System.Text.Json.Nodes;
using EpgFast.Backends;
using EpgFast.Distributed;
using EpgFast.Evolution;
using EpgFast.Kernels.Tasks;
using EpgFast.Learners;
using EpgFast.Networks;
using EpgFast.Runs;
using EpgFast.Tasks;

namespace EpgFast.Training;

/// <summary>What the trainer tells its caller after each epoch (for the progress line).</summary>
public readonly record struct EpochReport(int Epoch, EsStepInfo Info, double Alpha, int Quarantined, double StepsPerSecond, double UpdateShare, double? TestFitness);

/// <summary>
/// `epg train`: the EPG outer loop. Each epoch: ask W members, train W x T fresh learners in one
/// lockstep batch (learner l of member l / T on task epoch x T + l mod T, targets in the training
/// region), tell the member fitnesses, commit metrics and checkpoints. Every TestEvery epochs the
/// current phi trains fresh learners with alpha = 0 on fresh tasks; the best of those scores is
/// the run's best phi. At the end, report.md compares the evolved loss, the initial loss and PPO
/// on the same fresh test tasks.
/// </summary>
public sealed class EpgTrainer
{
    public static readonly string[] ExtraColumns = ["alpha", "quarantined", "test_fitness"];

    public static EnvSpec EnvSpecFor(TrainConfig c)
    {
        var kind = EnvFactory.Parse(c.Env);
        var region = GoalTasks.ParseRegion(c.TrainTargets);
        var ant = kind == EnvKind.Ant ? AntTaskConfig.AntForward : AntTaskConfig.GoalAntDefinition(c.GoalAnt);
        ant = ant with { Region = region, RadiusMin = c.TargetRadiusMin ?? ant.RadiusMin, RadiusMax = c.TargetRadiusMax ?? ant.RadiusMax };
        if (c.EpisodeSteps > 0) ant = ant with { MaxSteps = c.EpisodeSteps };
        if (c.GoalAntReward is not null) ant = ant with { GoalReward = AntTaskConfig.ParseGoalReward(c.GoalAntReward) };
        if (c.HealthyReward is float healthy) ant = ant with { HealthyReward = healthy };
        if (c.TerminateWhenUnhealthy is bool terminate) ant = ant with { TerminateWhenUnhealthy = terminate };
        if (c.CtrlCostWeight is float ctrl) ant = ant with { CtrlCostWeight = ctrl };
        if (c.ReachRadius is float reach) ant = ant with { ReachRadius = reach };
        var point = new PointGoalConfig { Region = region };
        if (c.EpisodeSteps > 0) point = point with { MaxSteps = c.EpisodeSteps };
        return new EnvSpec { Kind = kind, Engine = TrainConfig.ParseEngine(c.Engine), Ant = ant, PointGoal = point };
    }

    /// <summary>Runs (or resumes) a training run in <paramref name="outDir"/> (locked for the call); returns the final state.</summary>
    public static EsState Train(TrainConfig config, string outDir, bool resume, Device device,
        Action<EpochReport> onEpoch, Action<string> message)
    {
        config.Validate();
        RunDirectory.CheckPath(outDir);
        using var dir = RunDirectory.Lock(outDir);
        return Train(config, dir, resume, device, onEpoch, message);
    }

    /// <summary>
    /// What a training run keeps alive at once, for <see cref="MemoryCheck"/>: the members' learners
    /// (<paramref name="learners"/>: this process's share; default all of them) and the periodic
    /// tests' fresh learners.
    /// </summary>
    public static IReadOnlyList<MemoryCheck.Batch> MemoryBatches(TrainConfig c, int? learners = null) =>
        c.TestEvery > 0
            ? [new("training", learners ?? c.Learners, c.LearnersPerMember, c.Alpha().UsesPpo), new("periodic tests", c.TestTasks, c.TestTasks, false)]
            : [new("training", learners ?? c.Learners, c.LearnersPerMember, c.Alpha().UsesPpo)];

    /// <summary>
    /// Runs (or resumes) a training run in <paramref name="dir"/>, which the caller has locked
    /// (<see cref="RunDirectory.Lock"/>). Everything that can be refused (the config, the memory
    /// it needs, an existing run, the resumed run's config) is checked before the first write.
    /// With several processes (<paramref name="exchange"/>, e.g. under mpirun) each rank trains its
    /// <see cref="Distribution.Share"/> of the members, the ranks swap the learners' fitnesses every
    /// epoch (L doubles in all, plus one quarantine count per rank) and take the same ES step; rank 0
    /// alone holds <paramref name="dir"/> (null on the others), writes the run, runs the periodic test
    /// and sends the others its state at the start and the test's score. The result is bit-identical
    /// to one process, because every learner's randomness is keyed by (seed, epoch, global learner id).
    /// </summary>
    public static EsState Train(TrainConfig config, RunDirectory? dir, bool resume, Device device,
        Action<EpochReport> onEpoch, Action<string> message, long? memoryLimitBytes = null, bool memoryChecked = false, Action? onStarted = null,
        IFitnessExchange? exchange = null)
    {
        config.Validate();
        exchange ??= SingleProcess.Instance;
        bool root = exchange.Rank == 0;
        if (root != dir is not null) throw new ArgumentException(root ? "rank 0 needs the run directory" : "only rank 0 holds the run directory");
        if (exchange.Size > config.Population)
            throw new EpgException($"{exchange.Size} processes but a population of {config.Population}: use at most one process per member", ExitCodes.BadArguments);
        var (firstMember, members) = Distribution.Share(config.Population, exchange.Size, exchange.Rank);
        int T = config.LearnersPerMember, localLearners = members * T;
        int[] counts = Enumerable.Range(0, exchange.Size).Select(r => Distribution.Share(config.Population, exchange.Size, r).Count * T + 1).ToArray();
        if (!memoryChecked) MemoryCheck.Ensure(device, EnvSpecFor(config), config, MemoryBatches(config, localLearners), memoryLimitBytes);
        var spec = EnvSpecFor(config);
        var region = GoalTasks.ParseRegion(config.TrainTargets);
        using var env = EnvFactory.Create(spec, device, localLearners);
        var alpha = config.Alpha();
        var networks = config.Networks(env.ObsDim, env.ActDim, ppo: alpha.UsesPpo);
        using var batch = LearnerBatchFactory.Create(env, networks, config.Updates, config.PassesPerUpdate, config.LearnersPerMember, config.FitnessEpisodes);
        batch.CommonRandomNumbers = config.CommonRandomNumbers;
        var lossLayout = new LossLayout(networks);
        float[] phi0 = lossLayout.Initialize(config.Seed);
        var es = new EvolutionStrategy(config.Es());
        var configJson = JsonNode.Parse(config.ToJson())!;
        using var tester = config.TestEvery > 0 && root ? new Evaluator(device, spec, config, config.TestTasks, ppo: false) : null;
        using var phi = device.Allocate<float>(members * lossLayout.PhiSize);
        using var run = root ? TrainingRun.Start(dir!, es, phi0, configJson, ExtraColumns, resume, message, ["threads"]) : null;
        if (run is not null) run.PhiMetadata = s => PhiMetadata(config, networks, s);
        // Every rank starts from rank 0's state (a new run's, or the checkpoint it resumed).
        EsState state = exchange.Size == 1 ? run!.State
            : Checkpoint.Parse(exchange.Broadcast(root ? new Checkpoint(run!.State).ToBytes() : []), "rank 0's state").State;
        onStarted?.Invoke();
        var allMembers = new float[config.Population * lossLayout.PhiSize];
        int[] taskIds = new int[localLearners];

        while (state.Epoch < config.Epochs)
        {
            EsState s = state;
            int epoch = s.Epoch;
            Distribution.FaultHook(exchange.Rank, epoch);
            es.Ask(s, allMembers);
            phi.CopyFrom(allMembers.AsSpan(firstMember * lossLayout.PhiSize, members * lossLayout.PhiSize).ToArray());
            // Every member meets the same T tasks this epoch (common random numbers: rank differences come
            // from phi, not from easy or hard targets). The share starts at a member, so local l mod T is global.
            for (int l = 0; l < taskIds.Length; l++) taskIds[l] = epoch * config.LearnersPerMember + l % config.LearnersPerMember;
            env.SampleTargets(config.Seed, taskIds, region);
            double a = alpha.At(epoch);
            var life = batch.RunLifetime(phi, (float)a, config.Seed, (uint)epoch, firstMember * T);

            // This rank's fitnesses and quarantine count, then everyone's in member order.
            var mine = new double[localLearners + 1];
            for (int l = 0; l < localLearners; l++) mine[l] = life.Fitness[l];
            mine[localLearners] = life.Quarantined;
            double[] gathered = exchange.AllGather(mine, counts);
            var fitness = new double[config.Learners];
            int quarantined = 0;
            for (int r = 0, at = 0, to = 0; r < counts.Length; r++)
            {
                Array.Copy(gathered, at, fitness, to, counts[r] - 1);
                to += counts[r] - 1;
                at += counts[r];
                quarantined += (int)gathered[at - 1];
            }

            EsState next = es.Tell(s, fitness, out var info);
            double? test = null;
            if (config.TestEvery > 0 && ((epoch + 1) % config.TestEvery == 0 || epoch + 1 == config.Epochs))
            {
                double score = double.NaN;
                if (tester is not null)
                    score = tester.Run("test", EvalMethod.Epg, next.Phi, region, Evaluator.TestTaskIds(config.TestTasks, epoch + 1), config.Seed, (uint)(epoch + 1)).FitnessMean;
                if (exchange.Size > 1) score = BitConverter.ToDouble(exchange.Broadcast(BitConverter.GetBytes(score)));
                test = score;
                if (double.IsFinite(score)) next = next.OfferBest(next.Phi, score, epoch + 1);
            }
            else if (config.TestEvery <= 0 && a == 0)
            {
                next = next.OfferBest(s.Phi, info.FitnessMean, epoch);
            }
            run?.Commit(next, info, [a, quarantined, test ?? double.NaN]);
            state = next;
            onEpoch(new EpochReport(epoch, info, a, quarantined, life.Steps / Math.Max(1e-9, life.Seconds), life.UpdateSeconds / Math.Max(1e-9, life.Seconds), test));
        }
        run?.Finish();
        return state;
    }

    /// <summary>
    /// best.phi's metadata: the sizes a loss network is built from (env, obs, act, buffer_rows,
    /// extra, memory), which `epg eval` enforces, and when it was best.
    /// </summary>
    public static JsonObject PhiMetadata(TrainConfig config, NetworkConfig networks, EsState s) => new()
    {
        ["env"] = config.Env, ["obs"] = networks.Obs, ["act"] = networks.Act, ["buffer_rows"] = networks.BufferRows,
        ["extra"] = networks.Extra, ["memory"] = config.Memory,
        ["best_epoch"] = s.BestEpoch, ["best_fitness"] = double.IsFinite(s.BestFitness) ? s.BestFitness : null,
    };

    /// <summary>Writes report.md and plots/report-curves.png into <paramref name="outDir"/> (see the overload).</summary>
    public static IReadOnlyList<EvalResult> Report(TrainConfig config, string outDir, Device device, int tasks, Action<string> message)
    {
        using var dir = RunDirectory.Lock(outDir);
        return Report(config, dir, device, tasks, message);
    }

    /// <summary>
    /// Writes report.md: the evolved loss (best phi, alpha = 0), the initial loss (alpha = 0) and PPO
    /// trained from scratch, each on the same <paramref name="tasks"/> fresh tasks of the training
    /// region, with mean and spread over tasks; plus plots/report-curves.png.
    /// </summary>
    public static IReadOnlyList<EvalResult> Report(TrainConfig config, RunDirectory dir, Device device, int tasks, Action<string> message)
    {
        string outDir = dir.Root;
        var spec = EnvSpecFor(config);
        var region = GoalTasks.ParseRegion(config.TrainTargets);
        var best = PhiFile.Read(Path.Combine(outDir, "best.phi"));
        using var evaluator = new Evaluator(device, spec, config, tasks, ppo: true);
        float[] phi0 = evaluator.Layout.Initialize(config.Seed);
        int[] ids = Evaluator.TestTaskIds(tasks, 1 << 14);
        var results = new List<EvalResult>();
        foreach (var (label, method, phi) in new[] { ("evolved loss", EvalMethod.Epg, best.Phi), ("initial loss", EvalMethod.Epg, phi0), ("PPO", EvalMethod.Ppo, phi0) })
        {
            message($"report: training {tasks} fresh learners with the {label}");
            results.Add(evaluator.Run(label, method, phi, region, ids, config.Seed, 1u << 14));
        }
        LearningCurvesPlot.Write(dir.PathOf(Path.Combine("plots", "report-curves.png")),
            results.Select(r => CurveSeries.FromLearners(r.Label, r.CurveSteps, r.CurveReturns)).ToList(),
            $"{config.Env}: fresh learners on {tasks} new {config.TrainTargets} tasks");

        var metrics = MetricsLog.Read(Path.Combine(outDir, "metrics.csv"));
        var md = new ReportWriter()
            .Heading($"EPG run report: {config.Env}", 1)
            .Paragraph($"Preset-derived config in config.json. {config.Epochs} epochs, population {config.Population}, " +
                       $"{config.LearnersPerMember} task(s) per member, lifetime {config.Lifetime} steps (M = {config.ActSteps}, K = {config.Updates}, N = {config.BufferRows}), " +
                       $"engine {config.Engine}, backend {device.Kind.ToString().ToLowerInvariant()} ({device.Name}).")
            .Heading("Fresh learners on new tasks")
            .Paragraph($"Each method trains {tasks} fresh learners from scratch, one per new task (targets: {config.TrainTargets}), " +
                       "for one lifetime. Fitness = mean return of the last " + config.FitnessEpisodes +
                       " finished episodes; spread = standard deviation over tasks. The evolved and initial losses train with alpha = 0 (no PPO); " +
                       $"every method lives as long; the losses train with Adam step size {config.InnerLearningRate}, PPO with {config.PpoStepSize}.")
            .Table(["method", "fitness (mean ± sd)", "final distance to target (mean ± sd)", "quarantined"],
                results.Select(r => (IReadOnlyList<string>)[r.Label, ReportWriter.MeanSpread(r.FitnessMean, r.FitnessStd), ReportWriter.MeanSpread(r.DistanceMean, r.DistanceStd), r.Quarantined.ToString()]))
            .Paragraph(Verdict(results))
            .Image("learning curves", "plots/report-curves.png")
            .Heading("Training")
            .Paragraph($"Epochs in metrics.csv: {metrics.Rows.Count}. Best phi from epoch {best.Metadata?["best_epoch"]} (test fitness {best.Metadata?["best_fitness"]}).")
            .Image("fitness", "plots/fitness.png");
        dir.WriteText("report.md", md.ToString());
        return results;
    }

    private static string Verdict(IReadOnlyList<EvalResult> r)
    {
        double evolved = r[0].FitnessMean, initial = r[1].FitnessMean, ppo = r[2].FitnessMean;
        string vsInitial = evolved > initial ? "beats" : "does not beat";
        string vsPpo = evolved > ppo ? "beats" : "does not beat";
        double se = Math.Sqrt((r[0].FitnessStd * r[0].FitnessStd + r[1].FitnessStd * r[1].FitnessStd) / Math.Max(1, r[0].Fitness.Length));
        return $"On these tasks the evolved loss {vsInitial} the initial loss ({ReportWriter.Number(evolved)} vs {ReportWriter.Number(initial)}; " +
               $"difference {ReportWriter.Number(evolved - initial)}, its standard error about {ReportWriter.Number(se)}) and {vsPpo} PPO ({ReportWriter.Number(ppo)}).";
    }
}
