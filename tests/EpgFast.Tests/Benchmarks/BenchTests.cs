using System.Text.Json.Nodes;
using EpgFast.Backends;
using EpgFast.Benchmarks;
using EpgFast.Tests.Cli;
using Xunit;

namespace EpgFast.Tests.Benchmarks;

/// <summary>`epg bench` at tiny sizes: the JSON fields, the files, the out-of-memory stop and bad arguments (no timed assertions).</summary>
[Collection("cli")]
public class BenchTests
{
    private static string TempDir()
    {
        string d = Path.Combine(Path.GetTempPath(), "epg-bench-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    [Fact]
    public void AllSuitesReportEveryFieldAndWriteFiles()
    {
        string dir = TempDir();
        var (code, stdout, stderr) = EpgRunner.Run("bench", "--suite", "all", "--backend", "cpu", "--learners", "4,8", "--seconds", "0.05", "--out", dir, "--json");
        Assert.True(code == 0, stderr);
        var doc = JsonNode.Parse(stdout)!;
        Assert.Equal("cpu", (string?)doc["backend"]);
        Assert.False(string.IsNullOrEmpty((string?)doc["device"]));
        Assert.Null(doc["error"]);
        var batches = doc["batches"]!.AsArray();
        Assert.Equal([4, 8], batches.Select(b => (int)b!["learners"]!).ToArray());
        foreach (var b in batches)
        {
            int l = (int)b!["learners"]!;
            Assert.True((double)b["physics"]!["env_steps_per_s"]! > 0);
            Assert.Equal(5 * (double)b["physics"]!["env_steps_per_s"]!, (double)b["physics"]!["physics_steps_per_s"]!, 6);
            foreach (var piece in new[] { "policy_forward", "policy_forward_backward", "loss_forward_backward", "adam_step" })
            {
                Assert.True((long)b["networks"]![piece]!["flops"]! > 0, piece);
                Assert.True((double)b["networks"]![piece]!["gflops_per_s"]! > 0, piece);
                Assert.True((int)b["networks"]![piece]!["repetitions"]! >= 1, piece);
            }
            var learner = b["learner"]!;
            Assert.Equal(128, (int)learner["lifetime_steps"]!);
            // learner steps = learners x lifetime, updates = learners x K, both per the same lifetime time.
            Assert.Equal(64.0, (double)learner["learner_steps_per_s"]! / (double)learner["updates_per_s"]!, 6);
            Assert.InRange((double)learner["update_share"]!, 0.0, 1.0);
            foreach (var suite in new[] { "physics", "networks", "learner" })
            {
                long bytes = (long)b[suite]!["device_bytes"]!;
                Assert.True(bytes > 0, suite);
                Assert.Equal((double)bytes / l, (double)b[suite]!["bytes_per_learner"]!, 6);
            }
            // The whole learner (env + buffers + networks) holds at least the N x TrajDim trajectory.
            Assert.True((double)learner["bytes_per_learner"]! > 512 * 4 * 8, "learner bytes per learner");
            // The parts account for every byte the learner suite counted (phi, one member's, comes on top).
            var parts = learner["bytes_per_learner_by_part"]!.AsObject();
            Assert.Contains("buffer (N rows)", parts.Select(kv => kv.Key));
            Assert.Equal(0.0, (double)parts["ppo + value net"]!);   // alpha 0: lean learners, no value net
            double booked = parts.Sum(kv => (double)kv.Value!);
            Assert.InRange((double)learner["bytes_per_learner"]! - booked, 0, 64 * 1024.0 / l);
            // The profile: every phase of a learner step, positive, and together about the timed step.
            var phases = learner["us_per_learner_step_by_phase"]!.AsObject();
            foreach (var phase in new[] { "act: normalize + policy", "env step (physics, task)", "update: loss network", "update: policy backward (N rows)", "update: adam" })
                Assert.True((double)phases[phase]! > 0, phase);
            Assert.DoesNotContain("update: ppo", phases.Select(kv => kv.Key));
            Assert.True((double)b["networks"]!["policy_update"]!["gflops_per_s"]! > 0);
        }
        foreach (var f in new[] { "results.json", "throughput.png", "gflops.png" })
            Assert.True(new FileInfo(Path.Combine(dir, f)).Length > 0, f);
        var saved = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "results.json")))!;
        Assert.Equal(2, saved["batches"]!.AsArray().Count);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void BatchOverTheMemoryLimitStopsAfterReportingTheSizesThatFit()
    {
        string dir = TempDir();
        // Ant physics needs about 26 KB per env: 4 envs fit in 0.5 MiB, 64 do not.
        var (code, stdout, stderr) = EpgRunner.Run("bench", "--suite", "physics", "--backend", "cpu", "--learners", "4,64,128",
            "--seconds", "0.05", "--memory-limit-mb", "0.5", "--out", dir, "--json");
        Assert.Equal(3, code);
        var doc = JsonNode.Parse(stdout)!;
        Assert.Equal([4], doc["batches"]!.AsArray().Select(b => (int)b!["learners"]!).ToArray());
        Assert.Contains("64 learners does not fit", (string?)doc["error"]);
        string line = stderr.Trim().Split('\n').Last();
        Assert.StartsWith("epg: batch of 64 learners does not fit in device memory", line);
        Assert.Contains("sizes that fit: 4", line);
        Assert.True(File.Exists(Path.Combine(dir, "results.json")));
        Assert.True(File.Exists(Path.Combine(dir, "throughput.png")));

        // The first size alone over the limit: counted after setup, nothing fits.
        (code, stdout, stderr) = EpgRunner.Run("bench", "--suite", "physics", "--backend", "cpu", "--learners", "64",
            "--seconds", "0.05", "--memory-limit-mb", "0.5", "--out", dir);
        Assert.Equal(3, code);
        Assert.Contains("sizes that fit: none", stderr);
        Directory.Delete(dir, true);
    }

    [Theory]
    [InlineData("--suite", "everything")]
    [InlineData("--learners", "4,x")]
    [InlineData("--learners", "0")]
    [InlineData("--seconds", "0")]
    [InlineData("--engine", "bullet")]
    [InlineData("--alpha", "1.5")]
    [InlineData("--updates", "0")]
    public void BadArgumentsExitTwoWithOneLine(string option, string value)
    {
        var args = new List<string> { "bench", "--backend", "cpu", "--seconds", "0.05", "--out", Path.GetTempPath() };
        if (option == "--seconds") args.RemoveRange(3, 2);
        if (option != "--learners") args.AddRange(["--learners", "4"]);
        args.AddRange([option, value]);
        var (code, _, stderr) = EpgRunner.Run(args.ToArray());
        Assert.Equal(2, code);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public void DeviceCountsLiveBufferBytes()
    {
        using var device = new CpuDevice(1);
        long before = device.AllocatedBytes;
        var a = device.Allocate<float>(1000);
        var b = device.Allocate<int>(10);
        Assert.Equal(before + 4040, device.AllocatedBytes);
        a.Dispose();
        a.Dispose();
        Assert.Equal(before + 40, device.AllocatedBytes);
        b.Dispose();
        Assert.Equal(before, device.AllocatedBytes);
    }

    [Fact]
    public void OutOfMemoryIsRecognizedInsideWrappers()
    {
        Assert.True(ThroughputBench.IsOutOfMemory(new OutOfMemoryException()));
        Assert.True(ThroughputBench.IsOutOfMemory(new InvalidOperationException("wrap", new Exception("CUDA_ERROR_OUT_OF_MEMORY: out of memory"))));
        Assert.False(ThroughputBench.IsOutOfMemory(new InvalidOperationException("index out of range")));
    }
}
