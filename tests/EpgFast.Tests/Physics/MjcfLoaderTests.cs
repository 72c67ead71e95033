using EpgFast.Backends;
using EpgFast.Models;
using EpgFast.MuJoCo;
using Xunit;
using static EpgFast.Tests.Physics.PhysicsTestUtil;

namespace EpgFast.Tests.Physics;

public class MjcfLoaderTests
{
    [Fact]
    public void AntCompilesAsMuJoCoDoes()
    {
        var m = MjcfLoader.Load(AntPath);
        Assert.Equal((15, 14, 8, 14, 9, 14), (m.Nq, m.Nv, m.Nu, m.Bodies.Count, m.Joints.Count, m.Geoms.Count));
        using var mj = MjModel.Load(AntPath);
        var mass = mj.BodyMass;
        var inertia = mj.BodyInertia;
        for (int b = 0; b < m.Bodies.Count; b++)
        {
            Assert.Equal(mass[b], m.Bodies[b].Mass, 1e-12);
            // the trace is invariant under MuJoCo's principal-axes rotation
            double trace = m.Bodies[b].Inertia[0] + m.Bodies[b].Inertia[1] + m.Bodies[b].Inertia[2];
            Assert.Equal(inertia[3 * b] + inertia[3 * b + 1] + inertia[3 * b + 2], trace, 1e-12);
        }
        Assert.Equal(mj.Qpos0, m.Qpos0);
        Assert.Equal(mj.DofArmature, m.DofJoint.Select(j => m.Joints[j].Armature).ToArray());
        Assert.Equal(mj.DofDamping, m.DofJoint.Select(j => m.Joints[j].Damping).ToArray());
        var range = mj.JointRange;
        for (int j = 0; j < m.Joints.Count; j++)
            if (m.Joints[j].Limited)
            {
                Assert.Equal(range[2 * j], m.Joints[j].Range[0], 1e-12);
                Assert.Equal(range[2 * j + 1], m.Joints[j].Range[1], 1e-12);
            }
        Assert.Equal(0.01, m.Timestep);
        // 13 body geoms collide with the floor only (conaffinity 0 between bodies)
        Assert.Equal(13, m.ContactPairs.Count);
        Assert.All(m.ContactPairs, p => Assert.Equal((0, 0.01, 0.0, 3), (p.Plane, p.Margin, p.Gap, p.Condim)));
        Assert.All(m.ContactPairs, p => Assert.Equal(new[] { 1.0, 0.5, 0.5 }, p.Friction));
        // MuJoCo's default solref and solimp (the Ant sets none)
        Assert.All(m.ContactPairs, p => Assert.Equal(new[] { 0.02, 1 }, p.Solref));
        Assert.All(m.ContactPairs, p => Assert.Equal(new[] { 0.9, 0.95, 0.001, 0.5, 2 }, p.Solimp));
        Assert.Equal((ConeType.Pyramidal, 1.0, 100, 1e-8), (m.Cone, m.Impratio, m.Iterations, m.Tolerance));
        Assert.Equal(new[] { "hip_4", "ankle_4", "hip_1", "ankle_1", "hip_2", "ankle_2", "hip_3", "ankle_3" },
            m.Actuators.Select(a => m.Joints[a.Joint].Name));
        Assert.All(m.Actuators, a => Assert.Equal((150.0, true, -1.0, 1.0), (a.Gear, a.CtrlLimited, a.CtrlRange[0], a.CtrlRange[1])));
    }

    private const string Pendulum = """
        <mujoco>
          <compiler angle="radian"/>
          <option timestep="0.005" gravity="0 0 -10"><flag contact="disable" limit="disable"/></option>
          <default>
            <joint damping="2"/>
            <default class="stiff"><joint armature="0.5"/><geom density="100"/></default>
          </default>
          <worldbody>
            <geom type="plane" size="1 1 1"/>
            <body pos="0 0 1" childclass="stiff">
              <joint name="a" type="hinge" axis="0 1 0" limited="true" range="-1 1"/>
              <geom type="capsule" fromto="0 0 0 0 0 -0.5" size="0.05"/>
              <body pos="0 0 -0.5" euler="0 1.5707963 0">
                <joint name="b" type="hinge" class="main"/>
                <geom type="sphere" size="0.1" mass="2"/>
              </body>
            </body>
          </worldbody>
        </mujoco>
        """;

    [Fact]
    public void DefaultClassesFlagsAndOrientations()
    {
        var m = MjcfLoader.LoadXml(Pendulum, "pendulum.xml");
        Assert.Equal(0.005, m.Timestep);
        Assert.Equal(new[] { 0.0, 0.0, -10.0 }, m.Gravity);
        Assert.False(m.ContactEnabled);
        Assert.False(m.LimitEnabled);
        Assert.Empty(m.ContactPairs);
        // joint a: childclass "stiff" (armature 0.5) inherits damping 2 from main; joint b: class main
        Assert.Equal((0.5, 2.0), (m.Joints[0].Armature, m.Joints[0].Damping));
        Assert.Equal((0.0, 2.0), (m.Joints[1].Armature, m.Joints[1].Damping));
        Assert.Equal(1.0, m.Joints[0].Range[1], 12);
        // capsule density 100 from the class; sphere mass given
        double r = 0.05, vol = Math.PI * r * r * 0.5 + 4.0 / 3 * Math.PI * r * r * r;
        Assert.Equal(100 * vol, m.Bodies[1].Mass, 12);
        Assert.Equal(-0.25, m.Bodies[1].Ipos[2], 12);
        Assert.Equal(2.0, m.Bodies[2].Mass, 12);
        // euler 90 deg about y (radians): the body's z axis points along world x
        var z = Rotations.Rotate(m.Bodies[2].Quat, [0, 0, 1]);
        Assert.Equal(1.0, z[0], 6);
    }

    [Theory]
    [InlineData("<tendon/>", "element <tendon> is outside the supported MJCF subset")]
    [InlineData("<option integrator=\"RK4\"/>", "<option> attribute 'integrator' is 'RK4'")]
    [InlineData("<option cone=\"cylinder\"/>", "<option> attribute 'cone' must be pyramidal or elliptic")]
    [InlineData("<option impratio=\"0\"/>", "<option> attribute 'impratio' must be positive")]
    [InlineData("<option noslip_iterations=\"3\"/>", "<option> attribute 'noslip_iterations' is outside the supported MJCF subset")]
    [InlineData("<option><flag energy=\"enable\"/></option>", "<flag> attribute 'energy' is outside")]
    [InlineData("<worldbody><body><joint type=\"slide\"/><geom size=\"1\"/></body></worldbody>", "<joint> type 'slide' is outside the supported subset")]
    [InlineData("<worldbody><body><joint/><geom type=\"box\" size=\"1 1 1\"/></body></worldbody>", "<geom> type 'box' is outside the supported subset")]
    [InlineData("<worldbody><body><joint/><geom size=\"1\" solref=\"0.02 -1\"/></body></worldbody>", "<geom> attribute 'solref' mixes the standard (positive) and direct (negative) forms")]
    [InlineData("<worldbody><body><joint/><geom size=\"1\" solimp=\"0.9 0.95\"/></body></worldbody>", "<geom> attribute 'solimp' needs 3 to 5 numbers, got 2")]
    [InlineData("<worldbody><body><joint/><geom size=\"1\" priority=\"1\"/></body></worldbody>", "<geom> attribute 'priority' is outside the supported MJCF subset")]
    [InlineData("<worldbody><body><joint range=\"0 1\"/><geom size=\"1\"/></body></worldbody>", "has 'range' but not 'limited'")]
    [InlineData("<worldbody><body><joint/><geom size=\"1\" condim=\"6\"/></body></worldbody>", "condim 6 is outside the supported subset")]
    [InlineData("<worldbody><body><joint/><geom size=\"1\"/></body><body pos=\"3 0 0\"><joint/><geom size=\"1\"/></body></worldbody>", "only plane-sphere and plane-capsule contacts are supported")]
    [InlineData("<worldbody><body><inertial mass=\"1\"/></body></worldbody>", "<body> child <inertial> is outside the supported MJCF subset")]
    [InlineData("<actuator><position joint=\"j\"/></actuator>", "<actuator> child <position> is outside")]
    public void OutsideTheSubsetIsAClearError(string body, string expected)
    {
        var e = Assert.Throws<EpgException>(() => MjcfLoader.LoadXml($"<mujoco>\n{body}\n</mujoco>", "bad.xml"));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("bad.xml:", e.Message);
    }

    [Fact]
    public void VisualOnlyItemsAreListedNotSilentlyDropped()
    {
        var m = MjcfLoader.LoadXml("""
            <mujoco><worldbody><light pos="0 0 3"/><geom type="plane" size="1 1 1" rgba="1 0 0 1"/>
            <body pos="0 0 1"><freejoint/><geom size="0.1"/></body></worldbody></mujoco>
            """, "v.xml");
        Assert.Contains("<light>", m.IgnoredVisual);
        Assert.Contains("geom@rgba", m.IgnoredVisual);
        Assert.Single(m.ContactPairs);
    }
}
