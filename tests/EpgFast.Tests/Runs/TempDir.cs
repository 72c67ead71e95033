namespace EpgFast.Tests.Runs;

/// <summary>A fresh temporary folder, deleted on dispose (kept when EPGFAST_KEEP_TEST_FILES is set, to look at plots).</summary>
public sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "epgfast-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string this[string relative] => System.IO.Path.Combine(Path, relative);

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("EPGFAST_KEEP_TEST_FILES") is { Length: > 0 }) return;
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
