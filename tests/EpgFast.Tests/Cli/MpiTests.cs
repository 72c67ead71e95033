using System.Diagnostics;
using EpgFast.Distributed;
using EpgFast.Tests.Runs;
using Xunit;

namespace EpgFast.Tests.Cli;

/// <summary>A fact that runs only where Open MPI's mpirun is on the PATH and epg.dll is beside the tests; skipped with the reason otherwise.</summary>
public sealed class MpirunFactAttribute : FactAttribute
{
    public MpirunFactAttribute()
    {
        if (MpiRun.Mpirun is null) Skip = "mpirun not found (Open MPI: dotnet pwsh ./build.ps1 deps, or apt-get install openmpi-bin libopenmpi-dev)";
        else if (!File.Exists(MpiRun.Epg)) Skip = "epg.dll is not beside the tests";
    }
}

/// <summary>Runs epg in child processes: plain, or under `mpirun -np R`.</summary>
public static class MpiRun
{
    public static readonly string Epg = Path.Combine(AppContext.BaseDirectory, "epg.dll");

    public static readonly string? Mpirun = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
        .Where(d => d.Length > 0).Select(d => Path.Combine(d, "mpirun")).FirstOrDefault(File.Exists);

    /// <summary>
    /// `mpirun --allow-run-as-root --oversubscribe -np R dotnet exec epg.dll ARGS` (R = 0: no mpirun); a job still
    /// running after <paramref name="hangSeconds"/> is killed and reported as a hang.
    /// </summary>
    public static (int Code, string Out, string Err) Run(int ranks, IDictionary<string, string>? env, string[] args, int hangSeconds = 180)
    {
        var psi = new ProcessStartInfo(ranks > 0 ? Mpirun! : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        if (ranks > 0)
            foreach (var a in new[] { "--allow-run-as-root", "--oversubscribe", "-np", ranks.ToString(), "dotnet" }) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add(Epg);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(hangSeconds * 1000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{psi.FileName} {string.Join(' ', psi.ArgumentList)} did not end in {hangSeconds} s (a hang)");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}

public class DistributionTests
{
    [Fact]
    public void SharesCoverThePopulationInOrderWithUnevenSplits()
    {
        foreach (int members in new[] { 1, 4, 7, 256 })
            for (int size = 1; size <= Math.Min(members, 5); size++)
            {
                int next = 0;
                for (int r = 0; r < size; r++)
                {
                    var (first, count) = Distribution.Share(members, size, r);
                    Assert.Equal(next, first);
                    Assert.InRange(count, members / size, members / size + 1);
                    next += count;
                }
                Assert.Equal(members, next);
            }
        Assert.Equal((0, 2), Distribution.Share(4, 3, 0));
        Assert.Equal((3, 1), Distribution.Share(4, 3, 2));
    }

    [Fact]
    public void OneProcessExchangeIsTheIdentity()
    {
        var x = SingleProcess.Instance;
        Assert.Equal((0, 1), (x.Rank, x.Size));
        double[] v = [1.5, double.NaN];
        Assert.Same(v, x.AllGather(v, [2]));
        Assert.Equal(new byte[] { 7 }, x.Broadcast([7]));
    }
}

/// <summary>`mpirun -np R epg train`: the same run directory as one process, a dead rank ends the job, and --resume finishes it identically.</summary>
[Collection("cli")]
public class MpiTests
{
    private static readonly string[] Train = ["train", "--preset", "ci", "--backend", "cpu", "--report-tasks", "0", "--threads", "1"];

    private static string[] TrainInto(string dir, params string[] more) => [.. Train, "--out", dir, .. more];

    [MpirunFact]
    public void TwoAndThreeRanksWriteTheSameRunAsOneProcess()
    {
        using var tmp = new TempDir();
        var one = MpiRun.Run(0, null, TrainInto(tmp["one"]));
        Assert.True(one.Code == 0, one.Err);
        foreach (int ranks in new[] { 2, 3 })
        {
            string dir = tmp[$"np{ranks}"];
            var r = MpiRun.Run(ranks, null, TrainInto(dir));
            Assert.True(r.Code == 0, r.Err);
            Assert.Contains($"x {ranks} MPI ranks", r.Err);
            Assert.Single(System.Text.RegularExpressions.Regex.Matches(r.Out, "done: ")); // rank 0 alone prints
            Assert.Equal(File.ReadAllBytes(tmp["one/metrics.csv"]), File.ReadAllBytes(Path.Combine(dir, "metrics.csv")));
            Assert.Equal(File.ReadAllBytes(tmp["one/best.phi"]), File.ReadAllBytes(Path.Combine(dir, "best.phi")));
            Assert.Equal(File.ReadAllBytes(tmp["one/checkpoints/last.ckpt"]), File.ReadAllBytes(Path.Combine(dir, "checkpoints/last.ckpt")));
        }
    }

    [MpirunFact]
    public void ADeadRankEndsTheJobAndResumeFinishesIdentically()
    {
        using var tmp = new TempDir();
        var one = MpiRun.Run(0, null, TrainInto(tmp["one"]));
        Assert.True(one.Code == 0, one.Err);
        // a job that outlives its dead rank by a minute hangs: Run throws
        var died = MpiRun.Run(2, new Dictionary<string, string> { [Distribution.DieVariable] = "1:2" }, TrainInto(tmp["run"]), hangSeconds: 60);
        Assert.NotEqual(0, died.Code);
        Assert.Contains("epg: rank 1: EPG_TEST_DIE_AT=1:2: exiting at epoch 2 (fault test)", died.Err);
        Assert.Equal(3, File.ReadAllLines(tmp["run/metrics.csv"]).Length); // header + epochs 0 and 1
        // Resume from the last checkpoint, with a different number of ranks: the same bytes as one process.
        var resumed = MpiRun.Run(3, null, TrainInto(tmp["run"], "--resume"));
        Assert.True(resumed.Code == 0, resumed.Err);
        Assert.Contains("resuming", resumed.Err);
        Assert.Equal(File.ReadAllBytes(tmp["one/metrics.csv"]), File.ReadAllBytes(tmp["run/metrics.csv"]));
        Assert.Equal(File.ReadAllBytes(tmp["one/best.phi"]), File.ReadAllBytes(tmp["run/best.phi"]));
    }

    [Fact]
    public void UnderMpirunWithoutOpenMpiIsOneLineNamingThePackages()
    {
        if (!File.Exists(MpiRun.Epg)) return; // the CLI is not beside the tests
        using var tmp = new TempDir();
        var env = new Dictionary<string, string> { ["OMPI_COMM_WORLD_SIZE"] = "2", [MpiExchange.LibraryVariable] = "/nonexistent/libmpi.so.40" };
        var r = MpiRun.Run(0, env, TrainInto(tmp["run"]));
        Assert.Equal(1, r.Code);
        Assert.Single(r.Err.Trim().Split('\n'));
        Assert.Contains("apt-get install openmpi-bin libopenmpi-dev", r.Err);
        Assert.False(Directory.Exists(tmp["run"]));
    }
}
