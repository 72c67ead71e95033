using System.Text.Json.Nodes;
using EpgFast.Backends;
using EpgFast.Evolution;

namespace EpgFast.Runs;

/// <summary>
/// The bookkeeping of an <c>epg train</c> run around the caller's ES loop: opens or resumes the
/// <see cref="RunDirectory"/>, and after each epoch <see cref="Commit"/> appends the metrics row,
/// refreshes best.phi and checkpoints/best.ckpt when the state's best improved, and writes
/// checkpoints/last.ckpt (in that order, so a kill between two writes is repaired by redoing
/// the epoch, which the counter-based noise makes bit-identical). Typical loop:
/// <code>
/// using var run = TrainingRun.Start(dir, es, phi0, configJson, ["alpha", "quarantined"], resume, Output.Message);
/// while (run.State.Epoch &lt; es.Config.Epochs)
/// {
///     EsState s = run.State;
///     float[][] members = es.Ask(s);
///     double[] fitness = Evaluate(members, s.Epoch, alpha.At(s.Epoch));  // the learner batch
///     EsState next = es.Tell(s, fitness, out EsStepInfo info);
///     next = next.OfferBest(s.Phi, info.FitnessMean, s.Epoch);           // or a test score of next.Phi
///     run.Commit(next, info, [alpha.At(s.Epoch), info.NonFinite]);
/// }
/// run.Finish();
/// </code>
/// </summary>
public sealed class TrainingRun : IDisposable
{
    private readonly MetricsLog _metrics;

    private TrainingRun(RunDirectory directory, MetricsLog metrics, EsState state, byte[] extra, bool resumed)
    {
        Directory = directory;
        _metrics = metrics;
        State = state;
        Extra = extra;
        Resumed = resumed;
    }

    public RunDirectory Directory { get; }

    /// <summary>The state of the last committed epoch (the initial state, or the resumed checkpoint's).</summary>
    public EsState State { get; private set; }

    /// <summary>The extra bytes of the checkpoint resumed from (empty for a new run).</summary>
    public byte[] Extra { get; }

    /// <summary>True when the run continues from a checkpoint.</summary>
    public bool Resumed { get; }

    /// <summary>plots/fitness.png is redrawn every this many epochs (and by <see cref="Finish"/>); 0 = only at the end.</summary>
    public int PlotEvery { get; set; } = 10;

    /// <summary>
    /// Another best file than best.phi (e.g. RL^2's best.rl2): when the best improves (or Path is missing), Save is
    /// called with the checkpoint instead of writing best.phi and checkpoints/best.ckpt.
    /// </summary>
    public (string Path, Action<Checkpoint> Save)? BestFile { get; set; }

    /// <summary>Metadata written into best.phi; receives the state being saved (null = none).</summary>
    public Func<EsState, JsonObject?>? PhiMetadata { get; set; }

    /// <summary>
    /// Starts a new run in <paramref name="root"/> (refused if one is there), or with
    /// <paramref name="resume"/> continues from its newest good checkpoint (a corrupt newest one
    /// is reported through <paramref name="message"/> and the previous one used; without any
    /// checkpoint the run starts over). Resuming requires the same effective config as
    /// config.json, apart from <paramref name="resumeIgnoredKeys"/> (top-level keys such as
    /// "resume" or thread counts). Writes config.json.
    /// </summary>
    public static TrainingRun Start(string root, EvolutionStrategy es, ReadOnlySpan<float> initialPhi, JsonNode config,
        IReadOnlyList<string> extraColumns, bool resume, Action<string>? message = null,
        IReadOnlyCollection<string>? resumeIgnoredKeys = null)
    {
        var dir = RunDirectory.Lock(root);
        try
        {
            var run = Start(dir, es, initialPhi, config, extraColumns, resume, message, resumeIgnoredKeys);
            run._ownsDirectory = true;
            return run;
        }
        catch
        {
            dir.Dispose();
            throw;
        }
    }

    /// <summary>
    /// As <see cref="Start(string, EvolutionStrategy, ReadOnlySpan{float}, JsonNode, IReadOnlyList{string}, bool, Action{string}?, IReadOnlyCollection{string}?)"/>
    /// in a directory the caller has locked (<see cref="RunDirectory.Lock"/>) and keeps: every
    /// check (an existing run, the resumed config, the checkpoint's sizes and seed) comes before
    /// the first write, so a refused start or resume leaves the directory as it was.
    /// </summary>
    public static TrainingRun Start(RunDirectory dir, EvolutionStrategy es, ReadOnlySpan<float> initialPhi, JsonNode config,
        IReadOnlyList<string> extraColumns, bool resume, Action<string>? message = null,
        IReadOnlyCollection<string>? resumeIgnoredKeys = null)
    {
        if (!dir.IsLocked) throw new InvalidOperationException("TrainingRun.Start needs a locked RunDirectory (RunDirectory.Lock)");
        string root = dir.Root;
        Checkpoint? checkpoint = null;
        if (resume && RunDirectory.HoldsRun(root))
        {
            JsonNode old = dir.ReadConfig()
                ?? throw new EpgException($"--resume: {root} holds a run but no config.json, so its settings are unknown; restore config.json, or start a new run in another --out");
            CheckSameConfig(dir, old, config, resumeIgnoredKeys ?? []);
            checkpoint = dir.LoadLatest(message);
            if (checkpoint is null) message?.Invoke($"--resume: {root} has no checkpoint yet; starting at epoch 0");
            else
            {
                if (checkpoint.State.ParameterCount != initialPhi.Length)
                    throw new EpgException($"--resume: checkpoint has {checkpoint.State.ParameterCount} loss parameters but this loss network has {initialPhi.Length}");
                if (checkpoint.State.Seed != es.Config.Seed)
                    throw new EpgException($"--resume: checkpoint has seed {checkpoint.State.Seed} but the config says {es.Config.Seed}");
            }
            dir.BeginResume();
        }
        else
        {
            if (resume) message?.Invoke($"--resume: {root} holds no run yet; starting a new one");
            dir.BeginNew();
        }

        if (checkpoint is null)
        {
            var created = dir.CreateMetrics(extraColumns);
            dir.WriteConfig(config.DeepClone());
            return new TrainingRun(dir, created, es.Initialize(initialPhi), [], resumed: false);
        }

        EsState state = checkpoint.State;
        var metrics = dir.ResumeMetrics(extraColumns, state.Epoch, message);
        dir.WriteConfig(config.DeepClone());
        message?.Invoke($"resuming {root} at epoch {state.Epoch}");
        return new TrainingRun(dir, metrics, state, checkpoint.Extra, resumed: true);
    }

    private static void CheckSameConfig(RunDirectory dir, JsonNode old, JsonNode config, IReadOnlyCollection<string> ignored)
    {
        if (old is JsonObject o && config is JsonObject n)
        {
            var keys = o.Select(kv => kv.Key).Union(n.Select(kv => kv.Key)).Where(k => !ignored.Contains(k))
                .Where(k => !JsonNode.DeepEquals(o[k], n[k])).ToList();
            if (keys.Count > 0)
                throw new EpgException($"--resume: the config differs from {dir.ConfigPath} in {string.Join(", ", keys)}; resume with the run's own settings");
        }
        else if (!JsonNode.DeepEquals(old, config))
        {
            throw new EpgException($"--resume: the config differs from {dir.ConfigPath}; resume with the run's own settings");
        }
    }

    /// <summary>
    /// Records the epoch just told: <paramref name="next"/> is Tell's result for <see cref="State"/>
    /// (with any OfferBest applied), <paramref name="info"/> Tell's step info, and
    /// <paramref name="extraValues"/> one value per extra metrics column.
    /// <paramref name="checkpointExtra"/> is stored in the checkpoint and handed back on resume.
    /// </summary>
    public void Commit(EsState next, EsStepInfo info, ReadOnlySpan<double> extraValues, byte[]? checkpointExtra = null)
    {
        if (info.Epoch != State.Epoch || next.Epoch != State.Epoch + 1)
            throw new InvalidOperationException($"Commit: state is at epoch {State.Epoch}, info says {info.Epoch}, next state {next.Epoch}");
        _metrics.Append(info.Epoch, info.FitnessMean, info.FitnessMax, extraValues);
        var checkpoint = new Checkpoint(next, checkpointExtra ?? []);
        if (next.BestImprovedSince(State) || !File.Exists(BestFile?.Path ?? Directory.BestPhiPath))
        {
            if (BestFile is { } best) best.Save(checkpoint);
            else Directory.SaveBest(checkpoint, PhiMetadata?.Invoke(next));
        }
        Directory.SaveLast(checkpoint);
        State = next;
        if (PlotEvery > 0 && next.Epoch % PlotEvery == 0) Directory.PlotFitness();
    }

    /// <summary>Draws plots/fitness.png from the whole metrics file.</summary>
    public void Finish() => Directory.PlotFitness();

    private bool _ownsDirectory;

    /// <summary>Closes metrics.csv; releases the directory's lock when <see cref="Start(string, EvolutionStrategy, ReadOnlySpan{float}, JsonNode, IReadOnlyList{string}, bool, Action{string}?, IReadOnlyCollection{string}?)"/> took it.</summary>
    public void Dispose()
    {
        _metrics.Dispose();
        if (_ownsDirectory) Directory.Dispose();
    }
}
