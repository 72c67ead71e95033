using System.Diagnostics;
using System.Reflection;
using EpgFast.Backends;
using EpgFast.Physics;
using EpgFast.Validation.Physics;
using Xunit;
using Xunit.Abstractions;

namespace EpgFast.Tests.Physics;

/// <summary>The Ant on the kernel simulator: settling at rest, robustness under random actions.</summary>
public class AntContactTests(ITestOutputHelper output)
{
    [Fact]
    public void AntAtRestSettles()
    {
        using var device = new CpuDevice(1);
        var r = PhysicsValidation.Rest(device, PhysicsTestUtil.AntPath);
        output.WriteLine($"rest: KE/peak {r.KineticRatio:g3} (peak {r.PeakKinetic:g3} J), normal force/weight {r.ForceRatio:F5}, max penetration {r.MaxPenetration * 1000:F3} mm, torso z {r.FinalHeight:F4} m");
        Assert.True(r.KineticRatio < 1e-3, $"KE ratio {r.KineticRatio}");
        Assert.InRange(r.ForceRatio, 0.95, 1.05);
        Assert.InRange(r.MaxPenetration, 0, 0.01);
    }

    /// <summary>
    /// Random actions in [-1, 1] (a new draw per env step) across a batch: no NaN, bounded energy,
    /// nothing deep in the floor. 1e6 env steps when the kernels are JIT-optimised (Release, as
    /// build.ps1 test runs); 1e4 in Debug builds, where the kernels run about 40x slower.
    /// </summary>
    [Fact]
    public void RandomActionsStayFiniteAndBounded()
    {
        bool optimized = typeof(KernelPhysics).Assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled != true;
        int steps = optimized ? 500 : 5;
        using var device = new CpuDevice();
        var r = PhysicsValidation.RandomActions(device, PhysicsTestUtil.AntPath, envs: 2000, steps: steps);
        output.WriteLine($"{r.EnvSteps:N0} env steps: finite {r.Finite}, max KE {r.MaxKinetic:F1} J, max penetration {r.MaxPenetration * 1000:F1} mm, max torso z {r.MaxHeight:F2} m");
        Assert.True(r.Finite);
        Assert.InRange(r.MaxKinetic, 0, 1000);
        // MuJoCo's soft contacts let a fast leg sink: MuJoCo 2.2.2 itself reached 106 mm under 200 x 500 random env steps
        Assert.InRange(r.MaxPenetration, 0, 0.15);
        Assert.InRange(r.MaxHeight, 0, 10);
    }
}
