using System.Globalization;
using System.Text;
using EpgFast.Backends;

namespace EpgFast.Runs;

/// <summary>
/// metrics.csv: one row per epoch, header <c>epoch,fitness_mean,fitness_max</c> followed by the
/// caller's columns. Values are written invariant-culture in the shortest form that round-trips
/// ("R"); NaN is written as an empty cell. Each row is flushed to the disk as it is appended, so
/// a killed run loses at most the row being written. Resuming truncates the file to the rows
/// before the checkpoint's epoch (and drops a half-written last line), so a resumed run's file
/// equals an unbroken run's. Keep wall-clock values (timings, steps/s) out of it if the file
/// must be bit-identical between runs of the same seed.
/// </summary>
public sealed class MetricsLog : IDisposable
{
    /// <summary>The first three columns of every metrics.csv.</summary>
    public static readonly IReadOnlyList<string> BaseColumns = ["epoch", "fitness_mean", "fitness_max"];

    private readonly FileStream _stream;
    private int _nextEpoch;

    private MetricsLog(string path, FileStream stream, IReadOnlyList<string> columns, int nextEpoch)
    {
        Path = path;
        _stream = stream;
        Columns = columns;
        _nextEpoch = nextEpoch;
    }

    public string Path { get; }

    /// <summary>All columns, base columns first.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>The epoch the next <see cref="Append"/> must write.</summary>
    public int NextEpoch => _nextEpoch;

    private static IReadOnlyList<string> AllColumns(IReadOnlyList<string> extra)
    {
        foreach (string c in extra)
            if (string.IsNullOrEmpty(c) || c.Contains(',') || c.Contains('\n') || c.Contains('"'))
                throw new ArgumentException($"metrics column name '{c}' must be non-empty without commas, quotes or newlines");
        var all = BaseColumns.Concat(extra).ToList();
        if (all.Distinct().Count() != all.Count) throw new ArgumentException("metrics column names must be distinct");
        return all;
    }

    /// <summary>Creates (or replaces) <paramref name="path"/> with just the header.</summary>
    public static MetricsLog Create(string path, IReadOnlyList<string> extraColumns)
    {
        var columns = AllColumns(extraColumns);
        var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read);
        fs.Write(Encoding.UTF8.GetBytes(string.Join(',', columns) + "\n"));
        fs.Flush(flushToDisk: true);
        return new MetricsLog(path, fs, columns, 0);
    }

    /// <summary>
    /// Opens <paramref name="path"/> to continue at <paramref name="nextEpoch"/>: rows of epochs
    /// at or beyond it (and any incomplete or unreadable tail) are cut off. A missing file is
    /// created; rows missing before nextEpoch are reported through <paramref name="warn"/>.
    /// A header with other columns is refused (EpgException).
    /// </summary>
    public static MetricsLog Resume(string path, IReadOnlyList<string> extraColumns, int nextEpoch, Action<string>? warn = null)
    {
        var columns = AllColumns(extraColumns);
        string header = string.Join(',', columns);
        if (!File.Exists(path))
        {
            if (nextEpoch > 0) warn?.Invoke($"{path} is missing; it restarts at epoch {nextEpoch} without the earlier rows");
            var created = Create(path, extraColumns);
            created._nextEpoch = nextEpoch;
            return created;
        }
        byte[] bytes = File.ReadAllBytes(path);
        int headerEnd = Array.IndexOf(bytes, (byte)'\n');
        if (headerEnd < 0 || Encoding.UTF8.GetString(bytes, 0, headerEnd).TrimEnd('\r') != header)
        {
            string found = headerEnd < 0 ? "no header" : Encoding.UTF8.GetString(bytes, 0, headerEnd);
            throw new EpgException($"{path} has columns '{found}' but this run writes '{header}'; cannot resume into it");
        }
        long keep = headerEnd + 1;
        int expectEpoch = 0;
        int pos = headerEnd + 1;
        while (pos < bytes.Length)
        {
            int end = Array.IndexOf(bytes, (byte)'\n', pos);
            if (end < 0) break; // half-written last line
            string line = Encoding.UTF8.GetString(bytes, pos, end - pos);
            int comma = line.IndexOf(',');
            if (comma < 0 || !int.TryParse(line.AsSpan(0, comma), NumberStyles.None, CultureInfo.InvariantCulture, out int epoch)
                || line.Split(',').Length != columns.Count || epoch >= nextEpoch)
                break;
            if (epoch != expectEpoch)
            {
                warn?.Invoke($"{path}: row for epoch {epoch} follows epoch {expectEpoch - 1}; keeping rows as they are");
            }
            expectEpoch = epoch + 1;
            keep = end + 1;
            pos = end + 1;
        }
        if (expectEpoch < nextEpoch)
            warn?.Invoke($"{path} ends at epoch {expectEpoch - 1} but the checkpoint is at epoch {nextEpoch}; rows {expectEpoch}..{nextEpoch - 1} are missing");
        var fs = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read);
        fs.SetLength(keep);
        fs.Seek(0, SeekOrigin.End);
        fs.Flush(flushToDisk: true);
        return new MetricsLog(path, fs, columns, nextEpoch);
    }

    /// <summary>Formats one value as metrics.csv writes it.</summary>
    public static string Format(double value) =>
        double.IsNaN(value) ? "" : value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>
    /// Appends the row of <paramref name="epoch"/> (must be <see cref="NextEpoch"/>) with
    /// one value per extra column, and flushes it to the disk.
    /// </summary>
    public void Append(int epoch, double fitnessMean, double fitnessMax, ReadOnlySpan<double> extra)
    {
        if (epoch != _nextEpoch) throw new InvalidOperationException($"metrics: expected the row of epoch {_nextEpoch}, got {epoch}");
        if (extra.Length != Columns.Count - 3)
            throw new ArgumentException($"metrics: {extra.Length} extra values for {Columns.Count - 3} extra columns");
        var sb = new StringBuilder();
        sb.Append(epoch.ToString(CultureInfo.InvariantCulture)).Append(',').Append(Format(fitnessMean)).Append(',').Append(Format(fitnessMax));
        foreach (double v in extra) sb.Append(',').Append(Format(v));
        sb.Append('\n');
        _stream.Write(Encoding.UTF8.GetBytes(sb.ToString()));
        _stream.Flush(flushToDisk: true);
        _nextEpoch++;
    }

    public void Dispose() => _stream.Dispose();

    /// <summary>Reads a metrics file (any CSV of numbers with a header; empty cells are NaN).</summary>
    public static MetricsTable Read(string path)
    {
        string[] lines;
        using (var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite)) // the run may be appending
        using (var reader = new StreamReader(fs))
        {
            string text = reader.ReadToEnd();
            lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
            if (lines.Length > 1 && !text.EndsWith('\n')) lines = lines[..^1]; // a row still being written
        }
        if (lines.Length == 0) throw new EpgException($"{path} is empty");
        string[] columns = lines[0].Split(',');
        var rows = new List<double[]>();
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            string[] cells = lines[i].Split(',');
            if (cells.Length != columns.Length) break;
            var row = new double[cells.Length];
            for (int c = 0; c < cells.Length; c++)
                row[c] = cells[c].Length == 0 || !double.TryParse(cells[c], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? double.NaN : v;
            rows.Add(row);
        }
        return new MetricsTable(columns, rows);
    }
}

/// <summary>A metrics file in memory: column names and rows of numbers.</summary>
public sealed record MetricsTable(IReadOnlyList<string> Columns, IReadOnlyList<double[]> Rows)
{
    /// <summary>The values of column <paramref name="name"/> (throws if it does not exist).</summary>
    public double[] Column(string name)
    {
        int c = Columns.ToList().IndexOf(name);
        if (c < 0) throw new KeyNotFoundException($"metrics has no column '{name}'");
        return Rows.Select(r => r[c]).ToArray();
    }

    public bool Has(string name) => Columns.Contains(name);
}
