using System.Text.Json.Nodes;
using EpgFast.Backends;
using EpgFast.Runs;
using EpgFast.Tests.Cli;
using EpgFast.Tests.Runs;
using Xunit;

namespace EpgFast.Tests.Training;

/// <summary>`epg eval` writes the trained policies; `epg play` runs them on either engine and refuses bad files in one line.</summary>
[Collection("cli")]
public class PlayCliTests
{
    [Fact]
    public void EvalWritesPoliciesThatPlayRunsOnBothEngines()
    {
        using var tmp = new TempDir();
        var eval = EpgRunner.Run("eval", "--method", "ppo", "--env", "ant", "--preset", "ci", "--learners", "2", "--out", tmp["eval"], "--backend", "cpu", "--json");
        Assert.True(eval.Code == 0, eval.Err);
        string file = tmp["eval/policies/ppo-ant.bin"];
        var policies = PolicyFile.Read(file);
        Assert.Equal((2, "ant", "kernel", 27, 8), (policies.Count, policies.Env, policies.Engine, policies.Obs, policies.Act));
        Assert.Equal(2 * policies.Stride, policies.Learners.Parameters.Length);

        var returns = new Dictionary<string, double[]>();
        foreach (var engine in new[] { "kernel", "mujoco" })
        {
            var r = EpgRunner.Run("play", "--policies", file, "--engine", engine, "--episodes", "1", "--backend", "cpu", "--json");
            Assert.True(r.Code == 0, r.Err);
            var doc = JsonNode.Parse(r.Out)!;
            returns[engine] = doc["returns"]!.AsArray().Select(x => (double)x!).ToArray();
            Assert.Equal(2, returns[engine].Length);
            Assert.All(returns[engine], x => Assert.True(double.IsFinite(x)));
            Assert.Equal(returns[engine].Average(), (double)doc["return_mean"]!, 6);
        }
        // the mean action is deterministic: playing again gives the same returns
        var again = JsonNode.Parse(EpgRunner.Run("play", "--policies", file, "--engine", "kernel", "--episodes", "1", "--backend", "cpu", "--json").Out)!;
        Assert.Equal(returns["kernel"], again["returns"]!.AsArray().Select(x => (double)x!).ToArray());
    }

    [Fact]
    public void WrongOrDamagedPolicyFilesAreOneLineErrors()
    {
        using var tmp = new TempDir();
        var eval = EpgRunner.Run("eval", "--method", "ppo", "--env", "ant", "--preset", "ci", "--learners", "1", "--out", tmp["eval"], "--backend", "cpu");
        Assert.True(eval.Code == 0, eval.Err);
        string good = tmp["eval/policies/ppo-ant.bin"];
        var bytes = File.ReadAllBytes(good);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(tmp["damaged.bin"], bytes);
        File.WriteAllBytes(tmp["short.bin"], bytes[..40]);
        var cases = new (string[] Args, string Message)[]
        {
            (["--policies", tmp["damaged.bin"]], "is corrupt"),
            (["--policies", tmp["short.bin"]], "truncated"),
            (["--policies", tmp["eval/summary.json"]], "is not an EpgFast policy file"),
            (["--policies", tmp["missing.bin"]], "does not exist"),
            (["--policies", tmp["eval"]], "is a directory"),
            (["--policies", good, "--env", "goal-ant"], "the policies observe 27 values"),
            (["--policies", good, "--episodes", "0"], "--episodes must be at least 1"),
            (["--policies", good, "--env", "point-goal"], "--env must be ant or goal-ant"),
        };
        foreach (var (args, message) in cases)
        {
            var r = EpgRunner.Run(["play", .. args, "--backend", "cpu"]);
            Assert.NotEqual(0, r.Code);
            var lines = r.Err.Trim().Split('\n');
            Assert.StartsWith("epg: ", lines[^1]);
            Assert.Contains(message, lines[^1]);
            Assert.DoesNotContain("   at ", r.Err);
        }
    }
}
