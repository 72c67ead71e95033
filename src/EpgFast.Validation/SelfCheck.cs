using EpgFast.Backends;
using EpgFast.Validation.Networks;
using EpgFast.Validation.Physics;
using EpgFast.Validation.Tasks;

namespace EpgFast.Validation;

/// <summary>The outcome of one self-check.</summary>
public sealed record CheckResult(string Name, bool Passed, string Detail, double Seconds);

/// <summary>
/// One correctness check the engine runs on a device (`epg selfcheck`). Checks are plain
/// classes listed in <see cref="SelfChecks.All"/>; each compares the device's results with a
/// reference computed on the host (known answers, float64 references, physical laws).
/// </summary>
public interface ISelfCheck
{
    string Name { get; }

    /// <summary>Runs the check; returns (passed, detail). Throwing counts as a failure.</summary>
    (bool Passed, string Detail) Run(Device device);
}

/// <summary>The registry of self-checks and the runner.</summary>
public static class SelfChecks
{
    /// <summary>Every check, in the order they run.</summary>
    public static IReadOnlyList<ISelfCheck> All { get; } =
    [
        new PhiloxKnownAnswerCheck(),
        new RandomDeviceCheck(),
        new PointGoalCheck(),
        new AntTaskKernelCheck(),
        new NetworkGradientCheck("policy"),
        new NetworkGradientCheck("gaussian"),
        new NetworkGradientCheck("loss-network"),
        new NetworkGradientCheck("ppo"),
        new NetworkGradientCheck("learner-gradient"),
        new NetworkGradientCheck("adam"),
        new NetworkGradientCheck("normalizer"),
        new NetworkGradientCheck("gru"),
        new PhysicsFreeMotionCheck(),
        new PhysicsContactLawCheck(),
        new PhysicsRestCheck(),
        new PhysicsRandomActionsCheck(),
        new PhysicsConstraintCheck(),
    ];

    public static IEnumerable<CheckResult> RunAll(Device device, string? filter = null)
    {
        foreach (var check in All)
        {
            if (filter is not null && !check.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)) continue;
            var sw = System.Diagnostics.Stopwatch.StartNew();
            bool ok;
            string detail;
            try
            {
                (ok, detail) = check.Run(device);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                ok = false;
                detail = $"{e.GetType().Name}: {e.Message}";
            }
            yield return new CheckResult(check.Name, ok, detail, sw.Elapsed.TotalSeconds);
        }
    }
}
