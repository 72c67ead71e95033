using EpgFast.Backends;
using EpgFast.Kernels.Physics;
using EpgFast.Physics;
using Xunit;
using Xunit.Abstractions;

namespace EpgFast.Tests.Physics;

/// <summary>Checks 3 and 4 of issue 7 on the Ant: settling at rest, robustness under random actions.</summary>
public class AntContactTests(ITestOutputHelper output)
{
    [Fact]
    public void AntAtRestSettles()
    {
        using var device = new CpuDevice(1);
        using var k = new KernelPhysics(device, PhysicsTestUtil.AntPath, 1) { Diagnose = true };
        double weight = k.Model.TotalMass * 9.81;
        double peak = 0, kinetic = 0, force = 0, maxPen = 0;
        for (int s = 0; s < 80; s++)
        {
            k.Step(5);
            var d = k.Diagnostics.ToArray();
            kinetic = d[SimDims.DiagKinetic];
            peak = Math.Max(peak, kinetic);
            force = d[SimDims.DiagNormalForce];
            maxPen = Math.Max(maxPen, d[SimDims.DiagPenetration]);
            if (s % 10 == 9) output.WriteLine($"t {(s + 1) * 0.05:F2} s: KE {kinetic:g3}, normal force/weight {force / weight:F4}, contacts {d[SimDims.DiagContacts]}, rows {d[SimDims.DiagRows]}, sweeps {d[SimDims.DiagSweeps]}, torso z {k.Qpos.ToArray()[2]:F4}");
        }
        output.WriteLine($"rest: KE/peak {kinetic / peak:g3}, normal force/weight {force / weight:F4}, max penetration {maxPen * 1000:F2} mm");
        Assert.True(kinetic < 1e-3 * peak, $"KE ratio {kinetic / peak}");
        Assert.InRange(force / weight, 0.95, 1.05);
        Assert.InRange(maxPen, 0, 0.01);
    }

    /// <summary>Random actions in [-1, 1] (a new draw per env step) across a batch: no NaN, bounded energy, nothing through the floor.</summary>
    [Fact]
    public void RandomActionsStayFiniteAndBounded()
    {
        const int envs = 512, steps = 400;
        using var device = new CpuDevice();
        using var k = new KernelPhysics(device, PhysicsTestUtil.AntPath, envs) { Diagnose = true };
        var rng = new System.Random(7);
        var ctrl = new float[envs * k.Nu];
        double maxKinetic = 0, maxPen = 0, maxZ = 0, maxSpeed = 0;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        for (int s = 0; s < steps; s++)
        {
            for (int i = 0; i < ctrl.Length; i++) ctrl[i] = (float)(rng.NextDouble() * 2 - 1);
            k.Ctrl.CopyFrom(ctrl);
            k.Step(5);
            var d = k.Diagnostics.ToArray();
            var q = k.Qpos.ToArray();
            var v = k.Qvel.ToArray();
            Assert.All(q, x => Assert.True(float.IsFinite(x)));
            Assert.All(v, x => Assert.True(float.IsFinite(x)));
            for (int e = 0; e < envs; e++)
            {
                maxKinetic = Math.Max(maxKinetic, d[e * SimDims.DiagSize + SimDims.DiagKinetic]);
                maxPen = Math.Max(maxPen, d[e * SimDims.DiagSize + SimDims.DiagPenetration]);
                maxZ = Math.Max(maxZ, q[e * k.Nq + 2]);
            }
            maxSpeed = Math.Max(maxSpeed, v.Max(Math.Abs));
        }
        output.WriteLine($"{envs * steps} env steps in {sw.Elapsed.TotalSeconds:F2} s: max KE {maxKinetic:F2} J, max penetration {maxPen * 1000:F2} mm, max torso z {maxZ:F2} m, max |qvel| {maxSpeed:F1}");
        Assert.InRange(maxKinetic, 0, 1000);
        Assert.InRange(maxPen, 0, 0.05);
        Assert.InRange(maxZ, 0, 10);
    }
}
