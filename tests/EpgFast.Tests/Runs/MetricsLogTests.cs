using EpgFast.Backends;
using EpgFast.Runs;
using Xunit;

namespace EpgFast.Tests.Runs;

public class MetricsLogTests
{
    private static void WriteRows(MetricsLog log, int from, int to)
    {
        for (int e = from; e < to; e++) log.Append(e, e * 0.1, e * 0.3, [e % 2 == 0 ? double.NaN : 1.0 / 3]);
    }

    [Fact]
    public void RowsAreWrittenAndReadBack()
    {
        using var tmp = new TempDir();
        using (var log = MetricsLog.Create(tmp["m.csv"], ["test_fitness"])) WriteRows(log, 0, 3);
        string[] lines = File.ReadAllLines(tmp["m.csv"]);
        Assert.Equal("epoch,fitness_mean,fitness_max,test_fitness", lines[0]);
        Assert.Equal("0,0,0,", lines[1]);
        Assert.Equal("1,0.1,0.3,0.3333333333333333", lines[2]);
        var t = MetricsLog.Read(tmp["m.csv"]);
        Assert.Equal(3, t.Rows.Count);
        Assert.True(double.IsNaN(t.Column("test_fitness")[2]));
        Assert.Equal(0.6, t.Column("fitness_max")[2]);
        File.AppendAllText(tmp["m.csv"], "3,0.3,0.9,1"); // a row still being written ("1" of "1.5")
        Assert.Equal(3, MetricsLog.Read(tmp["m.csv"]).Rows.Count);
    }

    [Fact]
    public void ResumeTruncatesToTheCheckpointEpochAndEqualsAnUnbrokenFile()
    {
        using var tmp = new TempDir();
        using (var log = MetricsLog.Create(tmp["unbroken.csv"], ["x"])) WriteRows(log, 0, 8);

        using (var log = MetricsLog.Create(tmp["resumed.csv"], ["x"])) WriteRows(log, 0, 6);
        // killed after writing rows beyond the checkpoint (epoch 4 done -> next epoch 5) and half a line
        File.AppendAllText(tmp["resumed.csv"], "6,0.6,1.");
        var warnings = new List<string>();
        using (var log = MetricsLog.Resume(tmp["resumed.csv"], ["x"], nextEpoch: 5, warnings.Add))
        {
            Assert.Equal(5, log.NextEpoch);
            Assert.Throws<InvalidOperationException>(() => log.Append(6, 0, 0, [0]));
            WriteRows(log, 5, 8);
        }
        Assert.Empty(warnings);
        Assert.Equal(File.ReadAllBytes(tmp["unbroken.csv"]), File.ReadAllBytes(tmp["resumed.csv"]));

        Assert.Contains("columns", Assert.Throws<EpgException>(() => MetricsLog.Resume(tmp["resumed.csv"], ["y"], 3)).Message);
        using (MetricsLog.Resume(tmp["resumed.csv"], ["x"], 20, warnings.Add)) { }
        Assert.Contains("missing", Assert.Single(warnings));
    }
}
