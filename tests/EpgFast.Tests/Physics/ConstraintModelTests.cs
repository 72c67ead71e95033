using EpgFast.Backends;
using EpgFast.Models;
using EpgFast.MuJoCo;
using EpgFast.Physics;
using EpgFast.Validation.Physics;
using Xunit;
using Xunit.Abstractions;
using static EpgFast.Tests.Physics.PhysicsTestUtil;

namespace EpgFast.Tests.Physics;

/// <summary>
/// The kernel simulator's constraint model against MuJoCo 2.2.2's own numbers where MuJoCo is deterministic:
/// its constants at qpos0, one forward step from states recorded from MuJoCo with contacts and limits acting,
/// and drops from qpos0 under fixed controls. On ant.xml (pyramidal and elliptic cones) and on spider.xml, a
/// second model with other sizes, masses, ranges and solver parameters.
/// </summary>
public class ConstraintModelTests(ITestOutputHelper output)
{
    public static string SpiderPath => MuJoCoModels.Find("spider.xml");

    /// <summary>The model file to test: ant, spider, or either with cone="elliptic".</summary>
    private static string ModelPath(string name) => name switch
    {
        "ant" => AntPath,
        "ant-elliptic" => TempModel(File.ReadAllText(AntPath).Replace("integrator=\"Euler\"", "integrator=\"Euler\" cone=\"elliptic\""), "ant-elliptic.xml"),
        "spider" => SpiderPath,
        "spider-elliptic" => TempModel(File.ReadAllText(SpiderPath).Replace("integrator=\"Euler\"", "integrator=\"Euler\" cone=\"elliptic\""), "spider-elliptic.xml"),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [InlineData("ant")]
    [InlineData("ant-elliptic")]
    [InlineData("spider")]
    public void DiagonalApproximationUsesMuJoCosInvweights(string name)
    {
        string path = ModelPath(name);
        var packed = KernelPhysicsModel.Build(MjcfLoader.Load(path));
        var d = packed.Dims;
        using var mj = MjModel.Load(path);
        Assert.Equal(name.EndsWith("elliptic") ? 1 : 0, mj.Cone);
        var body = mj.BodyInvweight0;
        var dof = mj.DofInvweight0;
        var m = packed.Model;
        double worst = 0;
        for (int k = 0; k < d.NSlots; k++)
        {
            var pair = m.ContactPairs.First(p => p.Geom == packed.SlotGeom[k]);
            double tran = body[2 * m.Geoms[pair.Geom].Body];
            double mu = pair.Friction[0];
            double want = d.Cone == 0 && pair.Condim == 3 ? tran * (1 + mu * mu) : tran;
            worst = Math.Max(worst, Math.Abs(packed.Floats[d.SlotDiagF + k] - want) / want);
        }
        var limited = m.Joints.Where(j => j.Limited).ToList();
        Assert.Equal(limited.Count, d.NLimits);
        for (int l = 0; l < d.NLimits; l++)
            worst = Math.Max(worst, Math.Abs(packed.Floats[d.LimitDiagF + l] - dof[limited[l].DofAdr]) / dof[limited[l].DofAdr]);
        output.WriteLine($"{name}: {d.NSlots} slots, {d.NLimits} limits, max rel err of the diagonal approximation {worst:g3}");
        Assert.True(worst < 1e-5, $"diagonal approximation rel err {worst}");
    }

    /// <summary>
    /// One forward step (MuJoCo's mj_forward) from states MuJoCo itself reached under random controls with contacts
    /// acting: qacc within 1e-3 of MuJoCo's (relative to its largest entry) and every contact's normal force within
    /// 1e-3 of the model's weight.
    /// </summary>
    [Theory]
    [InlineData("ant")]
    [InlineData("ant-elliptic")]
    [InlineData("spider")]
    [InlineData("spider-elliptic")]
    public void OneStepFromRecordedStatesMatchesMuJoCo(string name)
    {
        using var device = new CpuDevice(1);
        var r = PhysicsValidation.ConstraintStep(device, ModelPath(name));
        output.WriteLine($"{name}: {r.States} states, {r.Contacts} contacts; qacc max rel err {r.QaccRelErr:g3}, normal force max err / weight {r.ForceErrOverWeight:g3}");
        Assert.True(r.States >= 30, $"only {r.States} states");
        Assert.True(r.Contacts >= r.States, $"{r.Contacts} contacts in {r.States} states");
        Assert.True(r.QaccRelErr < 1e-3, $"qacc rel err {r.QaccRelErr}");
        Assert.True(r.ForceErrOverWeight < 1e-3, $"normal force err / weight {r.ForceErrOverWeight}");
    }

    /// <summary>
    /// Drop from qpos0 and settle for 100 env steps (frame skip 5) under zero and under constant controls:
    /// torso height within 1 cm and every hinge within 2 degrees of MuJoCo at every env step.
    /// </summary>
    [Theory]
    [InlineData("ant", 0.0)]
    [InlineData("ant", 0.3)]
    [InlineData("ant-elliptic", 0.3)]
    [InlineData("spider", 0.0)]
    [InlineData("spider", 0.3)]
    public void DropAndSettleFollowsMuJoCo(string name, double level)
    {
        using var device = new CpuDevice(1);
        var r = PhysicsValidation.Drop(device, ModelPath(name), level);
        output.WriteLine($"{name}, controls +-{level}: torso z max err {r.TorsoZErr * 1000:F4} mm, hinge max err {r.HingeErrDeg:F4} deg; final z {r.FinalZ:F4} m");
        Assert.True(r.TorsoZErr < 0.01, $"torso z err {r.TorsoZErr} m");
        Assert.True(r.HingeErrDeg < 2, $"hinge err {r.HingeErrDeg} deg");
    }
}
