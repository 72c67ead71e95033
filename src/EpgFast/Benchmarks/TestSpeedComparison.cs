using System.Diagnostics;
using System.Globalization;
using EpgFast.MuJoCo;

namespace EpgFast.Benchmarks;

/// <summary>Result of <see cref="TestSpeedComparison.Run"/>: physics steps/s on one thread.</summary>
public sealed record TestSpeedResult(
    int Rounds,
    int Steps,
    double TestSpeedBest,
    double TestSpeedMedian,
    double BackendBestFrameSkip1,
    double BackendBestFrameSkip5,
    double BackendMedianFrameSkip1,
    double BackendMedianFrameSkip5,
    double MedianPairedRatioFrameSkip1,
    double MedianPairedRatioFrameSkip5)
{
    /// <summary>Best backend rate (frame skip 5, the env path) over the best testspeed rate.</summary>
    public double BestRatioFrameSkip5 => BackendBestFrameSkip5 / TestSpeedBest;

    public double BestRatioFrameSkip1 => BackendBestFrameSkip1 / TestSpeedBest;
}

/// <summary>
/// The batched runner on one thread against MuJoCo's own C benchmark, `mujoco-testspeed`
/// (libmujoco-samples), on the same model and the same control signal: testspeed's
/// ctrl_j(i) = center + 0.01 radius (2 Halton(i, j + 2) - 1), from qpos0, N physics steps.
/// Rounds are interleaved (testspeed, backend frame skip 1, backend frame skip 5, testspeed) so
/// that both see the same machine load; testspeed's rate is its own timer's (no process start).
/// </summary>
public static unsafe class TestSpeedComparison
{
    public const double CtrlNoise = 0.01;

    /// <summary>Runs <paramref name="rounds"/> interleaved rounds of <paramref name="steps"/> physics steps each.</summary>
    public static TestSpeedResult Run(string modelPath, int rounds = 10, int steps = 20_000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 5);
        using var model = MjModel.Load(modelPath);
        using var batch = new MjBatch(model, 1, 1);
        int nq = model.Nq, nv = model.Nv, nu = model.Nu;
        var range = model.ActuatorCtrlRange;
        var limited = model.ActuatorCtrlLimited;
        // ctrl: (steps, nu), testspeed's control noise
        var ctrlSeq = new float[steps * nu];
        for (int i = 0; i < steps; i++)
            for (int j = 0; j < nu; j++)
            {
                double center = 0, radius = 1;
                if (limited[j] != 0)
                {
                    center = (range[2 * j + 1] + range[2 * j]) / 2;
                    radius = (range[2 * j + 1] - range[2 * j]) / 2;
                }
                ctrlSeq[i * nu + j] = (float)(center + radius * CtrlNoise * (2 * Halton(i, j + 2) - 1));
            }
        var qpos0 = model.Qpos0.Select(x => (float)x).ToArray();
        // Flat rows of the one environment: qpos (nq), qvel (nv), ctrl (nu), reset flag.
        var qpos = new float[nq];
        var qvel = new float[nv];
        var ctrl = new float[nu];
        var flag = new int[1];

        double Backend(int frameSkip)
        {
            qpos0.CopyTo(qpos, 0);
            Array.Clear(qvel);
            flag[0] = 1;
            fixed (float* q = qpos)
            fixed (float* v = qvel)
            fixed (float* c = ctrl)
            fixed (int* r = flag)
            {
                batch.Sync(q, v, r);
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < steps; i += frameSkip)
                {
                    for (int j = 0; j < nu; j++) c[j] = ctrlSeq[i * nu + j];
                    batch.Step(frameSkip, c, q, v, r);
                }
                return steps / sw.Elapsed.TotalSeconds;
            }
        }

        double TestSpeed()
        {
            var psi = new ProcessStartInfo("mujoco-testspeed") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { Path.GetFullPath(modelPath), steps.ToString(CultureInfo.InvariantCulture), "1", CtrlNoise.ToString(CultureInfo.InvariantCulture) })
                psi.ArgumentList.Add(a);
            Process p;
            try
            {
                p = Process.Start(psi) ?? throw new MuJoCoException("mujoco-testspeed did not start");
            }
            catch (System.ComponentModel.Win32Exception)
            {
                throw new MuJoCoException("mujoco-testspeed not found: install it with `apt-get install libmujoco-samples`");
            }
            using (p)
            {
                var err = p.StandardError.ReadToEndAsync();
                string output = p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                foreach (var line in output.Split('\n'))
                    if (line.Contains("Steps per second", StringComparison.Ordinal))
                        return double.Parse(line[(line.IndexOf(':') + 1)..], CultureInfo.InvariantCulture);
                throw new MuJoCoException($"mujoco-testspeed printed no steps/s (exit {p.ExitCode}): {err.Result.Trim()}");
            }
        }

        // Warm up both (JIT, page cache), then measure.
        Backend(1);
        Backend(5);
        TestSpeed();
        var ts = new List<double>();
        var b1 = new List<double>();
        var b5 = new List<double>();
        var r1 = new List<double>();
        var r5 = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            double t0 = TestSpeed(), f1 = Backend(1), f5 = Backend(5), t1 = TestSpeed();
            double t = (t0 + t1) / 2;
            ts.Add(t0);
            ts.Add(t1);
            b1.Add(f1);
            b5.Add(f5);
            r1.Add(f1 / t);
            r5.Add(f5 / t);
        }
        return new TestSpeedResult(rounds, steps, ts.Max(), Median(ts), b1.Max(), b5.Max(), Median(b1), Median(b5), Median(r1), Median(r5));
    }

    private static double Median(List<double> values)
    {
        var s = values.OrderBy(x => x).ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }

    /// <summary>MuJoCo's mju_Halton: the radical inverse of <paramref name="index"/> in base <paramref name="b"/>.</summary>
    public static double Halton(int index, int b)
    {
        double f = 1.0 / b, h = 0;
        for (int n = index; n > 0; n /= b)
        {
            h += f * (n % b);
            f /= b;
        }
        return h;
    }
}
