using System.Text.Json.Nodes;
using EpgFast.Tests.Cli;
using Xunit;

namespace EpgFast.Tests.Training;

/// <summary>`epg train` and `epg eval` end to end on the ci preset (point-goal).</summary>
[Collection("cli")]
public class TrainEvalCliTests
{
    [Fact]
    public void TrainWritesTheRunAndEvalComparesMethods()
    {
        string dir = Path.Combine(Path.GetTempPath(), "epgfast-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            string run = Path.Combine(dir, "run");
            var (code, stdout, stderr) = EpgRunner.Run("train", "--preset", "ci", "--out", run, "--backend", "cpu", "--report-tasks", "2", "--json");
            Assert.True(code == 0, stderr);
            var doc = JsonNode.Parse(stdout)!;
            Assert.Equal(4, (int)doc["epochs"]!);
            foreach (var f in new[] { "config.json", "metrics.csv", "best.phi", "report.md", "checkpoints/last.ckpt", "checkpoints/best.ckpt", "plots/fitness.png", "plots/report-curves.png" })
                Assert.True(File.Exists(Path.Combine(run, f)), f);
            Assert.StartsWith("epoch,fitness_mean,fitness_max", File.ReadLines(Path.Combine(run, "metrics.csv")).First());
            Assert.Equal(5, File.ReadAllLines(Path.Combine(run, "metrics.csv")).Length);

            // A second train into the same directory is refused; --resume of a finished run just reports.
            var again = EpgRunner.Run("train", "--preset", "ci", "--out", run, "--backend", "cpu", "--report-tasks", "0");
            Assert.NotEqual(0, again.Code);
            Assert.StartsWith("epg: ", again.Err.Trim().Split('\n')[^1]);

            string eval = Path.Combine(dir, "eval");
            foreach (var method in new[] { "epg", "ppo" })
            {
                var r = EpgRunner.Run("eval", "--loss", Path.Combine(run, "best.phi"), "--method", method, "--targets", "left",
                    "--learners", "3", "--out", eval, "--backend", "cpu", "--json");
                Assert.True(r.Code == 0, r.Err);
                Assert.NotNull(JsonNode.Parse(r.Out)!["final_return_mean"]);
            }
            var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(eval, "summary.json")))!;
            Assert.NotNull(summary["methods"]!["epg-left"]);
            Assert.NotNull(summary["methods"]!["ppo-left"]);
            var labels = File.ReadLines(Path.Combine(eval, "curves.csv")).Skip(1).Select(l => l.Split(',')[0]).Distinct().ToArray();
            Assert.Equal(["epg-left", "ppo-left"], labels.Order().ToArray());
            // Every window also records the learners' final distance of their last finished episode.
            Assert.Equal("method,step,return_mean,return_std,return_min,return_max,distance_mean,distance_std", File.ReadLines(Path.Combine(eval, "curves.csv")).First());
            Assert.All(File.ReadLines(Path.Combine(eval, "curves.csv")).Skip(1), l => Assert.Equal(8, l.Split(',').Length));
            double start = (double)summary["methods"]!["ppo-left"]!["start_distance_mean"]!;
            Assert.InRange(start, 0.5, 1.5); // point-goal targets at radius U[0.5, 1.5]
            Assert.True(new FileInfo(Path.Combine(eval, "plots", "learning-curves.png")).Length > 1000);
            Assert.True(new FileInfo(Path.Combine(eval, "plots", "paths.png")).Length > 1000);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("eval", "--method", "epg", "--out", "/tmp/x")]                                  // epg needs --loss
    [InlineData("eval", "--method", "sgd", "--out", "/tmp/x")]
    [InlineData("train", "--preset", "huge", "--out", "/tmp/x")]
    [InlineData("train", "--preset", "ci", "--engine", "bullet", "--out", "/tmp/x")]
    public void BadTrainAndEvalArgumentsAreOneLineErrors(params string[] args)
    {
        var (code, stdout, stderr) = EpgRunner.Run(args);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public void AnUnknownUpdatePathInAConfigFileIsAOneLineError()
    {
        string cfg = Path.Combine(Path.GetTempPath(), "epgfast-cfg-" + Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(cfg, "{\"update_path\": \"fast\"}");
        try
        {
            var (code, stdout, stderr) = EpgRunner.Run("train", "--env", "point-goal", "--preset", "ci", "--config", cfg, "--out", Path.Combine(Path.GetTempPath(), "epgfast-never"));
            Assert.Equal(2, code);
            Assert.Equal("", stdout);
            Assert.Contains("update_path", stderr);
            Assert.Single(stderr.Trim().Split('\n'));
        }
        finally
        {
            File.Delete(cfg);
        }
    }

    [Fact]
    public void ACorruptLossFileIsRefusedNamingIt()
    {
        string bad = Path.Combine(Path.GetTempPath(), "epgfast-bad-" + Guid.NewGuid().ToString("N") + ".phi");
        File.WriteAllBytes(bad, [1, 2, 3, 4, 5]);
        try
        {
            var (code, _, stderr) = EpgRunner.Run("eval", "--loss", bad, "--env", "point-goal", "--preset", "ci", "--out", Path.GetTempPath(), "--backend", "cpu");
            Assert.NotEqual(0, code);
            Assert.Contains(Path.GetFileName(bad), stderr);
            Assert.Single(stderr.Trim().Split('\n'));
        }
        finally
        {
            File.Delete(bad);
        }
    }
}
