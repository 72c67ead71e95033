namespace EpgFast.Runs;

/// <summary>
/// Crash-safe file replacement: the new content goes to PATH.tmp, is flushed to the disk
/// (fsync via <see cref="FileStream.Flush(bool)"/>), then renamed over PATH (rename(2) is atomic
/// on one file system), so a reader sees either the old file or the new one, never a mix, even
/// after kill -9 or power loss. A stale PATH.tmp from a killed writer is simply overwritten.
/// </summary>
public static class AtomicFile
{
    /// <summary>Replaces <paramref name="path"/> with <paramref name="content"/> atomically.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> content)
    {
        string tmp = path + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            fs.Write(content);
            fs.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
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
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            fs.Write(content);
            fs.Flush(flushToDisk: true);
        }
        if (File.Exists(path))
        {
            if (keepPrevious) File.Move(path, previousPath, overwrite: true);
            else File.Delete(path);
        }
        File.Move(tmp, path, overwrite: true);
    }
}
