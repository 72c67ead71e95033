using System.Text.Json.Nodes;
using EpgFast.Tests.Cli;
using EpgFast.Validation.Physics;
using Xunit;

namespace EpgFast.Tests.Physics;

/// <summary>`epg physics --engine kernel` and `epg physics --compare`.</summary>
[Collection("cli")]
public class KernelCliTests
{
    [Fact]
    public void CompareJsonHasEveryFieldAndPassesOnTheAnt()
    {
        var (code, stdout, stderr) = EpgRunner.Run("physics", "--compare", "--backend", "cpu", "--json");
        Assert.True(code == 0, stderr + stdout);
        var j = JsonNode.Parse(stdout)!.AsObject();
        foreach (var f in new[] { "mass_matrix_max_rel_err", "free_motion_max_rel_err", "rest_force_ratio", "rest_kinetic_ratio",
                     "rest_max_penetration", "trot_displacement_kernel", "trot_displacement_mujoco", "pass" })
            Assert.True(j.ContainsKey(f), f);
        Assert.True((bool)j["pass"]!);
        Assert.True((double)j["mass_matrix_max_rel_err"]! < 1e-4);
        Assert.True((double)j["trot_displacement_kernel"]! > 0);
    }

    [Fact]
    public void CompareWorksOnAnotherModelAndNamesBadFiles()
    {
        // a capsule pendulum with a hinge, no contacts: every check but the contact force
        string pendulum = PhysicsValidation.TempModel("""
            <mujoco><option timestep="0.01"/>
              <worldbody><body pos="0 0 1"><joint type="hinge" axis="0 1 0" damping="0.5"/>
                <geom type="capsule" fromto="0 0 0 0.3 0 0" size="0.05"/></body></worldbody>
              <actuator><motor joint="" gear="2"/></actuator>
            </mujoco>
            """.Replace("<joint type", "<joint name=\"j\" type").Replace("joint=\"\"", "joint=\"j\""), "pendulum");
        var (code, stdout, stderr) = EpgRunner.Run("physics", "--compare", "--model", pendulum, "--backend", "cpu", "--json");
        Assert.True(code == 0, stderr + stdout);
        var j = JsonNode.Parse(stdout)!.AsObject();
        Assert.Null(j["rest_force_ratio"]);
        Assert.True((double)j["free_motion_max_rel_err"]! < 1e-2);

        string bad = PhysicsValidation.TempModel("<mujoco><worldbody><body><joint type=\"ball\"/><geom size=\"1\"/></body></worldbody></mujoco>", "ball");
        (code, stdout, stderr) = EpgRunner.Run("physics", "--compare", "--model", bad, "--backend", "cpu");
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Contains(Path.GetFileName(bad), stderr);
        Assert.Contains("type 'ball'", stderr);
    }

    [Fact]
    public void KernelEngineReportsRatesWithBackend()
    {
        var (code, stdout, stderr) = EpgRunner.Run("physics", "--engine", "kernel", "--backend", "cpu", "--envs", "8", "--steps", "3", "--json");
        Assert.True(code == 0, stderr);
        var j = JsonNode.Parse(stdout)!.AsObject();
        Assert.Equal("kernel", (string)j["engine"]!);
        Assert.Equal("cpu", (string)j["backend"]!);
        Assert.Equal("euler", (string)j["integrator"]!);
        Assert.True((double)j["physics_steps_per_s"]! > 0);
    }

    [Fact]
    public void KernelEngineRefusesRk4()
    {
        var (code, stdout, stderr) = EpgRunner.Run("physics", "--engine", "kernel", "--backend", "cpu", "--integrator", "rk4");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("Euler only", stderr);
    }
}
