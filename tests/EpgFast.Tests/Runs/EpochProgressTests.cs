using EpgFast.Cli.Progress;
using Xunit;

namespace EpgFast.Tests.Runs;

public class EpochProgressTests
{
    [Fact]
    public void PlainLinesWithEtaWhenNotATerminal()
    {
        var sw = new StringWriter();
        var t = TimeSpan.Zero;
        var p = new EpochProgress(totalEpochs: 100, startEpoch: 40, writer: sw, clock: () => t);
        Assert.False(p.IsTerminal);
        t = TimeSpan.FromSeconds(20);
        p.Status("ignored when plain");
        p.Epoch(epoch: 41, fitnessMean: -12.3456, fitnessMax: 3.5, stepsPerSecond: 123456, extra: "quarantined 1");
        // 2 epochs in 20 s, 58 left -> 580 s
        Assert.Equal("epoch  42/100  fitness mean -12.346  max 3.5  steps/s 123.5k  elapsed 20.0s  ETA 9m40s  quarantined 1" + Environment.NewLine, sw.ToString());
    }

    [Fact]
    public void TerminalLinesAreColoredAndStatusIsCleared()
    {
        var sw = new StringWriter();
        var p = new EpochProgress(totalEpochs: 10, writer: sw, terminal: true, clock: () => TimeSpan.FromSeconds(90));
        p.Status("learners 50%");
        p.Epoch(0, 1, 2, double.NaN);
        string s = sw.ToString();
        Assert.Contains("\u001b[2K", s);
        Assert.Contains("ETA 13m30s", s);
        Assert.Contains("██", s);
        Assert.Equal("1h02m", EpochProgress.Duration(TimeSpan.FromMinutes(62)));
        Assert.Equal("4.56M", EpochProgress.Rate(4_560_000));
        Assert.Equal("950", EpochProgress.Rate(950));
    }
}
