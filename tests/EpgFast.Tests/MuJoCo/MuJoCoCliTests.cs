using System.Diagnostics;
using System.Text.Json.Nodes;
using EpgFast.Tests.Cli;
using Xunit;

namespace EpgFast.Tests.MuJoCo;

[Collection("cli")]
public class MuJoCoCliTests
{
    [Fact]
    public void PhysicsJsonReportsRates()
    {
        var (code, stdout, _) = EpgRunner.Run("physics", "--engine", "mujoco", "--envs", "3", "--steps", "20", "--threads", "2", "--json");
        Assert.Equal(0, code);
        var doc = JsonNode.Parse(stdout)!;
        Assert.Equal("mujoco", (string?)doc["engine"]);
        Assert.Equal(3, (int)doc["envs"]!);
        Assert.Equal(20, (int)doc["steps"]!);
        Assert.Equal(2, (int)doc["threads"]!);
        Assert.Equal("euler", (string?)doc["integrator"]);
        double phys = (double)doc["physics_steps_per_s"]!, env = (double)doc["env_steps_per_s"]!;
        Assert.True(env > 0);
        Assert.Equal(5 * env, phys, 6);
    }

    [Fact]
    public void VsTestSpeedReportsBothRates()
    {
        var (code, stdout, _) = EpgRunner.Run("physics", "--vs-testspeed", "--rounds", "1", "--json");
        Assert.Equal(0, code);
        var doc = JsonNode.Parse(stdout)!;
        Assert.Equal(1, (int)doc["threads"]!);
        Assert.True((double)doc["testspeed_steps_per_s_best"]! > 0);
        Assert.True((double)doc["backend_frame_skip_5_steps_per_s_best"]! > 0);
        Assert.True((double)doc["ratio_median_paired_frame_skip_5"]! > 0);
    }

    [Theory]
    [InlineData("physics", "--engine", "bullet")]
    [InlineData("physics", "--engine", "kernel", "--vs-testspeed")]
    [InlineData("physics", "--envs", "0")]
    [InlineData("physics", "--integrator", "verlet")]
    public void BadPhysicsArgumentsAreOneLine(params string[] args)
    {
        var (code, stdout, stderr) = EpgRunner.Run(args);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public void PhysicsWithAMalformedModelNamesIt()
    {
        string f = Path.Combine(Path.GetTempPath(), $"epg-bad-{Guid.NewGuid():N}.xml");
        File.WriteAllText(f, "<mujoco><worldbody>");
        try
        {
            var (code, _, stderr) = EpgRunner.Run("physics", "--model", f, "--steps", "1");
            Assert.Equal(1, code);
            Assert.Contains(Path.GetFileName(f), stderr);
        }
        finally
        {
            File.Delete(f);
        }
    }

    /// <summary>
    /// Without libmujoco (simulated by pointing EPG_MUJOCO_LIBRARY at a missing file, in a child
    /// process since the library loads once per process): MuJoCo commands fail with one line naming
    /// the packages; commands that do not need MuJoCo still work.
    /// </summary>
    [Fact]
    public void MissingLibraryIsOneLineNamingThePackages()
    {
        var env = new Dictionary<string, string> { ["EPG_MUJOCO_LIBRARY"] = "/nonexistent/libmujoco.so.2.2.2" };
        var (code, stdout, stderr) = RunEpg(env, "physics", "--envs", "1", "--steps", "1");
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        var lines = stderr.Trim().Split('\n');
        Assert.Contains(lines, l => l.StartsWith("epg: libmujoco", StringComparison.Ordinal));
        Assert.Contains("apt-get install libmujoco2.2.2 libmujoco-dev", stderr);
        Assert.DoesNotContain("Exception", stderr);

        (code, stdout, _) = RunEpg(env, "info", "--json");
        Assert.Equal(0, code);
        var doc = JsonNode.Parse(stdout)!;
        Assert.False((bool)doc["mujoco_present"]!);
        Assert.Contains("apt-get install libmujoco2.2.2", (string?)doc["mujoco_detail"]);
    }

    /// <summary>A library that answers mj_version() with 231 (a stand-in built with gcc) is refused before any struct is touched.</summary>
    [Fact]
    public void OtherMuJoCoVersionIsRefused()
    {
        string dir = Directory.CreateTempSubdirectory("epg-mjver").FullName;
        try
        {
            string c = Path.Combine(dir, "fake.c"), so = Path.Combine(dir, "libmujoco.so.2.3.1");
            File.WriteAllText(c, "int mj_version(void) { return 231; }\n");
            using (var gcc = Process.Start(new ProcessStartInfo("gcc", $"-shared -fPIC -o {so} {c}") { RedirectStandardError = true })!)
            {
                gcc.StandardError.ReadToEnd();
                gcc.WaitForExit();
                Assert.True(gcc.ExitCode == 0, "gcc failed (build.ps1 deps installs gcc)");
            }
            var (code, stdout, stderr) = RunEpg(new() { ["EPG_MUJOCO_LIBRARY"] = so }, "physics", "--steps", "1");
            Assert.Equal(1, code);
            Assert.Equal("", stdout);
            Assert.Single(stderr.Trim().Split('\n'), l => l.StartsWith("epg: ", StringComparison.Ordinal));
            Assert.Contains("MuJoCo 2.3.1", stderr);
            Assert.Contains("2.2.2", stderr);

            // A library that is not MuJoCo at all.
            (code, _, stderr) = RunEpg(new() { ["EPG_MUJOCO_LIBRARY"] = "libm.so.6" }, "physics", "--steps", "1");
            Assert.Equal(1, code);
            Assert.Contains("no symbol mj_version", stderr);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static (int Code, string Out, string Err) RunEpg(Dictionary<string, string> env, params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "epg.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, o, err.Result);
    }
}
