using System.Runtime.CompilerServices;
using EpgFast.Kernels.Random;

namespace EpgFast.Kernels.Tasks;

/// <summary>Where goal targets are drawn (GoalAnt, point-goal).</summary>
public enum GoalRegion
{
    /// <summary>The right half-plane, x &gt; 0: meta-training tasks.</summary>
    Right = 0,
    /// <summary>The left half-plane, x &lt; 0: test tasks.</summary>
    Left = 1,
    /// <summary>Any direction.</summary>
    Full = 2,
}

/// <summary>
/// Goal targets as a pure function of (seed, task id): the angle and radius are uniform numbers 0
/// and 1 of the Philox stream (seed, Stream(TaskSample, 0, taskId)). Radius r ~ U[rMin, rMax]
/// (uniform in radius, not in area); angle theta ~ U over the region's half circle
/// (Right: [-90, 90) degrees, Left: [90, 270), Full: [0, 360)); target = r (cos theta, sin theta),
/// with x forced strictly to the region's side (|x| &gt;= 1e-6 r). Callable from host code and
/// from kernels alike, so a learner's task is reproducible everywhere.
/// </summary>
public static class GoalTargets
{
    private const float Pi = 3.14159265358979323846f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Sample(ulong seed, uint taskId, GoalRegion region, float rMin, float rMax, out float x, out float y)
    {
        ulong stream = Philox.Stream(RandomStreams.TaskSample, 0, taskId);
        UInt4 bits = Philox.Draw(seed, stream, 0);
        float uAngle = Philox.Uniform(bits.X);
        float uRadius = Philox.Uniform(bits.Y);
        float r = rMin + (rMax - rMin) * uRadius;
        float theta = region == GoalRegion.Full ? 2f * Pi * uAngle : Pi * (uAngle - 0.5f);
        float cx = r * MathF.Cos(theta);
        y = r * MathF.Sin(theta);
        if (region == GoalRegion.Full)
        {
            x = cx;
            return;
        }
        float ax = MathF.Max(MathF.Abs(cx), 1e-6f * r);
        // Right: theta in [-90, 90) degrees. Left: mirror of the right sample (theta + 180 degrees reflected in y), so x < 0.
        x = region == GoalRegion.Right ? ax : -ax;
    }
}
