using System.Globalization;
using System.Text.Json.Nodes;
using EpgFast.Backends;
using EpgFast.Kernels.Physics;
using EpgFast.Physics;
using EpgFast.Tests.Cli;
using Xunit;

namespace EpgFast.Tests.Physics;

/// <summary>`epg rollout`: engine agreement without contact, rest with contact, malformed action files, CSV round trip.</summary>
[Collection("cli")]
public class RolloutTests
{
    private static string Ant => PhysicsTestUtil.AntPath;

    private static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "epgfast-rollout-tests", $"{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Uniform random controls in [-1, 1]: (steps, nu).</summary>
    private static float[] RandomActions(int steps, int nu, int seed)
    {
        var rng = new System.Random(seed);
        return Enumerable.Range(0, steps * nu).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    private static string ActionCsv(float[] actions, int nu) =>
        string.Join("\n", actions.Chunk(nu).Select(r => string.Join(",", r.Select(x => x.ToString("R", CultureInfo.InvariantCulture))))) + "\n";

    /// <summary>max |a - b| / (max |b| + 1e-6) over the whole vector.</summary>
    private static double Rel(double[] a, double[] b)
    {
        double scale = b.Max(Math.Abs) + 1e-6, worst = 0;
        for (int i = 0; i < a.Length; i++) worst = Math.Max(worst, Math.Abs(a[i] - b[i]) / scale);
        return worst;
    }

    private static RolloutTrajectory Replay(EngineKind engine, float[] actions, int frameSkip, bool noContact, Action<IPhysicsBatch, int>? after = null)
    {
        using var device = new CpuDevice(1);
        using var physics = PhysicsFactory.Create(engine, device, Ant, 1, new EngineOptions { DisableContactAndLimits = noContact });
        if (physics is KernelPhysics k) k.Diagnose = true;
        return Rollout.Run(physics, actions, frameSkip, t => after?.Invoke(physics, t));
    }

    [Fact]
    public void WithoutContactBothEnginesReplayTheSameFileWithin1e2()
    {
        // 20 env steps x frame skip 5 = 100 physics steps of random controls, contacts and limits off
        var actions = RandomActions(20, 8, seed: 7);
        var k = Replay(EngineKind.Kernel, actions, 5, noContact: true);
        var m = Replay(EngineKind.MuJoCo, actions, 5, noContact: true);
        Assert.Equal(21 * 15, k.Qpos.Length);
        Assert.Equal(m.Qpos.Length, k.Qpos.Length);
        Assert.False(k.Float64);
        Assert.True(m.Float64);
        double rq = Rel(k.Qpos, m.Qpos), rv = Rel(k.Qvel, m.Qvel);
        Assert.True(rq < 1e-2, $"qpos max rel err {rq:g3}");
        Assert.True(rv < 1e-2, $"qvel max rel err {rv:g3}");
        // the controls moved the legs (hinge qvel far from zero) and the free body fell ~4.9 m
        Assert.True(m.Qvel.Chunk(14).Max(r => r.Skip(6).Max(Math.Abs)) > 1);
        Assert.InRange(m.Q(20, 2), 0.75 - 4.905 - 0.3, 0.75 - 4.905 + 0.3);
    }

    [Fact]
    public void ControlsAreClampedToCtrlRange()
    {
        // ant.xml: ctrlrange -1..1, so +-5 replays exactly like +-1 on both engines
        var big = RandomActions(4, 8, seed: 3).Select(x => x > 0 ? 5f : -5f).ToArray();
        var unit = big.Select(x => x / 5).ToArray();
        foreach (var engine in new[] { EngineKind.Kernel, EngineKind.MuJoCo })
        {
            var a = Replay(engine, big, 5, noContact: false);
            var b = Replay(engine, unit, 5, noContact: false);
            Assert.Equal(b.Qpos, a.Qpos);
            Assert.Equal(b.Qvel, a.Qvel);
        }
    }

    [Fact]
    public void WithZeroControlsBothEnginesRestWithContactForceEqualToWeight()
    {
        // 4 s of zero controls (80 env steps x 5), contacts on
        var zeros = new float[80 * 8];
        var model = Models.MjcfLoader.Load(Ant);
        double weight = model.TotalMass * Math.Sqrt(model.Gravity.Sum(g => g * g));
        double kForce = 0, mForce = 0;
        var k = Replay(EngineKind.Kernel, zeros, 5, noContact: false, (p, t) =>
        {
            if (t == 80) kForce = ((KernelPhysics)p).Diagnostics.ToArray()[SimDims.DiagNormalForce];
        });
        var m = Replay(EngineKind.MuJoCo, zeros, 5, noContact: false, (p, t) =>
        {
            if (t != 80) return;
            var data = ((MuJoCoPhysics)p).Batch[0];
            data.Forward(); // contact forces of the final state
            for (int c = 0; c < data.Ncon; c++) mForce += data.Contact(c).NormalForce;
        });
        Assert.InRange(kForce / weight, 0.95, 1.05);
        Assert.InRange(mForce / weight, 0.95, 1.05);
        foreach (var traj in new[] { k, m })
        {
            double speed = traj.Qvel.Skip(80 * 14).Take(14).Max(Math.Abs);
            Assert.True(speed < 1e-2, $"max |qvel| at 4 s: {speed:g3}");
        }
        // both stand on their legs (torso above the ground, below its start); the rest heights are not
        // asserted equal: the kernel simulator settled at 0.45 m where MuJoCo stays at 0.60 m (reported to the lead)
        Assert.InRange(k.Q(80, 2), 0.2, 0.75);
        Assert.InRange(m.Q(80, 2), 0.2, 0.75);
    }

    [Theory]
    [InlineData("0,0,0,0,0,0,0,0\n0,0,0,0,0,0,0\n", "line 2", "got 7")]
    [InlineData("0,0,0,0,0,0,0,0\n0,0,0,0,0,0,0,0\n0,0,NaN,0,0,0,0,0\n", "line 3", "'NaN'")]
    [InlineData("0,0,0,0,0,0,0,0,0\n", "line 1", "got 9")]
    [InlineData("0,0,0,0,0,0,0,0\nleft,0,0,0,0,0,0,0\n", "line 2", "'left'")]
    [InlineData("0,0,0,0,0,0,0,0\n0,0,0,0,0,0,0,Infinity\n", "line 2", "not a finite number")]
    [InlineData("0,0,0,0,0,0,0,0\n\n0,0,0,0,0,0,0,0\n", "line 2", "got 0")]
    public void MalformedActionFilesAreRefusedAndNothingIsWritten(string content, string line, string detail)
    {
        string dir = TempDir();
        string actions = Path.Combine(dir, "actions.csv"), output = Path.Combine(dir, "traj.csv"), plot = Path.Combine(dir, "p.png");
        File.WriteAllText(actions, content);
        foreach (var engine in new[] { "kernel", "mujoco" })
        {
            var (code, stdout, stderr) = EpgRunner.Run("rollout", "--engine", engine, "--model", Ant, "--actions", actions,
                "--out", output, "--plot", plot, "--backend", "cpu", "--json");
            Assert.Equal(1, code);
            Assert.Equal("", stdout);
            string error = stderr.Trim().Split('\n')[^1];
            Assert.StartsWith("epg: actions.csv " + line + ":", error);
            Assert.Contains(detail, error);
            Assert.False(File.Exists(output));
            Assert.False(File.Exists(plot));
        }
    }

    [Fact]
    public void TrajectoryCsvParsesBackToTheNumbersWritten()
    {
        string dir = TempDir();
        var actions = RandomActions(12, 8, seed: 11);
        foreach (var engine in new[] { EngineKind.Kernel, EngineKind.MuJoCo })
        {
            var traj = Replay(engine, actions, 5, noContact: false);
            string path = Path.Combine(dir, $"{engine}.csv");
            Rollout.WriteCsv(path, traj);
            var (columns, rows) = Rollout.ReadCsv(path);
            Assert.Equal(Rollout.Header(15, 14).Split(','), columns);
            Assert.Equal(13, rows.Length);
            for (int t = 0; t < rows.Length; t++)
            {
                Assert.Equal(t, rows[t][0]);
                for (int i = 0; i < 15; i++) Same(traj.Float64, traj.Qpos[t * 15 + i], rows[t][1 + i]);
                for (int i = 0; i < 14; i++) Same(traj.Float64, traj.Qvel[t * 14 + i], rows[t][16 + i]);
            }
        }

        static void Same(bool float64, double written, double parsed)
        {
            if (float64) Assert.Equal(BitConverter.DoubleToInt64Bits(written), BitConverter.DoubleToInt64Bits(parsed));
            else Assert.Equal(BitConverter.SingleToInt32Bits((float)written), BitConverter.SingleToInt32Bits((float)parsed));
        }
    }

    [Fact]
    public void CliWritesTheSameTrajectoryAsTheApiWithJsonSummaryAndPlot()
    {
        string dir = TempDir();
        var actions = RandomActions(10, 8, seed: 5);
        string actionPath = Path.Combine(dir, "actions.csv");
        File.WriteAllText(actionPath, ActionCsv(actions, 8));
        foreach (var engine in new[] { EngineKind.Kernel, EngineKind.MuJoCo })
        {
            string name = engine == EngineKind.Kernel ? "kernel" : "mujoco";
            string output = Path.Combine(dir, name, "traj.csv"), plot = Path.Combine(dir, name, "torso.png");
            var (code, stdout, stderr) = EpgRunner.Run("rollout", "--engine", name, "--model", Ant, "--actions", actionPath,
                "--out", output, "--frame-skip", "3", "--plot", plot, "--backend", "cpu", "--threads", "1", "--json");
            Assert.True(code == 0, stderr);
            var j = JsonNode.Parse(stdout)!.AsObject();
            Assert.Equal(name, (string)j["engine"]!);
            Assert.Equal(10, (int)j["steps"]!);
            Assert.Equal(30, (int)j["physics_steps"]!);
            Assert.True((bool)j["contact"]!);
            Assert.Equal(engine == EngineKind.MuJoCo ? "float64" : "float32", (string)j["precision"]!);
            Assert.Equal(Path.GetFullPath(output), (string)j["files"]!["trajectory"]!);
            Assert.Equal(Path.GetFullPath(plot), (string)j["files"]!["plot"]!);
            Assert.True(new FileInfo(plot).Length > 1000);

            var expected = Replay(engine, actions, 3, noContact: false);
            Assert.Equal(Rollout.ToCsv(expected), File.ReadAllText(output));
            var torso = j["final_torso"]!.AsArray().Select(x => (double)x!).ToArray();
            Assert.Equal([expected.Q(10, 0), expected.Q(10, 1), expected.Q(10, 2)], torso);
        }
    }

    [Fact]
    public void BadArgumentsAreOneLineErrors()
    {
        string dir = TempDir();
        string actions = Path.Combine(dir, "a.csv");
        File.WriteAllText(actions, "0,0,0,0,0,0,0,0\n");
        var (code, _, stderr) = EpgRunner.Run("rollout", "--engine", "bullet", "--model", Ant, "--actions", actions, "--out", Path.Combine(dir, "t.csv"));
        Assert.Equal(2, code);
        Assert.Contains("--engine must be kernel or mujoco", stderr);
        (code, _, stderr) = EpgRunner.Run("rollout", "--engine", "kernel", "--model", Ant, "--actions", actions, "--out", Path.Combine(dir, "t.csv"), "--frame-skip", "0");
        Assert.Equal(2, code);
        Assert.Contains("--frame-skip", stderr);
        (code, _, stderr) = EpgRunner.Run("rollout", "--engine", "kernel", "--model", Ant, "--actions", Path.Combine(dir, "missing.csv"), "--out", Path.Combine(dir, "t.csv"));
        Assert.Equal(1, code);
        Assert.Contains("action file not found", stderr);
        Assert.False(File.Exists(Path.Combine(dir, "t.csv")));
    }
}
