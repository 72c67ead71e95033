using EpgFast.Backends;
using EpgFast.MuJoCo;
using EpgFast.Physics;
using Xunit;

namespace EpgFast.Tests.MuJoCo;

public class MuJoCoModelTests
{
    private static readonly string Ant = MuJoCoModels.AntPath;

    [Fact]
    public void LibraryIsVersion222()
    {
        var (version, detail) = MuJoCoLibrary.Probe();
        Assert.Equal("2.2.2", version);
        Assert.Contains("libmujoco", detail);
    }

    [Fact]
    public void AntHasTheFactsSizesMassesAndActuators()
    {
        using var m = MjModel.Load(Ant);
        Assert.Equal((15, 14, 8, 0), (m.Nq, m.Nv, m.Nu, m.Na));
        Assert.Equal((14, 9, 14), (m.Nbody, m.Njnt, m.Ngeom));
        Assert.Equal(0.01, m.Timestep);
        Assert.Equal(MjIntegrator.Euler, m.Integrator);
        Assert.Equal([0, 0, -9.81], m.Gravity);
        Assert.Equal([0, 0, 0.75, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], m.Qpos0);

        // Masses from geoms, density 5: sphere r 0.25; capsules r 0.08 of length 0.2 sqrt 2 and 0.4 sqrt 2.
        double Capsule(double len) => 5 * (Math.PI * 0.08 * 0.08 * len + 4.0 / 3 * Math.PI * Math.Pow(0.08, 3));
        double torso = 5 * 4.0 / 3 * Math.PI * Math.Pow(0.25, 3), aux = Capsule(0.2 * Math.Sqrt(2)), shin = Capsule(0.4 * Math.Sqrt(2));
        double[] expected = [0, torso, aux, aux, shin, aux, aux, shin, aux, aux, shin, aux, aux, shin];
        var mass = m.BodyMass;
        for (int b = 0; b < 14; b++) Assert.Equal(expected[b], mass[b], 9);
        Assert.Equal(0.327, torso, 3);
        Assert.Equal(0.0392, aux, 4);
        Assert.Equal(0.0676, shin, 4);
        Assert.Equal(expected.Sum(), mass.Sum(), 9);
        Assert.InRange(mass.Sum(), 0.90, 0.92);

        // Free root (no armature/damping), then hinges with armature 1 and damping 1.
        Assert.Equal([0, 3, 3, 3, 3, 3, 3, 3, 3], m.JointType);
        Assert.Equal(Enumerable.Repeat(0.0, 6).Concat(Enumerable.Repeat(1.0, 8)), m.DofArmature);
        Assert.Equal(Enumerable.Repeat(0.0, 6).Concat(Enumerable.Repeat(1.0, 8)), m.DofDamping);
        var range = m.JointRange;
        double deg = Math.PI / 180;
        Assert.Equal(-30 * deg, range[2 * m.NameToId(MjObject.Joint, "hip_1")], 9);
        Assert.Equal(30 * deg, range[2 * m.NameToId(MjObject.Joint, "ankle_1")], 9);
        Assert.Equal(-30 * deg, range[2 * m.NameToId(MjObject.Joint, "ankle_3") + 1], 9);

        // Motors: gear 150, ctrlrange [-1, 1], order hip_4, ankle_4, hip_1, ankle_1, hip_2, ankle_2, hip_3, ankle_3.
        var gear = m.ActuatorGear;
        var ctrl = m.ActuatorCtrlRange;
        for (int u = 0; u < 8; u++)
        {
            Assert.Equal(150, gear[6 * u]);
            Assert.Equal((-1.0, 1.0), (ctrl[2 * u], ctrl[2 * u + 1]));
        }
        Assert.All(m.ActuatorCtrlLimited, b => Assert.Equal(1, b));
        Assert.Equal(1, m.NameToId(MjObject.Body, "torso"));

        // Geoms: floor plane, torso sphere 0.25, capsules 0.08; only the floor has conaffinity (checked by contacts below).
        Assert.Equal([0, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3], m.GeomType);
        Assert.Equal(0.25, m.GeomSize[3]);
    }

    [Fact]
    public void MalformedXmlIsAClearErrorNamingTheFile()
    {
        string dir = Directory.CreateTempSubdirectory("epg-mj").FullName;
        try
        {
            string bad = Path.Combine(dir, "broken-ant.xml");
            File.WriteAllText(bad, "<mujoco><worldbody><body name=\"b\"><geom type=\"sphere\" size=\"0.1\"/></worldbody></mujoco>");
            var e = Assert.Throws<MuJoCoException>(() => MjModel.Load(bad));
            Assert.Contains("broken-ant.xml", e.Message);
            Assert.DoesNotContain("\n", e.Message);

            string unknown = Path.Combine(dir, "unknown-attr.xml");
            File.WriteAllText(unknown, "<mujoco><worldbody><geom type=\"sphere\" size=\"0.1\" bogus=\"1\"/></worldbody></mujoco>");
            e = Assert.Throws<MuJoCoException>(() => MjModel.Load(unknown));
            Assert.Contains("unknown-attr.xml", e.Message);
            Assert.Contains("bogus", e.Message);

            e = Assert.Throws<MuJoCoException>(() => MjModel.Load(Path.Combine(dir, "missing.xml")));
            Assert.Contains("missing.xml", e.Message);

            // The engine turns it into a one-line user error.
            using var cpu = new CpuDevice(1);
            var ee = Assert.Throws<EpgException>(() => new MuJoCoPhysics(cpu, bad, 2));
            Assert.Contains("broken-ant.xml", ee.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void MassMatrixAndBiasAtRestMatchTheRigidBodyFacts()
    {
        using var m = MjModel.Load(Ant);
        using var d = m.MakeData();
        d.Forward();
        var mm = m.BodyMass.Sum();
        var full = d.FullMassMatrix();
        int nv = m.Nv;
        for (int i = 0; i < nv; i++)
            for (int j = 0; j < nv; j++)
                Assert.Equal(full[i * nv + j], full[j * nv + i], 12);
        // The free joint's translational block is the total mass times the identity.
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                Assert.Equal(i == j ? mm : 0, full[i * nv + j], 9);
        // At rest the bias force is gravity only: the free joint's z carries the whole weight.
        var bias = d.QfrcBias.ToArray();
        Assert.Equal(mm * 9.81, bias[2], 9);
        Assert.Equal(0, bias[0], 9);
        Assert.Equal(0, bias[1], 9);
    }

    [Fact]
    public void DroppedAntSettlesAtASteadyTorsoHeight()
    {
        // Zero controls from qpos0 (torso at 0.75 m, every ankle 30 degrees outside its range): the
        // ant drops onto its legs within 0.3 s, then its soft ankle limits slowly push the ankles
        // into range under the body's weight (about 30 s with MuJoCo 2.2.2), and it comes to rest
        // with the ankles at the limit and the torso at ~0.37 m.
        using var cpu = new CpuDevice(1);
        using var physics = new MuJoCoPhysics(cpu, Ant, 1);
        var z = new List<float>();
        for (int s = 0; s < 1000; s++) // 50 s at frame skip 5
        {
            physics.Step(5);
            z.Add(physics.Qpos.ToArray()[2]);
        }
        Assert.True(z.Take(10).Min() < 0.65f, "the ant did not fall");
        var last = z.Skip(900).ToArray(); // the last 5 s
        Assert.True(last.Max() - last.Min() < 1e-4, $"torso z range over the last 5 s: {last.Min()} .. {last.Max()}");
        Assert.InRange(last[^1], 0.30f, 0.45f);
        var q = physics.Qpos.ToArray();
        for (int j = 0; j < 4; j++) Assert.Equal(Math.PI / 6, Math.Abs(q[8 + 2 * j]), 2); // ankles at the 30 degree limit
        var v = physics.Qvel.ToArray();
        Assert.True(v.Max(Math.Abs) < 1e-3, $"max |qvel| at rest {v.Max(Math.Abs)}");
        // The floor carries the weight: contact normal forces sum to m g.
        var data = physics.Batch[0];
        data.Forward();
        double normal = 0;
        for (int c = 0; c < data.Ncon; c++) normal += data.Contact(c).NormalForce;
        Assert.Equal(physics.Model.BodyMass.Sum() * 9.81, normal, 0.01 * 9.81);
    }

    [Fact]
    public void SameInputsGiveIdenticalTrajectoriesOnAnyThreadCount()
    {
        float[] Run(int threads)
        {
            using var cpu = new CpuDevice(threads);
            using var physics = new MuJoCoPhysics(cpu, Ant, 5);
            var trace = new List<float>();
            var rng = new System.Random(3);
            var ctrl = new float[5 * 8];
            for (int s = 0; s < 40; s++)
            {
                for (int i = 0; i < ctrl.Length; i++) ctrl[i] = (float)(rng.NextDouble() * 2.4 - 1.2);
                physics.Ctrl.CopyFrom(ctrl);
                if (s == 20)
                {
                    // Reset env 3 to a given state mid-run.
                    var q = physics.Qpos.ToArray();
                    var v = physics.Qvel.ToArray();
                    Array.Copy(physics.Qpos0, 0, q, 3 * 15, 15);
                    q[3 * 15 + 2] = 0.6f;
                    Array.Clear(v, 3 * 14, 14);
                    physics.Qpos.CopyFrom(q);
                    physics.Qvel.CopyFrom(v);
                    var flags = new int[5];
                    flags[3] = 1;
                    physics.ResetFlags.CopyFrom(flags);
                }
                physics.Step(5);
                trace.AddRange(physics.Qpos.ToArray());
                trace.AddRange(physics.Qvel.ToArray());
            }
            Assert.All(physics.ResetFlags.ToArray(), f => Assert.Equal(0, f));
            return trace.ToArray();
        }
        var a = Run(1);
        var b = Run(2);
        var c = Run(2);
        Assert.Equal(a, b);
        Assert.Equal(b, c);
        Assert.All(a, x => Assert.True(float.IsFinite(x)));
    }

    [Fact]
    public void FlaggedRowsAreLoadedExactlyAndOthersKeepTheirState()
    {
        using var cpu = new CpuDevice(2);
        using var physics = new MuJoCoPhysics(cpu, Ant, 3);
        physics.Step(5);
        var before = physics.Qpos.ToArray();
        var q = (float[])before.Clone();
        var v = physics.Qvel.ToArray();
        for (int i = 0; i < 15; i++) q[15 + i] = physics.Qpos0[i] + 0.01f * i;
        q[15 + 3] = 1f; q[15 + 4] = 0f; q[15 + 5] = 0f; q[15 + 6] = 0f;
        for (int i = 0; i < 14; i++) v[14 + i] = 0.05f * (i - 7);
        // Garbage in the rows of unflagged envs must be ignored (MuJoCo keeps its float64 state).
        for (int i = 0; i < 15; i++) q[i] = 123f;
        physics.Qpos.CopyFrom(q);
        physics.Qvel.CopyFrom(v);
        physics.ResetFlags.CopyFrom([0, 1, 0]);
        physics.Sync();
        var after = physics.Qpos.ToArray();
        var vafter = physics.Qvel.ToArray();
        Assert.Equal(q.AsSpan(15, 15).ToArray(), after.AsSpan(15, 15).ToArray());
        Assert.Equal(v.AsSpan(14, 14).ToArray(), vafter.AsSpan(14, 14).ToArray());
        Assert.Equal(before.AsSpan(0, 15).ToArray(), after.AsSpan(0, 15).ToArray());
        Assert.Equal(0.0, physics.Batch[1].Time);
        Assert.Equal([0, 0, 0], physics.ResetFlags.ToArray());
    }

    [Fact]
    public void Rk4IsAnOptionAndChangesTheTrajectory()
    {
        using var cpu = new CpuDevice(1);
        using var euler = new MuJoCoPhysics(cpu, Ant, 1);
        using var rk4 = new MuJoCoPhysics(cpu, Ant, 1, new EngineOptions { Integrator = Integrator.Rk4 });
        Assert.Equal(Integrator.Euler, euler.Integrator);
        Assert.Equal(Integrator.Rk4, rk4.Integrator);
        euler.Step(20);
        rk4.Step(20);
        Assert.NotEqual(euler.Qpos.ToArray(), rk4.Qpos.ToArray());
    }

    [Fact]
    public void EngineNamesParseAndMuJoCoNeedsTheCpuLauncher()
    {
        Assert.Equal(EngineKind.MuJoCo, PhysicsFactory.ParseEngine("MuJoCo"));
        Assert.Equal(EngineKind.Kernel, PhysicsFactory.ParseEngine("kernel"));
        Assert.Throws<EpgException>(() => PhysicsFactory.ParseEngine("bullet"));
        using var il = IlgpuDevice.CreateCpuAccelerator();
        var e = Assert.Throws<EpgException>(() => PhysicsFactory.Create(EngineKind.MuJoCo, il, Ant, 1));
        Assert.Contains("--backend cpu", e.Message);
    }
}
