using System.Globalization;
using EpgFast.Backends;
using EpgFast.Kernels.Physics;
using EpgFast.MuJoCo;
using EpgFast.Physics;

namespace EpgFast.Tests.Physics;

/// <summary>Simple bodies on a plane (check 2 of issue 7), run in both engines.</summary>
internal static class ContactModels
{
    public const double Mu = 0.5;

    /// <summary>A sphere (r 0.1) or a capsule (r 0.05, half-length 0.2, axis along the slope) on a plane tilted by <paramref name="tiltDeg"/> about y; mu 0.5, margin 0.01, timestep 0.01.</summary>
    public static string Xml(string shape, double tiltDeg, double height)
    {
        string F(double x) => x.ToString("R", CultureInfo.InvariantCulture);
        double t = tiltDeg * Math.PI / 180;
        // centre at `height` above the plane along its normal
        double px = Math.Sin(t) * height, pz = Math.Cos(t) * height;
        string geom = shape == "sphere"
            ? """<geom type="sphere" size="0.1" density="1000"/>"""
            : """<geom type="capsule" fromto="-0.2 0 0 0.2 0 0" size="0.05" density="1000"/>""";
        return $"""
            <mujoco model="{shape}">
              <option timestep="0.01"/>
              <default><geom friction="{F(Mu)}" margin="0.01"/></default>
              <worldbody>
                <geom name="floor" type="plane" size="20 20 1" euler="0 {F(tiltDeg)} 0"/>
                <body name="b" pos="{F(px)} 0 {F(pz)}" euler="0 {F(tiltDeg)} 0">
                  <freejoint/>
                  {geom}
                </body>
              </worldbody>
            </mujoco>
            """;
    }

    /// <summary>Per env step (frame skip 5): qpos row, summed normal force of the last physics step.</summary>
    public static List<(double[] Qpos, double Force)> RunKernel(string path, int envSteps, double[]? qvel0 = null)
    {
        using var device = new CpuDevice(1);
        using var k = new KernelPhysics(device, path, 1) { Diagnose = true };
        if (qvel0 is not null)
        {
            k.Qvel.CopyFrom(qvel0.Select(x => (float)x).ToArray());
            k.ResetFlags.CopyFrom([1]);
        }
        var result = new List<(double[], double)>();
        for (int s = 0; s < envSteps; s++)
        {
            k.Step(5);
            var d = k.Diagnostics.ToArray();
            result.Add((k.Qpos.ToArray().Select(x => (double)x).ToArray(), d[SimDims.DiagNormalForce]));
        }
        return result;
    }

    public static List<(double[] Qpos, double Force)> RunMuJoCo(string path, int envSteps, double[]? qvel0 = null)
    {
        using var m = MjModel.Load(path);
        using var data = m.MakeData();
        if (qvel0 is not null) qvel0.CopyTo(data.Qvel);
        var result = new List<(double[], double)>();
        for (int s = 0; s < envSteps; s++)
        {
            for (int f = 0; f < 5; f++) data.Step();
            data.Forward();
            double force = 0;
            for (int c = 0; c < data.Ncon; c++) force += data.Contact(c).NormalForce;
            result.Add((data.Qpos.ToArray(), force));
        }
        return result;
    }
}
