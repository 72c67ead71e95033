using EpgFast.Backends;
using EpgFast.MuJoCo;
using EpgFast.Models;
using EpgFast.Physics;
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
    /// Check 1: one forward step (MuJoCo's mj_forward) from states MuJoCo itself reached under random controls,
    /// kept where constraints act: qacc within 1e-3 of MuJoCo's (relative to its largest entry) and every contact's
    /// normal force within 1e-3 of the model's weight.
    /// </summary>
    [Theory]
    [InlineData("ant")]
    [InlineData("ant-elliptic")]
    [InlineData("spider")]
    [InlineData("spider-elliptic")]
    public void OneStepFromRecordedStatesMatchesMuJoCo(string name)
    {
        string path = ModelPath(name);
        var (qpos, qvel, ctrl) = RecordStates(path, envs: 6, envSteps: 60, every: 9, seed: 17);
        using var device = new CpuDevice(1);
        using var k = new KernelPhysics(device, path, 1);
        int n = qpos.Length / k.Nq;
        var got = k.Inspect(qpos, qvel, ctrl);
        using var model = MjModel.Load(path);
        using var data = model.MakeData();
        double weight = model.BodyMass.Sum() * 9.81;
        double worstAcc = 0, worstForce = 0;
        int contacts = 0;
        for (int e = 0; e < n; e++)
        {
            data.SetState(Row(qpos, e, k.Nq), Row(qvel, e, k.Nv));
            for (int u = 0; u < k.Nu; u++) data.Ctrl[u] = ctrl[e * k.Nu + u];
            data.Forward();
            var want = data.Qacc.ToArray();
            double scale = Math.Max(1e-6, want.Max(Math.Abs));
            var acc = Row(got.Qacc, e, k.Nv);
            worstAcc = Math.Max(worstAcc, want.Zip(acc, (a, b) => Math.Abs(a - b)).Max() / scale);
            // contacts of each geom, in MuJoCo's order (a capsule's + end, then its - end), against the kernel's slots
            var byGeom = Enumerable.Range(0, data.Ncon).Select(data.Contact).GroupBy(c => c.Geom2);
            foreach (var g in byGeom)
            {
                var slots = Enumerable.Range(0, k.Packed.SlotGeom.Length).Where(s => k.Packed.SlotGeom[s] == g.Key).ToArray();
                var forces = slots.Select(s => (double)got.SlotForce[e * got.SlotStride + s]).ToArray();
                var mine = g.Select(c => c.NormalForce).ToArray();
                contacts += mine.Length;
                if (mine.Length == slots.Length)
                    for (int i = 0; i < mine.Length; i++) worstForce = Math.Max(worstForce, Math.Abs(mine[i] - forces[i]) / weight);
                else
                    worstForce = Math.Max(worstForce, Math.Abs(mine.Sum() - forces.Sum()) / weight); // one end in contact: the other slot is 0
            }
            var none = Enumerable.Range(0, k.Packed.SlotGeom.Length).Where(s => byGeom.All(g => g.Key != k.Packed.SlotGeom[s]));
            foreach (int s in none) worstForce = Math.Max(worstForce, Math.Abs(got.SlotForce[e * got.SlotStride + s]) / weight);
        }
        output.WriteLine($"{name}: {n} states, {contacts} contacts; qacc max rel err {worstAcc:g3}, normal force max err / weight {worstForce:g3}");
        Assert.True(contacts > n, $"only {contacts} contacts in {n} states");
        Assert.True(worstAcc < 1e-3, $"qacc rel err {worstAcc}");
        Assert.True(worstForce < 1e-3, $"normal force err / weight {worstForce}");
    }

    /// <summary>
    /// Check 2: drop from qpos0 and settle for 100 env steps (frame skip 5) under zero and under constant controls:
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
        string path = ModelPath(name);
        using var device = new CpuDevice(1);
        using var k = new KernelPhysics(device, path, 1);
        using var model = MjModel.Load(path);
        using var data = model.MakeData();
        var ctrl = Enumerable.Range(0, k.Nu).Select(u => (float)(u % 2 == 0 ? level : -level)).ToArray();
        k.Ctrl.CopyFrom(ctrl);
        for (int u = 0; u < k.Nu; u++) data.Ctrl[u] = ctrl[u];
        double worstZ = 0, worstHinge = 0;
        for (int t = 0; t < 100; t++)
        {
            k.Step(5);
            for (int f = 0; f < 5; f++) data.Step();
            var q = k.Qpos.ToArray();
            var want = data.Qpos.ToArray();
            worstZ = Math.Max(worstZ, Math.Abs(q[2] - want[2]));
            for (int i = 7; i < k.Nq; i++) worstHinge = Math.Max(worstHinge, Math.Abs(q[i] - want[i]) * 180 / Math.PI);
        }
        output.WriteLine($"{name}, controls +-{level}: torso z max err {worstZ * 1000:F4} mm, hinge max err {worstHinge:F4} deg; final z {data.Qpos[2]:F4} m");
        Assert.True(worstZ < 0.01, $"torso z err {worstZ} m");
        Assert.True(worstHinge < 2, $"hinge err {worstHinge} deg");
    }

    /// <summary>
    /// States MuJoCo reaches from perturbed qpos0 poses under random controls (a new draw per env step of 5 physics
    /// steps), every <paramref name="every"/>-th physics step at which constraints act, rounded to float32 (the
    /// kernel simulator's precision; MuJoCo then starts from exactly the same numbers).
    /// </summary>
    private static (float[] Qpos, float[] Qvel, float[] Ctrl) RecordStates(string path, int envs, int envSteps, int every, int seed)
    {
        using var model = MjModel.Load(path);
        var rng = new System.Random(seed);
        var qpos = new List<float>();
        var qvel = new List<float>();
        var ctrl = new List<float>();
        int step = 0;
        for (int e = 0; e < envs; e++)
        {
            using var data = model.MakeData();
            var q0 = model.Qpos0;
            for (int i = 0; i < q0.Length; i++) data.Qpos[i] = q0[i] + (i >= 7 ? rng.NextDouble() * 0.2 - 0.1 : 0);
            for (int t = 0; t < envSteps; t++)
            {
                for (int u = 0; u < model.Nu; u++) data.Ctrl[u] = rng.NextDouble() * 2 - 1;
                for (int f = 0; f < 5; f++)
                {
                    data.Step();
                    data.Forward(); // the contacts of the state reached (a step reports those of the state it left)
                    if (data.Ncon == 0 || ++step % every != 0) continue;
                    qpos.AddRange(data.Qpos.ToArray().Select(x => (float)x));
                    qvel.AddRange(data.Qvel.ToArray().Select(x => (float)x));
                    ctrl.AddRange(data.Ctrl.ToArray().Select(x => (float)x));
                }
            }
        }
        return (qpos.ToArray(), qvel.ToArray(), ctrl.ToArray());
    }
}
