using EpgFast.Backends;
using EpgFast.Evolution;
using EpgFast.Runs;
using Xunit;

namespace EpgFast.Tests.Runs;

public class CheckpointTests
{
    private static EsState SomeState(int epochs, int p = 300)
    {
        var es = new EvolutionStrategy(new EsConfig { Population = 6, Seed = 9, Antithetic = true });
        var s = es.Initialize(Enumerable.Range(0, p).Select(j => MathF.Cos(j)).ToArray());
        for (int e = 0; e < epochs; e++)
        {
            var prev = s;
            s = es.Tell(s, es.Ask(s).Select(m => (double)-m.Sum(x => x * x)).ToArray(), out var info);
            s = s.OfferBest(prev.Phi, info.FitnessMean, prev.Epoch);
        }
        return s;
    }

    [Fact]
    public void RoundTripIsBitExact()
    {
        using var tmp = new TempDir();
        var c = new Checkpoint(SomeState(3), [1, 2, 3, 250]);
        c.Write(tmp["a.ckpt"]);
        var back = Checkpoint.Read(tmp["a.ckpt"]);
        Assert.True(c.BitEquals(back));
        Assert.Equal(3, back.State.Epoch);
        Assert.Equal(c.ToBytes(), File.ReadAllBytes(tmp["a.ckpt"]));
        Assert.False(File.Exists(tmp["a.ckpt.tmp"]));
    }

    [Fact]
    public void TruncatedOrCorruptCheckpointsAreRefusedNamingTheFile()
    {
        using var tmp = new TempDir();
        byte[] good = new Checkpoint(SomeState(1)).ToBytes();
        string path = tmp["x.ckpt"];
        foreach (int length in new[] { 0, 5, 23, 60, good.Length / 2, good.Length - 1 })
        {
            File.WriteAllBytes(path, good[..length]);
            var e = Assert.Throws<EpgException>(() => Checkpoint.Read(path));
            Assert.Contains(path, e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
        foreach (int at in new[] { 30, good.Length / 2, good.Length - 40, good.Length - 1 })
        {
            byte[] bad = (byte[])good.Clone();
            bad[at] ^= 0x10;
            File.WriteAllBytes(path, bad);
            var e = Assert.Throws<EpgException>(() => Checkpoint.Read(path));
            Assert.Contains("corrupt", e.Message);
        }
        File.WriteAllBytes(path, [.. good, 0]);
        Assert.Throws<EpgException>(() => Checkpoint.Read(path));
        byte[] magic = (byte[])good.Clone();
        magic[0] = (byte)'X';
        File.WriteAllBytes(path, magic);
        Assert.Contains("bad magic", Assert.Throws<EpgException>(() => Checkpoint.Read(path)).Message);
    }

    [Fact]
    public void CorruptLastFallsBackToPreviousWithAMessage()
    {
        using var tmp = new TempDir();
        var dir = RunDirectory.Create(tmp["run"]);
        var s1 = new Checkpoint(SomeState(1));
        var s2 = new Checkpoint(SomeState(2));
        dir.SaveLast(s1);
        dir.SaveLast(s2);
        Assert.True(File.Exists(dir.PreviousCheckpointPath));

        // corrupt the newest one: the previous one is used and the message names the file
        byte[] bytes = File.ReadAllBytes(dir.LastCheckpointPath);
        File.WriteAllBytes(dir.LastCheckpointPath, bytes[..(bytes.Length - 7)]);
        var messages = new List<string>();
        var reopened = RunDirectory.Open(tmp["run"]);
        var loaded = reopened.LoadLatest(messages.Add);
        Assert.NotNull(loaded);
        Assert.True(loaded.BitEquals(s1));
        Assert.Single(messages);
        Assert.Contains("last.ckpt", messages[0]);
        Assert.Contains("truncated", messages[0]);
        Assert.Contains("last.prev.ckpt", messages[0]);

        // the next save drops the corrupt file instead of rotating it over the good previous one
        var s3 = new Checkpoint(SomeState(3));
        reopened.SaveLast(s3);
        Assert.True(Checkpoint.Read(reopened.LastCheckpointPath).BitEquals(s3));
        Assert.True(Checkpoint.Read(reopened.PreviousCheckpointPath).BitEquals(s1));

        // both bad: a clear error listing both files
        File.WriteAllBytes(reopened.LastCheckpointPath, [1, 2, 3]);
        File.WriteAllBytes(reopened.PreviousCheckpointPath, [4, 5, 6]);
        var e = Assert.Throws<EpgException>(() => RunDirectory.Open(tmp["run"]).LoadLatest());
        Assert.Contains("last.ckpt", e.Message);
        Assert.Contains("last.prev.ckpt", e.Message);
    }

    [Fact]
    public void InterruptedWritesLeaveEitherTheOldOrTheNewCheckpoint()
    {
        using var tmp = new TempDir();
        var dir = RunDirectory.Create(tmp["run"]);
        var s1 = new Checkpoint(SomeState(1));
        var s2 = new Checkpoint(SomeState(2));
        dir.SaveLast(s1);

        // killed while writing the temp file: last.ckpt is untouched
        byte[] partial = s2.ToBytes()[..100];
        File.WriteAllBytes(dir.LastCheckpointPath + ".tmp", partial);
        Assert.True(RunDirectory.Open(tmp["run"]).LoadLatest()!.BitEquals(s1));

        // killed between the two renames: last.ckpt is gone, last.prev.ckpt holds the newest good one
        dir.SaveLast(s2);
        File.Move(dir.LastCheckpointPath, dir.PreviousCheckpointPath, overwrite: true);
        var messages = new List<string>();
        Assert.True(RunDirectory.Open(tmp["run"]).LoadLatest(messages.Add)!.BitEquals(s2));
        Assert.Contains("missing", Assert.Single(messages));

        // a stale temp file does not disturb the next write
        var d2 = RunDirectory.Open(tmp["run"]);
        d2.LoadLatest();
        File.WriteAllBytes(d2.LastCheckpointPath + ".tmp", partial);
        var s3 = new Checkpoint(SomeState(3));
        d2.SaveLast(s3);
        Assert.True(Checkpoint.Read(d2.LastCheckpointPath).BitEquals(s3));
        Assert.True(Checkpoint.Read(d2.PreviousCheckpointPath).BitEquals(s2));
        Assert.False(File.Exists(d2.LastCheckpointPath + ".tmp"));
    }

    [Fact]
    public void NoCheckpointGivesNullAndExistingRunIsNotOverwritten()
    {
        using var tmp = new TempDir();
        var dir = RunDirectory.Create(tmp["run"]);
        Assert.Null(dir.LoadLatest());
        dir.WriteConfig(new { seed = 1 });
        var e = Assert.Throws<EpgException>(() => RunDirectory.Create(tmp["run"]));
        Assert.Contains("--resume", e.Message);
        Assert.Equal(1, (int)dir.ReadConfig()!["seed"]!);
    }
}
