using EpgFast.Backends;
using EpgFast.MuJoCo;
using EpgFast.Physics;

namespace EpgFast.Tests.Physics;

/// <summary>Shared helpers of the kernel simulator tests: random states, MuJoCo references, error measures.</summary>
internal static class PhysicsTestUtil
{
    public static string AntPath => MuJoCoModels.AntPath;

    /// <summary>
    /// Perturbed start poses: every Ant's hinge angles (qpos past the free joint) uniform in [-0.5, 0.5) from
    /// <paramref name="rng"/>, and every env flagged for reset, so contacts and limits act within a short run.
    /// </summary>
    public static void PerturbPoses(KernelPhysics k, System.Random rng)
    {
        var q = k.Qpos.ToArray();
        for (int e = 0; e < k.Envs; e++)
            for (int i = 7; i < k.Nq; i++) q[e * k.Nq + i] = (float)(rng.NextDouble() - 0.5);
        k.Qpos.CopyFrom(q);
        k.ResetFlags.CopyFrom(Enumerable.Repeat(1, k.Envs).ToArray());
    }

    /// <summary>Writes <paramref name="xml"/> to a temporary .xml file and returns its path.</summary>
    public static string TempModel(string xml, string name)
    {
        string dir = Path.Combine(Path.GetTempPath(), "epgfast-physics-tests");
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, $"{name}-{Environment.ProcessId}.xml");
        File.WriteAllText(path, xml);
        return path;
    }

    /// <summary>Random states of a model with one free joint first, then hinges: qpos (n, nq), qvel (n, nv), float-rounded.</summary>
    public static (float[] Qpos, float[] Qvel) RandomStates(KernelPhysics k, int n, int seed, double velocityScale = 1.0)
    {
        var rng = new System.Random(seed);
        double N() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var qpos = new float[n * k.Nq];
        var qvel = new float[n * k.Nv];
        for (int e = 0; e < n; e++)
        {
            foreach (var j in k.Model.Joints)
            {
                int a = e * k.Nq + j.QposAdr;
                if (j.Type == Models.JointType.Free)
                {
                    for (int c = 0; c < 3; c++) qpos[a + c] = (float)(N() * 0.5);
                    double w = N(), x = N(), y = N(), z = N(), nn = Math.Sqrt(w * w + x * x + y * y + z * z);
                    qpos[a + 3] = (float)(w / nn);
                    qpos[a + 4] = (float)(x / nn);
                    qpos[a + 5] = (float)(y / nn);
                    qpos[a + 6] = (float)(z / nn);
                }
                else
                {
                    qpos[a] = (float)(rng.NextDouble() * 2 - 1);
                }
            }
            for (int i = 0; i < k.Nv; i++) qvel[e * k.Nv + i] = (float)(N() * velocityScale);
        }
        return (qpos, qvel);
    }

    public static double[] Row(float[] a, int row, int width) => a.Skip(row * width).Take(width).Select(x => (double)x).ToArray();

    /// <summary>max |got - want| / max |want| over the whole vector.</summary>
    public static double MaxRel(IReadOnlyList<double> got, IReadOnlyList<double> want)
    {
        double scale = want.Max(Math.Abs) + 1e-300, worst = 0;
        for (int i = 0; i < got.Count; i++) worst = Math.Max(worst, Math.Abs(got[i] - want[i]) / scale);
        return worst;
    }

    public static bool MuJoCoAvailable()
    {
        try
        {
            using var m = MjModel.Load(AntPath);
            return true;
        }
        catch (Exception)
        {
            return false;
        }
    }
}
