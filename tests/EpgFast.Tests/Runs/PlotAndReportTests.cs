using EpgFast.Runs;
using Xunit;

namespace EpgFast.Tests.Runs;

public class PlotAndReportTests
{
    /// <summary>Asserts a real PNG of the given size (signature and IHDR width/height).</summary>
    private static void AssertPng(string path, int width, int height)
    {
        byte[] b = File.ReadAllBytes(path);
        Assert.True(b.Length > 5000, $"{path} has only {b.Length} bytes");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10 }, b[..8]);
        Assert.Equal(width, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(16)));
        Assert.Equal(height, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(20)));
    }

    [Fact]
    public void FitnessPlotFromMetrics()
    {
        using var tmp = new TempDir();
        using (var log = MetricsLog.Create(tmp["metrics.csv"], ["test_fitness"]))
            for (int e = 0; e < 40; e++) log.Append(e, Math.Log(e + 1), Math.Log(e + 1) + 1, [e % 10 == 0 ? e * 0.05 : double.NaN]);
        FitnessPlot.Write(tmp["plots/fitness.png"], MetricsLog.Read(tmp["metrics.csv"]), "test_fitness");
        AssertPng(tmp["plots/fitness.png"], 900, 500);
    }

    [Fact]
    public void LearningCurvesWithBands()
    {
        using var tmp = new TempDir();
        double[] steps = Enumerable.Range(0, 50).Select(i => i * 64.0).ToArray();
        var rng = new System.Random(1);
        double[][] Learners(double rate) => Enumerable.Range(0, 8)
            .Select(_ => steps.Select(s => rate * Math.Sqrt(s) + rng.NextDouble()).ToArray()).ToArray();
        var epg = CurveSeries.FromLearners("EPG", steps, Learners(0.2));
        var ppo = CurveSeries.FromLearners("PPO", steps, Learners(0.1), SpreadBand.Quartiles);
        Assert.All(Enumerable.Range(0, 50), t => Assert.True(epg.Lower[t] <= epg.Mean[t] && epg.Mean[t] <= epg.Upper[t]));
        LearningCurvesPlot.Write(tmp["lc.png"], [epg, ppo]);
        AssertPng(tmp["lc.png"], 900, 550);

        var one = CurveSeries.FromLearners("x", [0, 1], [[1, 2], [3, double.NaN]]);
        Assert.Equal([2.0, 2.0], one.Mean);
        Assert.Equal([1.0, 2.0], one.Lower);
        Assert.Equal(2.5, CurveSeries.Quantile([1, 2, 3, 4, 5], 0.375));
    }

    [Fact]
    public void TorsoPathsWithTargets()
    {
        using var tmp = new TempDir();
        var paths = new List<TorsoPath>();
        for (int k = 0; k < 4; k++)
        {
            double angle = Math.PI / 2 + k * 0.4;
            double[] x = Enumerable.Range(0, 100).Select(t => t * 0.03 * Math.Cos(angle)).ToArray();
            double[] y = Enumerable.Range(0, 100).Select(t => t * 0.03 * Math.Sin(angle) + 0.1 * Math.Sin(t * 0.2)).ToArray();
            paths.Add(new TorsoPath(x, y, 3 * Math.Cos(angle), 3 * Math.Sin(angle), k % 2 == 0 ? "EPG" : "PPO"));
        }
        PathsPlot.Write(tmp["paths.png"], paths);
        AssertPng(tmp["paths.png"], 800, 800);
    }

    [Fact]
    public void ReportMarkdown()
    {
        using var tmp = new TempDir();
        new ReportWriter()
            .Heading("Run", 1)
            .Paragraph("Trained on right targets.")
            .Table(["method", "final return"], [["EPG | evolved", ReportWriter.MeanSpread(12.3456, 1.5)], ["PPO", ReportWriter.Number(double.NaN)]], [false, true])
            .Bullets(["a", "b"])
            .Image("fitness", "plots/fitness.png")
            .Code("epg train --preset quick", "sh")
            .Save(tmp["report.md"]);
        Assert.Equal(
            "# Run\n\nTrained on right targets.\n\n| method | final return |\n| --- | ---: |\n| EPG \\| evolved | 12.35 ± 1.5 |\n| PPO | nan |\n\n- a\n- b\n\n![fitness](plots/fitness.png)\n\n```sh\nepg train --preset quick\n```\n",
            File.ReadAllText(tmp["report.md"]));
        Assert.Throws<ArgumentException>(() => new ReportWriter().Table(["a", "b"], [["only one"]]));
    }
}
