using System.Text.Json.Nodes;
using EpgFast.Backends;
using EpgFast.Runs;
using EpgFast.Tests.Runs;
using Xunit;

namespace EpgFast.Tests.Cli;

/// <summary>`epg eval` as used every day: progress, labels, the loss file's sizes; the run lock's life.</summary>
[Collection("cli")]
public class EverydayUseTests
{
    [Fact]
    public void EvalOnAntShowsProgressAndNoTargetFigures()
    {
        using var tmp = new TempDir();
        var (code, stdout, stderr) = EpgRunner.Run("eval", "--method", "ppo", "--env", "ant", "--preset", "ci", "--learners", "2", "--out", tmp["ev"], "--backend", "cpu", "--json");
        Assert.True(code == 0, stderr);
        var doc = JsonNode.Parse(stdout)!;
        Assert.Equal("ppo-ant", (string?)doc["label"]);
        Assert.Null(doc["final_distance_mean"]);
        Assert.NotNull(doc["final_return_mean"]);
        Assert.Contains("step 160/160 (100%)", stderr);
        var summary = JsonNode.Parse(File.ReadAllText(tmp["ev/summary.json"]))!;
        Assert.Null(summary["methods"]!["ppo-ant"]!["final_distance_mean"]);
        Assert.False(File.Exists(tmp["ev/plots/paths.png"]));
        Assert.DoesNotContain("left", File.ReadAllText(tmp["ev/curves.csv"]));
    }

    [Fact]
    public void BestPhiRecordsItsSizesAndEvalOutsideTheRunUsesThem()
    {
        using var tmp = new TempDir();
        var (code, _, stderr) = EpgRunner.Run("train", "--preset", "ci", "--out", tmp["run"], "--backend", "cpu", "--report-tasks", "0");
        Assert.True(code == 0, stderr);
        var meta = PhiFile.Read(tmp["run/best.phi"]).Metadata!;
        Assert.Equal(32, (int)meta["buffer_rows"]!);
        Assert.False((bool)meta["memory"]!);
        Assert.Equal("point-goal", (string?)meta["env"]);
        Directory.CreateDirectory(tmp["elsewhere"]);
        File.Copy(tmp["run/best.phi"], tmp["elsewhere/best.phi"]);
        // no config.json beside it: env and sizes come from the header (the ci preset's M = 16 fits N = 32)
        var r = EpgRunner.Run("eval", "--loss", tmp["elsewhere/best.phi"], "--preset", "ci", "--learners", "2", "--out", tmp["ev"], "--backend", "cpu", "--json");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal("point-goal", (string?)JsonNode.Parse(r.Out)!["env"]);
    }

    [Fact]
    public void TheRunLockIsHeldForTheRunAndReleasedAfter()
    {
        using var tmp = new TempDir();
        using (var first = RunDirectory.Lock(tmp["r"]))
        {
            Assert.True(Directory.Exists(tmp["r"]));
            var e = Assert.Throws<EpgException>(() => RunDirectory.Lock(tmp["r"]));
            Assert.Contains("in use by another epg process", e.Message);
        }
        // released: the folder it created and left empty is gone, and it can be taken again
        Assert.False(Directory.Exists(tmp["r"]));
        using (RunDirectory.Lock(tmp["r"])) { }
        // a refused start removes nothing that was there: an existing empty folder stays
        Directory.CreateDirectory(tmp["kept"]);
        using (RunDirectory.Lock(tmp["kept"])) { }
        Assert.True(Directory.Exists(tmp["kept"]));
    }

    /// <summary>Two real processes: this one holds a run directory's lock (as a running epg train does); epg in a child process is refused.</summary>
    [Fact]
    public void AnotherProcessOnALockedRunDirectoryIsRefused()
    {
        string epg = Path.Combine(AppContext.BaseDirectory, "epg.dll");
        if (!File.Exists(epg)) return; // the CLI is not beside the tests
        using var tmp = new TempDir();
        var (code, _, stderr) = EpgRunner.Run("train", "--preset", "ci", "--out", tmp["run"], "--backend", "cpu", "--report-tasks", "0");
        Assert.True(code == 0, stderr);
        string before = File.ReadAllText(tmp["run/metrics.csv"]);
        using (RunDirectory.Lock(tmp["run"]))
        {
            var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "exec", epg, "train", "--preset", "ci", "--out", tmp["run"], "--resume", "--backend", "cpu", "--report-tasks", "0" }) psi.ArgumentList.Add(a);
            using var p = System.Diagnostics.Process.Start(psi)!;
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.Equal(1, p.ExitCode);
            Assert.Single(err.Trim().Split('\n'));
            Assert.Contains("in use by another epg process", err);
        }
        Assert.Equal(before, File.ReadAllText(tmp["run/metrics.csv"]));
        Assert.Empty(Directory.GetFiles(tmp["run"], "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void AnOverflowedBufferSizeDoesNotFit()
    {
        using var device = new CpuDevice(1);
        int overflowed = unchecked(100_000 * 30_000); // a learners x rows product past 2^31
        var e = Assert.Throws<EpgException>(() => device.Allocate<float>(overflowed));
        Assert.Equal(ExitCodes.DoesNotFit, e.ExitCode);
        using var tmp = new TempDir();
        var (code, _, stderr) = EpgRunner.Run("bench", "--suite", "networks", "--learners", "2000000000", "--out", tmp["bench"], "--backend", "cpu", "--seconds", "0.1");
        Assert.Equal(3, code);
        Assert.Contains("overflowed 32-bit indexing", stderr.Trim().Split('\n')[^1]);
    }

    [Fact]
    public void AFailedWriteLeavesNoTempFile()
    {
        using var tmp = new TempDir();
        Directory.CreateDirectory(tmp["target"]);
        var e = Assert.Throws<EpgException>(() => AtomicFile.WriteAllText(tmp["target"], "x"));
        Assert.Contains("is a directory", e.Message);
        File.WriteAllText(tmp["f"], "old");
        Directory.CreateDirectory(tmp["f.tmp"]); // the temp file cannot be created
        Assert.Throws<EpgException>(() => AtomicFile.WriteAllText(tmp["f"], "new"));
        Assert.Equal("old", File.ReadAllText(tmp["f"]));
        Assert.Empty(Directory.GetFiles(tmp.Path, "*.tmp"));
    }
}
