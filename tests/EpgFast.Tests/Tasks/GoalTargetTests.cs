using EpgFast.Backends;
using EpgFast.Kernels.Tasks;
using EpgFast.Tasks;
using Xunit;

namespace EpgFast.Tests.Tasks;

public class GoalTargetTests
{
    private static readonly int[] Ids = Enumerable.Range(0, 2000).ToArray();

    [Theory]
    [InlineData(GoalRegion.Right, 1f, 3f)]
    [InlineData(GoalRegion.Left, 1f, 3f)]
    [InlineData(GoalRegion.Right, 0.5f, 0.5f)]
    [InlineData(GoalRegion.Full, 2f, 4f)]
    public void TargetsFallInTheRequestedRegionAndRadius(GoalRegion region, float rMin, float rMax)
    {
        var xy = GoalTasks.Targets(11, Ids, region, rMin, rMax);
        int upper = 0, lower = 0, right = 0;
        for (int i = 0; i < Ids.Length; i++)
        {
            float x = xy[2 * i], y = xy[2 * i + 1];
            if (region == GoalRegion.Right) Assert.True(x > 0, $"task {i}: x = {x}");
            if (region == GoalRegion.Left) Assert.True(x < 0, $"task {i}: x = {x}");
            double r = Math.Sqrt(x * x + y * y);
            Assert.InRange(r, rMin - 1e-5, rMax + 1e-5);
            if (y > 0) upper++; else lower++;
            if (x > 0) right++;
        }
        // The whole half circle is used, not a corner of it.
        Assert.InRange(upper, 800, 1200);
        Assert.InRange(lower, 800, 1200);
        if (region == GoalRegion.Full) Assert.InRange(right, 800, 1200);
    }

    [Fact]
    public void ATasksTargetDependsOnlyOnSeedAndTaskId()
    {
        var a = GoalTasks.Targets(5, [3, 7, 3], GoalRegion.Right, 1, 3);
        Assert.Equal(a[0], a[4]);
        Assert.Equal(a[1], a[5]);
        Assert.NotEqual(a[0], a[2]);
        var b = GoalTasks.Targets(6, [3], GoalRegion.Right, 1, 3);
        Assert.NotEqual(a[0], b[0]);

        using var cpu = new CpuDevice(1);
        using var env = new PointGoalEnvBatch(cpu, 3);
        env.SampleTargets(5, [3, 7, 3]);
        Assert.Equal(GoalTasks.Targets(5, [3, 7, 3], GoalRegion.Right, 0.5f, 1.5f), env.Targets.ToArray());
        env.SampleTargets(5, [3, 7, 3], GoalRegion.Left);
        Assert.All(Enumerable.Range(0, 3), e => Assert.True(env.Targets.ToArray()[2 * e] < 0));
        Assert.Throws<ArgumentException>(() => env.SetTargets([1f, 2f]));
    }
}
