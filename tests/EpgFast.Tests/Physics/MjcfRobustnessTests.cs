using EpgFast.Backends;
using EpgFast.Models;
using EpgFast.MuJoCo;
using Xunit;
using static EpgFast.Tests.Physics.PhysicsTestUtil;

namespace EpgFast.Tests.Physics;

/// <summary>The MJCF loader on inputs MuJoCo refuses or that are large: repeated names, unnamed geoms in errors, many bodies.</summary>
public class MjcfRobustnessTests
{
    private const string Floor = "<geom type=\"plane\" size=\"5 5 0.1\"/>";

    [Theory]
    [InlineData("<worldbody>" + Floor + "<body name=\"a\"><joint name=\"j\"/><geom size=\"0.1\" conaffinity=\"0\"/></body><body name=\"a\" pos=\"1 0 0\"><joint name=\"k\"/><geom size=\"0.1\" conaffinity=\"0\"/></body></worldbody>", "repeated name 'a' in body")]
    [InlineData("<worldbody>" + Floor + "<body name=\"a\"><joint name=\"j\"/><geom size=\"0.1\" conaffinity=\"0\"/></body><body name=\"b\" pos=\"1 0 0\"><joint name=\"j\"/><geom size=\"0.1\" conaffinity=\"0\"/></body></worldbody><actuator><motor joint=\"j\"/></actuator>", "repeated name 'j' in joint")]
    [InlineData("<worldbody>" + Floor + "<body name=\"a\"><joint name=\"j\"/><geom name=\"g\" size=\"0.1\" conaffinity=\"0\"/><geom name=\"g\" pos=\"0 0 1\" size=\"0.1\" conaffinity=\"0\"/></body></worldbody>", "repeated name 'g' in geom")]
    [InlineData("<worldbody>" + Floor + "<body name=\"a\"><joint name=\"j\"/><geom size=\"0.1\" conaffinity=\"0\"/></body></worldbody><actuator><motor name=\"m\" joint=\"j\"/><motor name=\"m\" joint=\"j\"/></actuator>", "repeated name 'm' in actuator")]
    [InlineData("<worldbody>" + Floor + "<body name=\"world\"><joint/><geom size=\"0.1\" conaffinity=\"0\"/></body></worldbody>", "repeated name 'world' in body")]
    public void RepeatedNamesAreRefusedAsMuJoCoRefusesThem(string body, string message)
    {
        string xml = $"<mujoco>\n{body}\n</mujoco>";
        var e = Assert.Throws<EpgException>(() => MjcfLoader.LoadXml(xml, "dup.xml"));
        Assert.Contains(message, e.Message);
        Assert.StartsWith("dup.xml:", e.Message);
        if (!MuJoCoAvailable()) return;
        string path = Path.Combine(Path.GetTempPath(), $"epgfast-dup-{Guid.NewGuid():N}.xml");
        File.WriteAllText(path, xml);
        try
        {
            Assert.ThrowsAny<Exception>(() => { using var m = MjModel.Load(path); });
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AnErrorAboutUnnamedGeomsNamesTheirLines()
    {
        string xml = "<mujoco>\n<worldbody>\n<body>\n<joint/>\n<geom size=\"1\"/>\n</body>\n<body pos=\"3 0 0\">\n<joint/>\n<geom type=\"capsule\" size=\"0.1 0.2\"/>\n</body>\n</worldbody>\n</mujoco>";
        var e = Assert.Throws<EpgException>(() => MjcfLoader.LoadXml(xml, "pair.xml"));
        Assert.Contains("unnamed sphere geom at line 5", e.Message);
        Assert.Contains("unnamed capsule geom at line 9", e.Message);
        Assert.DoesNotContain("''", e.Message);
    }

    [Fact]
    public void ContactPairsEqualTheBruteForceFilterOnRandomBits()
    {
        var rng = new System.Random(5);
        for (int trial = 0; trial < 20; trial++)
        {
            var lines = new List<string> { "<mujoco>", "<worldbody>" };
            for (int p = 0; p < 2; p++)
                lines.Add($"<geom type=\"plane\" size=\"5 5 0.1\" contype=\"{rng.Next(4)}\" conaffinity=\"{rng.Next(4)}\"/>");
            for (int b = 0; b < 12; b++)
            {
                // bit 2 only against the planes' bits 0-1: bodies never collide with each other
                int t = rng.Next(2) == 0 ? 0 : 1 << rng.Next(2), a = rng.Next(2) == 0 ? 0 : 1 << rng.Next(2);
                lines.Add($"<body pos=\"{b} 0 1\"><freejoint/><geom size=\"0.1\" contype=\"{t | 4}\" conaffinity=\"{a}\"/><geom size=\"0.1\" pos=\"0 0 0.3\" contype=\"{t}\" conaffinity=\"{a | 8}\"/></body>");
            }
            lines.AddRange(["</worldbody>", "</mujoco>"]);
            PhysicsModel m;
            try
            {
                m = MjcfLoader.LoadXml(string.Join("\n", lines), "bits.xml");
            }
            catch (EpgException e) when (e.Message.Contains("can collide"))
            {
                continue; // two planes that match each other: refused as before
            }
            var expected = new List<(int, int)>();
            for (int i = 0; i < m.Geoms.Count; i++)
                for (int j = i + 1; j < m.Geoms.Count; j++)
                {
                    var (ga, gb) = (m.Geoms[i], m.Geoms[j]);
                    if ((ga.Contype & gb.Conaffinity) == 0 && (gb.Contype & ga.Conaffinity) == 0) continue;
                    if (ga.Body == gb.Body) continue;
                    expected.Add(ga.Type == GeomType.Plane ? (i, j) : (j, i));
                }
            Assert.Equal(expected, m.ContactPairs.Select(p => (p.Plane, p.Geom)).ToList());
        }
    }

    [Fact]
    public void ManyBodiesThatCannotCollideLoadWithNoPairs()
    {
        // 40000 free bodies whose geoms cannot collide (contype 0), and a chain of 400 hinged bodies: all geom pairs
        // (8e8), geoms searched per body or body pairs with subtree walks took 55 s here, linear 3 s (README); this
        // test checks the result, its time is not asserted (speed belongs in benchmarks)
        var lines = new List<string> { "<mujoco>", "<worldbody>", Floor };
        for (int b = 0; b < 40000; b++)
            lines.Add($"<body pos=\"{b % 200} {b / 200} 1\"><freejoint/><geom size=\"0.01\" contype=\"0\" conaffinity=\"0\"/></body>");
        for (int b = 0; b < 400; b++) lines.Add("<body pos=\"0 0 0.1\"><joint/><geom size=\"0.01\" contype=\"0\" conaffinity=\"0\"/>");
        for (int b = 0; b < 400; b++) lines.Add("</body>");
        lines.AddRange(["</worldbody>", "</mujoco>"]);
        string xml = string.Join("\n", lines);
        var m = MjcfLoader.LoadXml(xml, "many.xml");
        Assert.Equal(40401, m.Bodies.Count);
        Assert.Empty(m.ContactPairs);
    }
}
