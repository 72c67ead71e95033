using EpgFast.Evolution;
using Xunit;

namespace EpgFast.Tests.Evolution;

public class SchedulesTests
{
    [Fact]
    public void LearningRateDecaysToHalfThenHolds()
    {
        var s = new EsConfig { Epochs = 2000 }.LearningRateSchedule;
        Assert.Equal(1e-2, s.At(0), 15);
        Assert.Equal(1e-2 + 0.5 * (1e-3 - 1e-2), s.At(500), 15);
        Assert.Equal(1e-3 + 9e-3 / 1000, s.At(999), 15);
        Assert.Equal(1e-3, s.At(1000), 15);
        Assert.Equal(1e-3, s.At(1999), 15);
    }

    [Fact]
    public void AlphaDefaultReachesZeroAtOneEighth()
    {
        var a = AlphaSchedule.Default(80);
        Assert.Equal(1.0, a.At(0));
        Assert.Equal(0.5, a.At(5), 15);
        Assert.Equal(0.1, a.At(9), 15);
        Assert.Equal(0.0, a.At(10));
        Assert.Equal(0.0, a.At(79));
    }

    [Fact]
    public void AlphaHalfHeldReachesHalfAtOneSixteenth()
    {
        var a = AlphaSchedule.HalfHeld(160);
        Assert.Equal(1.0, a.At(0));
        Assert.Equal(0.75, a.At(5), 15);
        Assert.Equal(0.5, a.At(10));
        Assert.Equal(0.5, a.At(159));
        Assert.Equal(0.0, AlphaSchedule.Off(10).At(0));
    }

    [Fact]
    public void ShortRunsFollowReleasedCodeTruncation()
    {
        // int(4 / 8) = 0: the schedule is at its end value from epoch 0 (as the released code).
        Assert.Equal(0.0, AlphaSchedule.Default(4).At(0));
        Assert.Equal(1.0, AlphaSchedule.Default(8).At(0));
        Assert.Equal(0.0, AlphaSchedule.Default(8).At(1));
    }
}
