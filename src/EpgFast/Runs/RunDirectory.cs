using System.Runtime.InteropServices;
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
/// Every file is replaced atomically (temp file, fsync, rename: <see cref="AtomicFile"/>), so a run
/// killed at any moment, even by kill -9, loses at most the epoch in progress.
/// <para>
/// <see cref="Lock"/> is how a process owns a directory (a run of `epg train`, the output folder of
/// `epg eval`): it checks the path (not a file, a writable folder), creates the folder when missing,
/// and takes an exclusive advisory lock (flock(2) on the directory itself, no lock file) held until
/// <see cref="Dispose"/> or the process's end (kill -9 included); a second process gets a one-line
/// error. <see cref="CheckPath"/> runs the same path checks with nothing touched, so a verb can
/// refuse a bad --out before its work. A locked directory that this process created and left
/// empty (a start refused after the lock) is removed again on dispose.
/// </para>
/// </summary>
public sealed class RunDirectory : IDisposable
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };
    private bool? _lastIsGood; // null: not known yet (verified before rotating it into last.prev)
    private DirectoryLock? _lock;
    private readonly List<string> _created = [];

    private RunDirectory(string root)
    {
        Root = root;
    }

    /// <summary>True while this object holds the directory's lock.</summary>
    public bool IsLocked => _lock is not null;

    /// <summary>
    /// Checks that <paramref name="root"/> can be a directory this process writes: not an existing
    /// file, and either an existing writable folder or creatable (its nearest existing ancestor a
    /// writable folder). Touches nothing. <paramref name="option"/> names the flag in errors.
    /// </summary>
    public static void CheckPath(string root, string option = "--out")
    {
        if (string.IsNullOrWhiteSpace(root)) throw EpgException.BadArguments($"{option} needs a folder name");
        string full = Path.GetFullPath(root);
        if (File.Exists(full)) throw new EpgException($"{option} {root} is a file; it must name a folder (one that holds only this output)");
        string? probe = full;
        while (probe is not null && !Directory.Exists(probe))
        {
            if (File.Exists(probe)) throw new EpgException($"{option} {root}: {probe} is a file, not a folder");
            probe = Path.GetDirectoryName(probe);
        }
        if (probe is null) throw new EpgException($"{option} {root}: no existing folder above it");
        if (!DirectoryLock.CanWrite(probe))
            throw new EpgException(probe == full ? $"{option} {root}: no permission to write in this folder" : $"{option} {root}: cannot create it (no permission to write in {probe})");
    }

    /// <summary>
    /// Checks that <paramref name="path"/> can be written as a file (touching nothing): not a
    /// folder, its folder existing or creatable and writable, and not one of the command's
    /// <paramref name="inputs"/> (same file by path, symbolic links resolved): an output must
    /// never replace an input.
    /// </summary>
    public static void CheckOutputFile(string path, string option, params (string? Path, string Option)[] inputs)
    {
        if (string.IsNullOrWhiteSpace(path)) throw EpgException.BadArguments($"{option} needs a file name");
        if (Directory.Exists(path)) throw new EpgException($"{option} {path} is a folder; it must name a file");
        if (path.EndsWith('/') || path.EndsWith(Path.DirectorySeparatorChar)) throw new EpgException($"{option} {path} names a folder; it must name a file");
        string me = Canonical(path);
        foreach (var (input, inputOption) in inputs)
            if (input is not null && Canonical(input) == me)
                throw new EpgException($"{option} {path} is the same file as {inputOption}; writing it would destroy the input; choose another {option}");
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(folder)) CheckPath(folder, option);
        else if (!DirectoryLock.CanWrite(folder)) throw new EpgException($"{option} {path}: no permission to write in {folder}");
        if (File.Exists(path) && !DirectoryLock.CanWriteFile(path)) throw new EpgException($"{option} {path}: no permission to replace this file");
    }

    /// <summary>The full path with symbolic links (of the file and its folders) resolved.</summary>
    private static string Canonical(string path)
    {
        string full = Path.GetFullPath(path);
        try
        {
            var parts = new List<string>();
            string? p = full;
            // resolve the deepest existing ancestor's links, then re-append the rest
            while (p is not null && !File.Exists(p) && !Directory.Exists(p))
            {
                parts.Insert(0, Path.GetFileName(p));
                p = Path.GetDirectoryName(p);
            }
            if (p is null) return full;
            string resolved = DirectoryLock.RealPath(p) ?? p;
            return parts.Count == 0 ? resolved : Path.Combine([resolved, .. parts]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return full;
        }
    }

    /// <summary>
    /// Takes <paramref name="root"/> for this process: <see cref="CheckPath"/>, create the folder
    /// when missing, then the exclusive lock (a one-line error when another process holds it).
    /// </summary>
    public static RunDirectory Lock(string root, string option = "--out")
    {
        CheckPath(root, option);
        var dir = new RunDirectory(root);
        try
        {
            dir.CreateFolder(root);
            dir._lock = DirectoryLock.Take(root)
                ?? throw new EpgException($"{root} is in use by another epg process (it holds the folder's lock); wait for it to end or choose another {option}");
            return dir;
        }
        catch
        {
            dir.Dispose();
            throw;
        }
    }

    /// <summary>Releases the lock; removes the folders this object created if they are still empty.</summary>
    public void Dispose()
    {
        for (int i = _created.Count - 1; i >= 0; i--)
        {
            try
            {
                if (Directory.Exists(_created[i]) && !Directory.EnumerateFileSystemEntries(_created[i]).Any()) Directory.Delete(_created[i]);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        _created.Clear();
        _lock?.Dispose();
        _lock = null;
    }

    /// <summary>Creates <paramref name="path"/> and any missing parents, remembering which were new; a failure is one line.</summary>
    private void CreateFolder(string path)
    {
        var missing = new Stack<string>();
        for (string? p = Path.GetFullPath(path); p is not null && !Directory.Exists(p); p = Path.GetDirectoryName(p)) missing.Push(p);
        try
        {
            while (missing.Count > 0)
            {
                string p = missing.Pop();
                Directory.CreateDirectory(p);
                _created.Add(p);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new EpgException($"cannot create folder {path}: {AtomicFile.OneLine(e)}");
        }
    }

    /// <summary>The full path of <paramref name="relative"/> inside the directory.</summary>
    public string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>Writes <paramref name="relative"/> (creating its folder) atomically; failures are one line.</summary>
    public string WriteText(string relative, string text)
    {
        string path = PathOf(relative);
        EnsureFolderOf(path);
        AtomicFile.WriteAllText(path, text);
        return path;
    }

    /// <summary>Writes <paramref name="relative"/> (creating its folder) atomically; failures are one line.</summary>
    public string WriteBytes(string relative, ReadOnlySpan<byte> bytes)
    {
        string path = PathOf(relative);
        EnsureFolderOf(path);
        AtomicFile.WriteAllBytes(path, bytes);
        return path;
    }

    private void EnsureFolderOf(string path)
    {
        string? folder = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(folder) && !Directory.Exists(folder)) CreateFolder(folder);
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

    /// <summary>A new run in <paramref name="root"/> (created; not locked: see <see cref="Lock"/>); refused if a run is already there.</summary>
    public static RunDirectory Create(string root)
    {
        if (HoldsRun(root))
            throw new EpgException($"{root} already holds a run; pass --resume to continue it or choose another --out");
        var dir = new RunDirectory(root);
        dir.BeginNew();
        return dir;
    }

    /// <summary>An existing run directory (for resume or reading; not locked: see <see cref="Lock"/>); refused if it does not exist.</summary>
    public static RunDirectory Open(string root)
    {
        if (!Directory.Exists(root)) throw new EpgException($"run directory {root} does not exist");
        var dir = new RunDirectory(root);
        dir.EnsureFolders();
        return dir;
    }

    /// <summary>Under the lock: starts a new run here (refused, touching nothing, when one is already there).</summary>
    public void BeginNew()
    {
        if (HoldsRun(Root))
            throw new EpgException($"{Root} already holds a run; pass --resume to continue it or choose another --out");
        EnsureFolders();
        _lastIsGood = false;
    }

    /// <summary>Under the lock: creates checkpoints/ and plots/ for a run that continues here.</summary>
    public void BeginResume() => EnsureFolders();

    private void EnsureFolders()
    {
        CreateFolder(Root);
        CreateFolder(CheckpointsDir);
        CreateFolder(PlotsDir);
    }

    /// <summary>Writes config.json (indented) from a JSON node.</summary>
    public void WriteConfig(JsonNode config)
    {
        AtomicFile.WriteAllText(ConfigPath, config.ToJsonString(JsonOptions) + "\n");
        _created.Clear(); // the run now exists: its folders stay
    }

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
    public MetricsLog CreateMetrics(IReadOnlyList<string> extraColumns) => OneLine(MetricsPath, () => MetricsLog.Create(MetricsPath, extraColumns));

    /// <summary>metrics.csv cut back to the rows before <paramref name="nextEpoch"/>, open for appending.</summary>
    public MetricsLog ResumeMetrics(IReadOnlyList<string> extraColumns, int nextEpoch, Action<string>? warn = null) =>
        OneLine(MetricsPath, () => MetricsLog.Resume(MetricsPath, extraColumns, nextEpoch, warn));

    private static T OneLine<T>(string path, Func<T> write)
    {
        try
        {
            return write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw AtomicFile.CannotWrite(path, e);
        }
    }

    /// <summary>Draws plots/fitness.png from metrics.csv (no-op without rows).</summary>
    public void PlotFitness()
    {
        if (!File.Exists(MetricsPath)) return;
        var table = MetricsLog.Read(MetricsPath);
        if (table.Rows.Count == 0) return;
        FitnessPlot.Write(FitnessPlotPath, table);
    }
}

/// <summary>
/// An exclusive advisory lock on a directory: flock(2) with LOCK_EX | LOCK_NB on the directory
/// itself (no lock file to leave behind; the kernel drops it when the process ends, kill -9
/// included). Elsewhere than Linux or macOS, a lock file .epg.lock opened with FileShare.None.
/// </summary>
internal sealed class DirectoryLock : IDisposable
{
    private int _fd = -1;
    private FileStream? _file;

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static extern int Flock(int fd, int operation);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);

    [DllImport("libc", EntryPoint = "access", SetLastError = true)]
    private static extern int Access([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int mode);

    private static bool Posix => OperatingSystem.IsLinux() || OperatingSystem.IsMacOS();

    /// <summary>Whether this process may create and write files in <paramref name="folder"/> (access(2) W_OK | X_OK).</summary>
    public static bool CanWrite(string folder) => !Posix || Access(folder, 2 | 1) == 0;

    /// <summary>Whether this process may write <paramref name="file"/> (access(2) W_OK).</summary>
    public static bool CanWriteFile(string file) => !Posix || Access(file, 2) == 0;

    [DllImport("libc", EntryPoint = "realpath", SetLastError = true)]
    private static extern IntPtr RealPathNative([MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr resolved);

    [DllImport("libc", EntryPoint = "free")]
    private static extern void Free(IntPtr p);

    /// <summary>realpath(3): the path with every symbolic link resolved (null when it fails or off POSIX).</summary>
    public static string? RealPath(string path)
    {
        if (!Posix) return null;
        IntPtr p = RealPathNative(path, IntPtr.Zero);
        if (p == IntPtr.Zero) return null;
        try
        {
            return Marshal.PtrToStringUTF8(p);
        }
        finally
        {
            Free(p);
        }
    }

    /// <summary>The lock on <paramref name="folder"/>, or null when another holder has it.</summary>
    public static DirectoryLock? Take(string folder)
    {
        var l = new DirectoryLock();
        if (Posix)
        {
            const int LockEx = 2, LockNb = 4;
            int flags = OperatingSystem.IsLinux() ? 0x80000 : 0; // O_RDONLY | O_CLOEXEC
            l._fd = Open(folder, flags);
            if (l._fd < 0) throw new EpgException($"cannot open folder {folder} to lock it (errno {Marshal.GetLastPInvokeError()})");
            if (Flock(l._fd, LockEx | LockNb) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                l.Dispose();
                if (errno is 11 or 35) return null; // EWOULDBLOCK (Linux, macOS)
                throw new EpgException($"cannot lock folder {folder} (errno {errno})");
            }
            return l;
        }
        try
        {
            l._file = new FileStream(Path.Combine(folder, ".epg.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            return l;
        }
        catch (IOException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        if (_fd >= 0) Close(_fd);
        _fd = -1;
        _file?.Dispose();
        _file = null;
    }
}
