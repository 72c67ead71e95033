using EpgFast.Backends;

namespace EpgFast.Runs;

/// <summary>
/// Crash-safe file replacement, the one way EpgFast writes a file: the new content goes to PATH.tmp,
/// is flushed to the disk (fsync via <see cref="FileStream.Flush(bool)"/>), then renamed over PATH
/// (rename(2) is atomic on one file system), so a reader sees either the old file or the new one,
/// never a mix, even after kill -9 or power loss. A stale PATH.tmp from a killed writer is simply
/// overwritten. When a write fails (no permission, no space, PATH is a directory ...) the temp file
/// is removed, PATH is left as it was, and the failure is a one-line <see cref="EpgException"/>
/// naming the file.
/// </summary>
public static class AtomicFile
{
    /// <summary>Replaces <paramref name="path"/> with <paramref name="content"/> atomically.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> content)
    {
        if (Directory.Exists(path)) throw new EpgException($"cannot write {path}: it is a directory");
        string tmp = path + ".tmp";
        try
        {
            WriteTemp(tmp, content);
            File.Move(tmp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(tmp);
            throw CannotWrite(path, e);
        }
    }

    /// <summary>Replaces <paramref name="path"/> with UTF-8 <paramref name="text"/> atomically.</summary>
    public static void WriteAllText(string path, string text) =>
        WriteAllBytes(path, new System.Text.UTF8Encoding(false).GetBytes(text));

    /// <summary>
    /// Replaces <paramref name="path"/> atomically and keeps its previous content as
    /// <paramref name="previousPath"/> (when <paramref name="keepPrevious"/>; else the old file is
    /// dropped). Between the two renames PATH briefly does not exist while PREVIOUS holds the
    /// newest good content, so a reader that falls back to PREVIOUS always finds a good file.
    /// </summary>
    public static void ReplaceKeepingPrevious(string path, string previousPath, ReadOnlySpan<byte> content, bool keepPrevious = true)
    {
        string tmp = path + ".tmp";
        try
        {
            WriteTemp(tmp, content);
            if (File.Exists(path))
            {
                if (keepPrevious) File.Move(path, previousPath, overwrite: true);
                else File.Delete(path);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(tmp);
            throw CannotWrite(path, e);
        }
    }

    /// <summary>The one-line error for a failed write of <paramref name="path"/>.</summary>
    public static EpgException CannotWrite(string path, Exception e) =>
        new($"cannot write {path}: {OneLine(e)}");

    /// <summary>An I/O exception's message on one line, without the path .NET repeats in it.</summary>
    public static string OneLine(Exception e) => e switch
    {
        UnauthorizedAccessException => "permission denied",
        DirectoryNotFoundException => "its folder does not exist",
        _ when e.HResult == 28 || e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase) => "no space left on the device",
        _ => e.Message.ReplaceLineEndings(" ").Trim(),
    };

    private static void WriteTemp(string tmp, ReadOnlySpan<byte> content)
    {
        using var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None);
        fs.Write(content);
        fs.Flush(flushToDisk: true);
    }

    private static void TryDelete(string path)
    {
        try
        {
            if (File.Exists(path)) File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
