using System.Text.Json;
using System.Text.Json.Nodes;
using EpgFast.Backends;

namespace EpgFast.Runs;

/// <summary>
/// The directory of one training run (<c>epg train --out runs/NAME</c>):
/// <code>
/// runs/NAME/config.json               effective config (written at start)
/// runs/NAME/metrics.csv               one row per epoch (<see cref="MetricsLog"/>)
/// runs/NAME/best.phi                  best loss so far (<see cref="PhiFile"/>)
/// runs/NAME/checkpoints/last.ckpt     after every epoch (<see cref="Checkpoint"/>)
/// runs/NAME/checkpoints/last.prev.ckpt  the one before it (fallback)
/// runs/NAME/checkpoints/best.ckpt     the state when the best phi last improved
/// runs/NAME/plots/fitness.png         fitness mean and max per epoch
/// runs/NAME/report.md                 written by the caller (<see cref="ReportWriter"/>)
/// </code>
/// Every file is replaced atomically (temp file, fsync, rename), so a run killed at any moment,
/// even by kill -9, loses at most the epoch in progress.
/// </summary>
public sealed class RunDirectory
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };
    private bool? _lastIsGood; // null: not known yet (verified before rotating it into last.prev)

    private RunDirectory(string root)
    {
        Root = root;
    }

    public string Root { get; }
    public string ConfigPath => Path.Combine(Root, "config.json");
    public string MetricsPath => Path.Combine(Root, "metrics.csv");
    public string BestPhiPath => Path.Combine(Root, "best.phi");
    public string ReportPath => Path.Combine(Root, "report.md");
    public string CheckpointsDir => Path.Combine(Root, "checkpoints");
    public string LastCheckpointPath => Path.Combine(CheckpointsDir, "last.ckpt");
    public string PreviousCheckpointPath => Path.Combine(CheckpointsDir, "last.prev.ckpt");
    public string BestCheckpointPath => Path.Combine(CheckpointsDir, "best.ckpt");
    public string PlotsDir => Path.Combine(Root, "plots");
    public string FitnessPlotPath => Path.Combine(PlotsDir, "fitness.png");

    /// <summary>Whether <paramref name="root"/> already holds a run (config, metrics or checkpoints).</summary>
    public static bool HoldsRun(string root) =>
        File.Exists(Path.Combine(root, "config.json")) || File.Exists(Path.Combine(root, "metrics.csv"))
        || Directory.Exists(Path.Combine(root, "checkpoints"));

    /// <summary>A new run in <paramref name="root"/> (created); refused if a run is already there.</summary>
    public static RunDirectory Create(string root)
    {
        if (HoldsRun(root))
            throw new EpgException($"{root} already holds a run; pass --resume to continue it or choose another --out");
        var dir = new RunDirectory(root);
        dir.EnsureFolders();
        dir._lastIsGood = false;
        return dir;
    }

    /// <summary>An existing run directory (for resume or reading); refused if it does not exist.</summary>
    public static RunDirectory Open(string root)
    {
        if (!Directory.Exists(root)) throw new EpgException($"run directory {root} does not exist");
        var dir = new RunDirectory(root);
        dir.EnsureFolders();
        return dir;
    }

    private void EnsureFolders()
    {
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(CheckpointsDir);
        Directory.CreateDirectory(PlotsDir);
    }

    /// <summary>Writes config.json (indented) from a JSON node.</summary>
    public void WriteConfig(JsonNode config) => AtomicFile.WriteAllText(ConfigPath, config.ToJsonString(JsonOptions) + "\n");

    /// <summary>Writes config.json from any serializable object (System.Text.Json).</summary>
    public void WriteConfig<T>(T config, JsonSerializerOptions? options = null) =>
        WriteConfig(JsonSerializer.SerializeToNode(config, options ?? JsonOptions) ?? new JsonObject());

    /// <summary>config.json, or null when there is none.</summary>
    public JsonNode? ReadConfig()
    {
        if (!File.Exists(ConfigPath)) return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(ConfigPath));
        }
        catch (JsonException e)
        {
            throw new EpgException($"{ConfigPath} is not valid JSON: {e.Message}");
        }
    }

    /// <summary>
    /// Writes checkpoints/last.ckpt atomically; the previous last.ckpt becomes last.prev.ckpt
    /// (unless it was found corrupt, in which case it is dropped and the older good one kept).
    /// </summary>
    public void SaveLast(Checkpoint checkpoint)
    {
        bool lastGood = _lastIsGood ?? IsReadable(LastCheckpointPath);
        AtomicFile.ReplaceKeepingPrevious(LastCheckpointPath, PreviousCheckpointPath, checkpoint.ToBytes(), keepPrevious: lastGood);
        _lastIsGood = true;
    }

    /// <summary>Writes checkpoints/best.ckpt and best.phi (the state's best phi) atomically.</summary>
    public void SaveBest(Checkpoint checkpoint, JsonObject? phiMetadata = null)
    {
        PhiFile.Write(BestPhiPath, checkpoint.State.BestPhi, phiMetadata);
        checkpoint.Write(BestCheckpointPath);
    }

    private static bool IsReadable(string path)
    {
        if (!File.Exists(path)) return false;
        try
        {
            Checkpoint.Read(path);
            return true;
        }
        catch (EpgException)
        {
            return false;
        }
    }

    /// <summary>
    /// The newest good checkpoint: last.ckpt, or last.prev.ckpt when last.ckpt is missing,
    /// truncated or corrupt (each refusal is reported through <paramref name="warn"/> as one line
    /// naming the file). Null when there is no checkpoint at all; EpgException when checkpoints
    /// exist but none is good.
    /// </summary>
    public Checkpoint? LoadLatest(Action<string>? warn = null)
    {
        var errors = new List<string>();
        Checkpoint? found = null;
        bool anyExists = false;
        foreach (string path in new[] { LastCheckpointPath, PreviousCheckpointPath })
        {
            if (!File.Exists(path))
            {
                if (path == LastCheckpointPath && File.Exists(PreviousCheckpointPath))
                    warn?.Invoke($"checkpoint {path} is missing (killed while replacing it); using {Path.GetFileName(PreviousCheckpointPath)}");
                continue;
            }
            anyExists = true;
            try
            {
                found = Checkpoint.Read(path);
                if (errors.Count > 0)
                    warn?.Invoke($"{errors[0]}; using {Path.GetFileName(path)} (epoch {found.State.Epoch}) instead");
                break;
            }
            catch (EpgException e)
            {
                errors.Add(e.Message);
            }
        }
        _lastIsGood = found is not null && errors.Count == 0 && File.Exists(LastCheckpointPath);
        if (found is null && anyExists)
            throw new EpgException($"no good checkpoint in {CheckpointsDir}: {string.Join("; ", errors)}");
        return found;
    }

    /// <summary>checkpoints/best.ckpt, or null when there is none (EpgException when it is bad).</summary>
    public Checkpoint? LoadBest() => File.Exists(BestCheckpointPath) ? Checkpoint.Read(BestCheckpointPath) : null;

    /// <summary>A new metrics.csv with the base columns and <paramref name="extraColumns"/>.</summary>
    public MetricsLog CreateMetrics(IReadOnlyList<string> extraColumns) => MetricsLog.Create(MetricsPath, extraColumns);

    /// <summary>metrics.csv cut back to the rows before <paramref name="nextEpoch"/>, open for appending.</summary>
    public MetricsLog ResumeMetrics(IReadOnlyList<string> extraColumns, int nextEpoch, Action<string>? warn = null) =>
        MetricsLog.Resume(MetricsPath, extraColumns, nextEpoch, warn);

    /// <summary>Draws plots/fitness.png from metrics.csv (no-op without rows).</summary>
    public void PlotFitness()
    {
        if (!File.Exists(MetricsPath)) return;
        var table = MetricsLog.Read(MetricsPath);
        if (table.Rows.Count == 0) return;
        FitnessPlot.Write(FitnessPlotPath, table);
    }
}
