using EpgFast.Backends;
using EpgFast.Models;
using EpgFast.Validation.Physics;
using Xunit;
using Xunit.Abstractions;
using static EpgFast.Validation.Physics.PhysicsValidation;

namespace EpgFast.Tests.Physics;

/// <summary>Contact laws on a sphere and a capsule, against MuJoCo and the analytic answers.</summary>
public class ContactLawTests(ITestOutputHelper output)
{
    private const double G = 9.81;

    private static readonly CpuDevice Cpu = new(1);

    [Theory]
    [InlineData("sphere", 0.1)]
    [InlineData("capsule", 0.05)]
    public void AtRestNormalForceIsTheWeightAndHeightMatchesMuJoCo(string shape, double radius)
    {
        string path = TempModel(ContactModelXml(shape, 0, radius + 0.05), shape);
        double weight = MjcfLoader.Load(path).TotalMass * G;
        var k = RunKernel(Cpu, path, 40);
        var mj = RunMuJoCo(path, 40);
        double ratio = k[^1].Force / weight, mjRatio = mj[^1].Force / weight;
        double height = k[^1].Qpos[2] - radius, mjHeight = mj[^1].Qpos[2] - radius;
        output.WriteLine($"{shape}: normal force / weight kernel {ratio:F5}, MuJoCo {mjRatio:F5}; rest gap kernel {height * 1000:F3} mm, MuJoCo {mjHeight * 1000:F3} mm");
        Assert.InRange(ratio, 0.98, 1.02);
        Assert.InRange(Math.Abs(height - mjHeight), 0, 1e-3);
    }

    [Fact]
    public void CapsuleSlidesTheCoulombDistance()
    {
        string path = TempModel(ContactModelXml("capsule", 0, 0.06), "capsule-slide");
        double[] v0 = [2, 0, 0, 0, 0, 0];
        double coulomb = 2.0 * 2.0 / (2 * Mu * G);
        var k = RunKernel(Cpu, path, 30, v0);
        var mj = RunMuJoCo(path, 30, v0);
        double dk = k[^1].Qpos[0], dm = mj[^1].Qpos[0];
        output.WriteLine($"slide distance kernel {dk:F4} m, MuJoCo {dm:F4} m, Coulomb {coulomb:F4} m (kernel {dk / coulomb - 1:P2}, MuJoCo {dm / coulomb - 1:P2})");
        Assert.InRange(dk / coulomb, 0.95, 1.05);
        // the same soft contact as MuJoCo's: its slide within 2%
        Assert.InRange(dk / dm, 0.98, 1.02);
        // at rest at the end, and still on the floor
        Assert.InRange(Math.Abs(k[^1].Qpos[0] - k[^2].Qpos[0]), 0, 1e-4);
        Assert.InRange(k[^1].Qpos[2], 0.05, 0.0605);
    }

    [Theory]
    [InlineData(20, false)]
    [InlineData(35, true)]
    public void TiltedPlaneSticksBelowTheFrictionAngleAndSlidesAbove(double tiltDeg, bool slides)
    {
        string path = TempModel(ContactModelXml("capsule", tiltDeg, 0.06), $"capsule-tilt{tiltDeg}");
        var start = MjcfLoader.Load(path).Qpos0;
        var k = RunKernel(Cpu, path, 40);
        var mj = RunMuJoCo(path, 40);
        double Drift(double[] q) => Math.Sqrt(Enumerable.Range(0, 3).Sum(i => (q[i] - start[i]) * (q[i] - start[i])));
        double dk = Drift(k[^1].Qpos), dm = Drift(mj[^1].Qpos);
        double t = tiltDeg * Math.PI / 180;
        double analytic = slides ? 0.5 * G * (Math.Sin(t) - Mu * Math.Cos(t)) * 2.0 * 2.0 : 0;
        output.WriteLine($"tilt {tiltDeg} deg: drift in 2 s kernel {dk * 1000:F2} mm, MuJoCo {dm * 1000:F2} mm, Coulomb {analytic * 1000:F1} mm");
        if (slides)
            Assert.InRange(dk / analytic, 0.9, 1.1);
        else
            Assert.InRange(dk, 0, 0.02);
    }
}
