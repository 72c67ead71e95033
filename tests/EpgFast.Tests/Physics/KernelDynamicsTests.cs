using EpgFast.Backends;
using EpgFast.MuJoCo;
using EpgFast.Physics;
using Xunit;
using Xunit.Abstractions;
using static EpgFast.Tests.Physics.PhysicsTestUtil;

namespace EpgFast.Tests.Physics;

/// <summary>Dynamics without constraints against MuJoCo 2.2.2 (Euler).</summary>
public class KernelDynamicsTests(ITestOutputHelper output)
{
    [Fact]
    public void MassMatrixAndBiasMatchMuJoCo()
    {
        using var device = new CpuDevice(1);
        using var k = new KernelPhysics(device, AntPath, 1, new EngineOptions { DisableContactAndLimits = true });
        const int n = 20;
        var (qpos, qvel) = RandomStates(k, n, seed: 3);
        var (mass, bias) = k.Inspect(qpos, qvel);
        using var model = MjModel.Load(AntPath);
        model.DisableFlags |= MjModel.DisableContact | MjModel.DisableLimit;
        using var data = model.MakeData();
        double worstM = 0, worstB = 0;
        for (int e = 0; e < n; e++)
        {
            data.SetState(Row(qpos, e, k.Nq), Row(qvel, e, k.Nv));
            data.Forward();
            var mRef = data.FullMassMatrix();
            var bRef = data.QfrcBias.ToArray();
            worstM = Math.Max(worstM, MaxRel(Row(mass, e, k.Nv * k.Nv), mRef));
            worstB = Math.Max(worstB, MaxRel(Row(bias, e, k.Nv), bRef));
        }
        output.WriteLine($"mass matrix max rel err {worstM:g3}, bias max rel err {worstB:g3}");
        Assert.True(worstM < 1e-4, $"mass matrix rel err {worstM}");
        Assert.True(worstB < 1e-4, $"bias rel err {worstB}");
    }

    [Theory]
    [InlineData(1, 1e-3)]
    [InlineData(100, 1e-2)]
    public void EulerStepsUnderRandomTorquesMatchMuJoCo(int steps, double tolerance)
    {
        const int n = 8;
        using var device = new CpuDevice(1);
        using var k = new KernelPhysics(device, AntPath, n, new EngineOptions { DisableContactAndLimits = true });
        var (qpos, qvel) = RandomStates(k, n, seed: 11);
        k.Qpos.CopyFrom(qpos);
        k.Qvel.CopyFrom(qvel);
        k.ResetFlags.CopyFrom(Enumerable.Repeat(1, n).ToArray());
        using var model = MjModel.Load(AntPath);
        model.DisableFlags |= MjModel.DisableContact | MjModel.DisableLimit;
        Assert.Equal(MjIntegrator.Euler, model.Integrator);
        var data = Enumerable.Range(0, n).Select(_ => model.MakeData()).ToArray();
        for (int e = 0; e < n; e++) data[e].SetState(Row(qpos, e, k.Nq), Row(qvel, e, k.Nv));
        var rng = new System.Random(5);
        for (int t = 0; t < steps; t++)
        {
            var ctrl = Enumerable.Range(0, n * k.Nu).Select(_ => (float)(rng.NextDouble() * 2.4 - 1.2)).ToArray();
            k.Ctrl.CopyFrom(ctrl);
            k.Step(1);
            for (int e = 0; e < n; e++)
            {
                Row(ctrl, e, k.Nu).CopyTo(data[e].Ctrl);
                data[e].Step();
            }
        }
        float[] q = k.Qpos.ToArray(), v = k.Qvel.ToArray();
        double worstQ = 0, worstV = 0;
        for (int e = 0; e < n; e++)
        {
            worstQ = Math.Max(worstQ, MaxRel(Row(q, e, k.Nq), data[e].Qpos.ToArray()));
            worstV = Math.Max(worstV, MaxRel(Row(v, e, k.Nv), data[e].Qvel.ToArray()));
        }
        foreach (var d in data) d.Dispose();
        output.WriteLine($"{steps} Euler steps: qpos max rel err {worstQ:g3}, qvel max rel err {worstV:g3}");
        Assert.True(worstQ < tolerance, $"qpos rel err {worstQ}");
        Assert.True(worstV < tolerance, $"qvel rel err {worstV}");
    }
}
