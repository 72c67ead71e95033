using System.Security.Cryptography;
using EpgFast.Runs;
using EpgFast.Tests.Physics;
using Xunit;

namespace EpgFast.Tests.Cli;

/// <summary>
/// A sandbox with a finished run, a loss outside it, models, action files and configs, shared by
/// the bad-input corpus (built once: one ci-preset training run).
/// </summary>
public sealed class BadInputSandbox : IDisposable
{
    public BadInputSandbox()
    {
        Root = Path.Combine(Path.GetTempPath(), "epgfast-corpus-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        var (code, _, err) = EpgRunner.Run("train", "--preset", "ci", "--out", this["run"], "--backend", "cpu", "--report-tasks", "0");
        if (code != 0) throw new InvalidOperationException("the sandbox's training run failed: " + err);
        File.Copy(this["run/best.phi"], this["lone.phi"]);
        (code, _, err) = EpgRunner.Run("train", "--method", "rl2", "--preset", "ci", "--epochs", "1", "--out", this["rl2run"], "--backend", "cpu");
        if (code != 0) throw new InvalidOperationException("the sandbox's RL^2 training run failed: " + err);
        byte[] rl2 = File.ReadAllBytes(this["rl2run/best.rl2"]);
        rl2[^40] ^= 0xFF;
        File.WriteAllBytes(this["damaged.rl2"], rl2);
        Write("c-rl2.json", "{\n  \"rl2_hidden\": 8\n}\n");
        Write("c-rl2hidden0.json", "{\n  \"rl2_hidden\": 0\n}\n");
        CopyDirectory(this["run"], this["run-noconfig"]);
        File.Delete(this["run-noconfig/config.json"]);
        File.Copy(PhysicsTestUtil.AntPath, this["ant.xml"]);
        string row = string.Join(",", Enumerable.Repeat("0.25", 8));
        Write("actions.csv", $"{row}\n{row}\n{row}\n");
        Write("big.csv", $"{row}\n1e40,0,0,0,0,0,0,0\n");
        Write("short.csv", $"{row}\n0,0,0,0,0,0,0\n");
        Write("nan.csv", "nan,0,0,0,0,0,0,0\n");
        Write("afile", "not a folder\n");
        Write("c-minibatch0.json", "{\n  \"epochs\": 2,\n  \"minibatch\": 0\n}\n");
        Write("c-dup.json", "{\n  \"epochs\": 2,\n  \"sigma\": 0.1,\n  \"epochs\": 3\n}\n");
        Write("c-array.json", "[{\"epochs\": 2}]\n");
        Write("c-overflow.json", "{\n  \"population\": 100000,\n  \"tasks_per_member\": 100000\n}\n");
        Write("c-testtasks0.json", "{\n  \"test_tasks\": 0\n}\n");
        Write("c-type.json", "{\n  \"epochs\": \"ten\"\n}\n");
        Write("c-unknown.json", "{\n  \"epoch\": 3\n}\n");
        Write("c-notjson.json", "{\n  \"epochs\": 3,,\n}\n");
        Write("c-epochs.json", "{\n  \"epochs\": 9\n}\n");
        Write("c-buffer64.json", "{\n  \"buffer_rows\": 64\n}\n");
        const string floor = "<geom type=\"plane\" size=\"5 5 0.1\"/>";
        Write("dup-body.xml", $"<mujoco>\n<worldbody>\n{floor}\n<body name=\"b\"><joint name=\"j\"/><geom size=\"0.1\" conaffinity=\"0\"/></body>\n<body name=\"b\" pos=\"1 0 0\"><joint name=\"k\"/><geom size=\"0.1\" conaffinity=\"0\"/></body>\n</worldbody>\n</mujoco>\n");
        Write("dup-joint.xml", $"<mujoco>\n<worldbody>\n{floor}\n<body name=\"a\"><joint name=\"j\"/><geom size=\"0.1\" conaffinity=\"0\"/></body>\n<body name=\"b\" pos=\"1 0 0\"><joint name=\"j\"/><geom size=\"0.1\" conaffinity=\"0\"/></body>\n</worldbody>\n<actuator><motor joint=\"j\"/></actuator>\n</mujoco>\n");
        Write("unnamed-pair.xml", "<mujoco>\n<worldbody>\n<body>\n<joint/>\n<geom size=\"1\"/>\n</body>\n<body pos=\"3 0 0\">\n<joint/>\n<geom size=\"1\"/>\n</body>\n</worldbody>\n</mujoco>\n");
        Directory.CreateDirectory(this["foreign"]);
        Write("foreign/summary.json", "my own notes, not JSON\n");
        Directory.CreateDirectory(this["foreign-curves"]);
        Write("foreign-curves/curves.csv", "a,b\n1,2\n");
        Write("tendon.xml", "<mujoco>\n<tendon/>\n</mujoco>\n");
    }

    public string Root { get; }

    public string this[string relative] => Path.Combine(Root, relative);

    private void Write(string relative, string text) => File.WriteAllText(this[relative], text);

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        foreach (var d in Directory.GetDirectories(from)) CopyDirectory(d, Path.Combine(to, Path.GetFileName(d)));
    }

    /// <summary>Every folder and file under the sandbox with its SHA-256 (folders: "dir").</summary>
    public SortedDictionary<string, string> Snapshot()
    {
        var s = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var d in Directory.GetDirectories(Root, "*", SearchOption.AllDirectories)) s[Path.GetRelativePath(Root, d)] = "dir";
        foreach (var f in Directory.GetFiles(Root, "*", SearchOption.AllDirectories))
            s[Path.GetRelativePath(Root, f)] = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)));
        return s;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>
/// The bad-input corpus: MJCF, configs, action files, paths and concurrent runs, each through the
/// real CLI. Every case must exit with its documented code (1 user error, 2 bad arguments or values,
/// 3 does not fit), print exactly one line on stderr ("epg: ...") and nothing on stdout, and leave
/// every file of the sandbox byte-identical, with nothing added (no folder, no *.tmp).
/// </summary>
[Collection("cli")]
public class BadInputCorpusTests(BadInputSandbox box) : IClassFixture<BadInputSandbox>
{
    private const string Ant = "ant.xml";

    public static TheoryData<string, int, string, string[]> Cases => new()
    {
        // action files and rollout paths
        { "output replaces the action file", 1, "same file as --actions", ["rollout", "--engine", "kernel", "--model", Ant, "--actions", "actions.csv", "--out", "actions.csv"] },
        { "output replaces the model", 1, "same file as --model", ["rollout", "--engine", "kernel", "--model", Ant, "--actions", "actions.csv", "--out", Ant] },
        { "plot replaces the action file", 1, "same file as --actions", ["rollout", "--engine", "kernel", "--model", Ant, "--actions", "actions.csv", "--out", "t.csv", "--plot", "actions.csv"] },
        { "output names a folder", 1, "is a folder", ["rollout", "--engine", "kernel", "--model", Ant, "--actions", "actions.csv", "--out", "run"] },
        { "output below a file", 1, "is a file", ["rollout", "--engine", "kernel", "--model", Ant, "--actions", "actions.csv", "--out", "afile/t.csv"] },
        { "1e40 in an action file", 1, "out of float32 range", ["rollout", "--engine", "kernel", "--model", Ant, "--actions", "big.csv", "--out", "t.csv"] },
        { "nan in an action file", 1, "not a finite number", ["rollout", "--engine", "kernel", "--model", Ant, "--actions", "nan.csv", "--out", "t.csv"] },
        { "short action row", 1, "line 2: expected 8", ["rollout", "--engine", "kernel", "--model", Ant, "--actions", "short.csv", "--out", "t.csv"] },
        { "action file is a folder", 1, "is a folder", ["rollout", "--engine", "kernel", "--model", Ant, "--actions", "run", "--out", "t.csv"] },
        { "frame skip 0", 2, "--frame-skip", ["rollout", "--engine", "kernel", "--model", Ant, "--actions", "actions.csv", "--out", "t.csv", "--frame-skip", "0"] },
        // MJCF
        { "repeated body name", 1, "dup-body.xml:5: repeated name 'b' in body", ["rollout", "--engine", "kernel", "--model", "dup-body.xml", "--actions", "actions.csv", "--out", "t.csv"] },
        { "repeated joint name", 1, "repeated name 'j' in joint", ["rollout", "--engine", "kernel", "--model", "dup-joint.xml", "--actions", "actions.csv", "--out", "t.csv"] },
        { "unnamed geoms that collide", 1, "unnamed sphere geom at line 5", ["rollout", "--engine", "kernel", "--model", "unnamed-pair.xml", "--actions", "actions.csv", "--out", "t.csv"] },
        { "element outside the subset", 1, "tendon.xml:2", ["rollout", "--engine", "kernel", "--model", "tendon.xml", "--actions", "actions.csv", "--out", "t.csv"] },
        // configs
        { "minibatch 0", 2, "c-minibatch0.json line 3: minibatch must be at least 1", ["train", "--preset", "ci", "--config", "c-minibatch0.json", "--out", "new", "--backend", "cpu"] },
        { "duplicate key", 2, "c-dup.json line 4: key 'epochs' appears twice (first on line 2)", ["train", "--preset", "ci", "--config", "c-dup.json", "--out", "new", "--backend", "cpu"] },
        { "top level not an object", 2, "top level must be a JSON object", ["train", "--preset", "ci", "--config", "c-array.json", "--out", "new", "--backend", "cpu"] },
        { "sizes overflow int", 3, "c-overflow.json line 2: learners: population x tasks_per_member", ["train", "--preset", "ci", "--config", "c-overflow.json", "--out", "new", "--backend", "cpu"] },
        { "test_tasks 0", 2, "c-testtasks0.json line 2: test_tasks", ["train", "--preset", "ci", "--config", "c-testtasks0.json", "--out", "new", "--backend", "cpu"] },
        { "wrong value type", 2, "c-type.json line 2: field 'epochs' must be an integer", ["train", "--preset", "ci", "--config", "c-type.json", "--out", "new", "--backend", "cpu"] },
        { "unknown field", 2, "c-unknown.json line 2: unknown field 'epoch'", ["train", "--preset", "ci", "--config", "c-unknown.json", "--out", "new", "--backend", "cpu"] },
        { "not JSON", 2, "c-notjson.json line 2: not valid JSON", ["train", "--preset", "ci", "--config", "c-notjson.json", "--out", "new", "--backend", "cpu"] },
        { "config is a folder", 2, "is a directory", ["train", "--preset", "ci", "--config", "run", "--out", "new", "--backend", "cpu"] },
        { "config missing", 2, "no such file", ["train", "--preset", "ci", "--config", "nope.json", "--out", "new", "--backend", "cpu"] },
        // run directories
        { "train --out names a file", 1, "is a file", ["train", "--preset", "ci", "--out", "afile", "--backend", "cpu"] },
        { "train --out below a file", 1, "is a file", ["train", "--preset", "ci", "--out", "afile/run", "--backend", "cpu"] },
        { "train into an existing run", 1, "already holds a run", ["train", "--preset", "ci", "--out", "run", "--backend", "cpu", "--report-tasks", "0"] },
        { "resume with another seed", 1, "differs from", ["train", "--preset", "ci", "--out", "run", "--resume", "--seed", "9", "--backend", "cpu"] },
        { "resume with another config", 1, "in epochs", ["train", "--preset", "ci", "--out", "run", "--resume", "--config", "c-epochs.json", "--backend", "cpu"] },
        { "resume without config.json", 1, "no config.json", ["train", "--preset", "ci", "--out", "run-noconfig", "--resume", "--seed", "9", "--backend", "cpu"] },
        { "resume without config.json, another config", 1, "no config.json", ["train", "--preset", "ci", "--out", "run-noconfig", "--resume", "--config", "c-epochs.json", "--backend", "cpu"] },
        { "negative report tasks", 2, "--report-tasks", ["train", "--preset", "ci", "--out", "new", "--report-tasks", "-1", "--backend", "cpu"] },
        // memory
        { "train does not fit", 3, "does not fit: 4 learners (training)", ["train", "--preset", "ci", "--out", "new", "--backend", "cpu", "--memory-limit-mb", "1"] },
        { "eval does not fit", 3, "does not fit: eval: 100000000 learners", ["eval", "--method", "ppo", "--env", "point-goal", "--preset", "ci", "--learners", "100000000", "--out", "ev", "--backend", "cpu"] },
        // eval and bench outputs, loss files
        { "eval --out names a file", 1, "is a file", ["eval", "--loss", "lone.phi", "--preset", "ci", "--learners", "2", "--out", "afile", "--backend", "cpu"] },
        { "eval loss sizes differ from its header", 1, "trained with buffer_rows 32", ["eval", "--loss", "lone.phi", "--preset", "ci", "--config", "c-buffer64.json", "--learners", "2", "--out", "ev", "--backend", "cpu"] },
        { "eval loss is not a phi file", 1, "not an EpgFast phi file", ["eval", "--loss", "afile", "--preset", "ci", "--learners", "2", "--out", "ev", "--backend", "cpu"] },
        { "eval loss missing", 1, "does not exist", ["eval", "--loss", "nope.phi", "--preset", "ci", "--learners", "2", "--out", "ev", "--backend", "cpu"] },
        { "eval into a folder with a foreign summary.json", 1, "is not an eval's summary.json", ["eval", "--method", "ppo", "--env", "point-goal", "--preset", "ci", "--learners", "2", "--out", "foreign", "--backend", "cpu"] },
        { "eval into a folder with a foreign curves.csv", 1, "is not an eval's curves file", ["eval", "--method", "ppo", "--env", "point-goal", "--preset", "ci", "--learners", "2", "--out", "foreign-curves", "--backend", "cpu"] },
        { "physics scratch beyond 32-bit sizes", 3, "does not fit: 2000000000 environments", ["physics", "--engine", "kernel", "--model", Ant, "--envs", "2000000000", "--steps", "1", "--backend", "cpu"] },
        { "bench --out names a file", 1, "is a file", ["bench", "--suite", "physics", "--learners", "64", "--out", "afile", "--backend", "cpu"] },
        // reproduce
        { "reproduce at an unknown scale", 2, "--scale must be one of mini, cpu, gpu", ["reproduce", "--scale", "huge", "--out", "new", "--backend", "cpu"] },
        { "reproduce with no seeds", 2, "--seeds must be in 1..100", ["reproduce", "--seeds", "0", "--out", "new", "--backend", "cpu"] },
        { "reproduce --out names a file", 1, "is a file", ["reproduce", "--out", "afile", "--backend", "cpu"] },
        { "reproduce into a folder holding a train run", 1, "is not empty", ["reproduce", "--out", "run", "--backend", "cpu"] },
        { "reproduce does not fit", 3, "does not fit", ["reproduce", "--scale", "gpu", "--out", "new", "--backend", "cpu", "--memory-limit-mb", "1"] },
        { "reproduce's RL^2 does not fit", 3, "--method rl2: 1024 trials x 2000 steps", ["reproduce", "--scale", "gpu", "--out", "new", "--backend", "cpu", "--memory-limit-mb", "20000"] },
        { "reproduce --resume of a folder without a reproduce run", 1, "holds no reproduce run", ["reproduce", "--resume", "--out", "run", "--backend", "cpu"] },
        // RL^2
        { "rl2 on an env without targets", 2, "--method rl2 runs on tasks with targets", ["train", "--method", "rl2", "--preset", "ci", "--env", "ant", "--out", "new", "--backend", "cpu"] },
        { "rl2 with the paper preset", 2, "--preset must be ci, quick or gpu with --method rl2", ["train", "--method", "rl2", "--preset", "paper", "--out", "new", "--backend", "cpu"] },
        { "unknown train method", 2, "--method must be epg or rl2", ["train", "--method", "foo", "--preset", "ci", "--out", "new", "--backend", "cpu"] },
        { "rl2 field in an EPG config", 2, "c-rl2.json line 2: unknown field 'rl2_hidden'", ["train", "--preset", "ci", "--config", "c-rl2.json", "--out", "new", "--backend", "cpu"] },
        { "rl2_hidden 0", 2, "c-rl2hidden0.json line 2: rl2_hidden", ["train", "--method", "rl2", "--preset", "ci", "--config", "c-rl2hidden0.json", "--out", "new", "--backend", "cpu"] },
        { "rl2 does not fit", 3, "--method rl2: 8 trials x 100 steps", ["train", "--method", "rl2", "--preset", "ci", "--out", "new", "--backend", "cpu", "--memory-limit-mb", "0.01"] },
        { "rl2 eval with --loss", 2, "--method rl2 takes --policy", ["eval", "--method", "rl2", "--loss", "lone.phi", "--learners", "2", "--out", "ev", "--backend", "cpu"] },
        { "rl2 eval without --policy", 2, "--method rl2 needs --policy", ["eval", "--method", "rl2", "--learners", "2", "--out", "ev", "--backend", "cpu"] },
        { "--policy with --method ppo", 2, "--policy goes with --method rl2", ["eval", "--method", "ppo", "--policy", "rl2run/best.rl2", "--env", "point-goal", "--learners", "2", "--out", "ev", "--backend", "cpu"] },
        { "rl2 policy missing", 1, "does not exist", ["eval", "--method", "rl2", "--policy", "nope.rl2", "--learners", "2", "--out", "ev", "--backend", "cpu"] },
        { "rl2 policy is a loss file", 1, "not an EpgFast RL^2 policy", ["eval", "--method", "rl2", "--policy", "lone.phi", "--learners", "2", "--out", "ev", "--backend", "cpu"] },
        { "rl2 policy damaged", 1, "is corrupt", ["eval", "--method", "rl2", "--policy", "damaged.rl2", "--learners", "2", "--out", "ev", "--backend", "cpu"] },
        { "rl2 policy on another env", 1, "the RL^2 policy acts on 4 observations", ["eval", "--method", "rl2", "--policy", "rl2run/best.rl2", "--env", "goal-ant", "--learners", "2", "--out", "ev", "--backend", "cpu"] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadInputIsOneLineAndTouchesNothing(string what, int code, string message, string[] args) => Refused(what, code, message, args);

    /// <summary>A second process on a run directory in use (the lock held here, as a running epg train holds it).</summary>
    [Theory]
    [InlineData("run", "train", "--preset", "ci", "--out", "run", "--resume", "--backend", "cpu")]
    [InlineData("fresh", "train", "--preset", "ci", "--out", "fresh", "--backend", "cpu")]
    [InlineData("ev-busy", "eval", "--loss", "lone.phi", "--preset", "ci", "--learners", "2", "--out", "ev-busy", "--backend", "cpu")]
    [InlineData("bench-busy", "bench", "--suite", "physics", "--learners", "64", "--out", "bench-busy", "--backend", "cpu")]
    public void ASecondProcessOnABusyDirectoryIsOneLine(string busy, params string[] args)
    {
        bool existed = Directory.Exists(box[busy]);
        Directory.CreateDirectory(box[busy]);
        try
        {
            using (var held = RunDirectory.Lock(box[busy]))
                Refused($"{args[0]} on a busy folder", 1, "in use by another epg process", args);
        }
        finally
        {
            if (!existed) Directory.Delete(box[busy]);
        }
    }

    private void Refused(string what, int code, string message, string[] args)
    {
        var before = box.Snapshot();
        string[] resolved = args.Select(a => a.StartsWith('-') || !IsSandboxName(a) ? a : box[a]).ToArray();
        var (got, stdout, stderr) = EpgRunner.Run(resolved);
        var lines = stderr.Trim().Split('\n');
        Assert.True(got == code, $"{what}: exit {got}, expected {code}; stderr: {stderr}");
        Assert.True(lines.Length == 1, $"{what}: {lines.Length} lines on stderr: {stderr}");
        Assert.StartsWith("epg: ", lines[0]);
        Assert.Contains(message, lines[0]);
        Assert.Equal("", stdout);
        var after = box.Snapshot();
        Assert.True(before.SequenceEqual(after),
            $"{what}: files changed: {string.Join(", ", after.Except(before).Concat(before.Except(after)).Select(kv => kv.Key).Distinct())}");
    }

    private static readonly string[] Values = ["ci", "cpu", "kernel", "physics", "ppo", "point-goal", "train", "eval", "rollout", "bench", "rl2", "ant", "goal-ant", "paper", "foo", "reproduce", "huge", "gpu"];

    // Relative names of sandbox files and folders (what the cases name), not option values or verbs.
    private static bool IsSandboxName(string a) => !Values.Contains(a) && !double.TryParse(a, out _);
}
