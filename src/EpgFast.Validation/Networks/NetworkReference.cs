using EpgFast.Networks;

namespace EpgFast.Validation.Networks;

/// <summary>
/// Float64 host implementations of the networks for one learner, written straight from the released code's
/// formulas (Chainer layer by layer, with explicit input rows), independent of the kernels' index arithmetic.
/// Forward passes only: gradients are checked against central finite differences of these functions.
/// </summary>
public static class NetworkReference
{
    public const double LeakySlope = 0.2;

    public static double Leaky(double z) => z > 0 ? z : LeakySlope * z;

    /// <summary>y = W x + b for W (out, in) at wOff and b at bOff of p.</summary>
    internal static double[] Linear(double[] p, int wOff, int bOff, int inputs, int outputs, ReadOnlySpan<double> x)
    {
        var y = new double[outputs];
        for (int o = 0; o < outputs; o++)
        {
            double z = p[bOff + o];
            for (int i = 0; i < inputs; i++) z += p[wOff + o * inputs + i] * x[i];
            y[o] = z;
        }
        return y;
    }

    /// <summary>The three-layer tanh MLP on one input row; p is the learner's block.</summary>
    public static double[] Mlp(MlpLayout m, double[] p, ReadOnlySpan<double> x)
    {
        var h1 = Linear(p, m.W1, m.B1, m.In, m.H1, x).Select(Math.Tanh).ToArray();
        var h2 = Linear(p, m.W2, m.B2, m.H1, m.H2, h1).Select(Math.Tanh).ToArray();
        return Linear(p, m.W3, m.B3, m.H2, m.Out, h2);
    }

    /// <summary>Mlp over rows of x (rows x stride), input columns [offset, offset + In); result (rows, Out).</summary>
    public static double[] MlpRows(MlpLayout m, double[] p, double[] x, int rows, int stride, int offset)
    {
        var y = new double[rows * m.Out];
        for (int r = 0; r < rows; r++)
            Mlp(m, p, x.AsSpan(r * stride + offset, m.In)).CopyTo(y, r * m.Out);
        return y;
    }

    /// <summary>mem = tanh(W 1 + b).</summary>
    public static double[] Memory(LearnerLayout lay, double[] p)
    {
        var c = lay.Config;
        var ones = Enumerable.Repeat(1.0, c.MemoryInputs).ToArray();
        return Linear(p, lay.MemoryW, lay.MemoryB, c.MemoryInputs, c.MemoryUnits, ones).Select(Math.Tanh).ToArray();
    }

    public static double[] LogStd(LearnerLayout lay, double[] p) => p.AsSpan(lay.LogStd, lay.Config.Act).ToArray();

    /// <summary>
    /// L_phi for one learner. traj (N, TrajDim), mean (N, Act), logstd (Act); memCtx is the memory the context path
    /// sees, memHead the one the head sees (the released code detaches the former); rows: the sampled buffer rows.
    /// With <paramref name="trace"/> the intermediates are recorded in it.
    /// </summary>
    public static double LossNet(LossLayout lay, double[] phi, double[] traj, double[] mean, double[] logStd,
        double[] memCtx, double[] memHead, int[] rows, LossNetTrace? trace = null)
    {
        var c = lay.Config;
        int N = c.BufferRows, T = lay.TrajDim, A = c.Act, Mu = c.MemoryUnits, inDim = lay.InDim;
        // Input rows for the context path: [traj | mean | logstd | mem] (N, InDim).
        var x = new double[N, inDim];
        for (int n = 0; n < N; n++)
        {
            int col = 0;
            for (int i = 0; i < T; i++) x[n, col++] = traj[n * T + i];
            for (int a = 0; a < A; a++) x[n, col++] = mean[n * A + a];
            for (int a = 0; a < A; a++) x[n, col++] = logStd[a];
            for (int m = 0; m < Mu; m++) x[n, col++] = memCtx[m];
        }
        // conv1d as Chainer computes it: out[o, t] = b[o] + sum_{c, k} W[o, c, k] in[c, t * stride + k].
        double[,] Conv(double[,] input, int len, int inCh, int outCh, int kernel, int stride, int wOff, int bOff)
        {
            int outLen = (len - kernel) / stride + 1;
            var y = new double[outLen, outCh];
            for (int t = 0; t < outLen; t++)
            for (int o = 0; o < outCh; o++)
            {
                double z = phi[bOff + o];
                for (int ch = 0; ch < inCh; ch++)
                for (int k = 0; k < kernel; k++)
                    z += phi[wOff + (o * inCh + ch) * kernel + k] * input[t * stride + k, ch];
                y[t, o] = Leaky(z);
            }
            return y;
        }
        var h0 = Conv(x, N, inDim, c.Conv0Channels, c.Conv0Kernel, c.Conv0Stride, lay.Conv0W, lay.Conv0B);
        var h1 = Conv(h0, h0.GetLength(0), c.Conv0Channels, c.Conv1Channels, c.Conv1Kernel, c.Conv1Stride, lay.Conv1W, lay.Conv1B);
        int len1 = h1.GetLength(0);
        var pool = new double[c.Conv1Channels];
        for (int ch = 0; ch < c.Conv1Channels; ch++)
        {
            for (int t = 0; t < len1; t++) pool[ch] += h1[t, ch];
            pool[ch] /= len1;
        }
        var ctx = Linear(phi, lay.CtxW, lay.CtxB, c.Conv1Channels, c.ContextUnits, pool);
        trace?.Record(h0, h1, ctx);
        // Head rows: [traj | ctx (tiled) | mean | logstd | mem].
        double loss = 0;
        foreach (int n in rows)
        {
            var row = new List<double>(lay.HeadIn);
            for (int i = 0; i < T; i++) row.Add(traj[n * T + i]);
            row.AddRange(ctx);
            for (int a = 0; a < A; a++) row.Add(mean[n * A + a]);
            row.AddRange(logStd);
            row.AddRange(memHead);
            var hid = Linear(phi, lay.HeadW0, lay.HeadB0, lay.HeadIn, c.HeadHidden, row.ToArray()).Select(Leaky).ToArray();
            double y = Linear(phi, lay.HeadW1, lay.HeadB1, c.HeadHidden, 1, hid)[0];
            trace?.RowLoss.Add(y / rows.Length);
            loss += y;
        }
        return loss / rows.Length;
    }

    /// <summary>The intermediates of one <see cref="LossNet"/> call: h0 (Len0, C0), h1 (Len1, C1), ctx (Ctx) flattened, and each sampled row's share of the loss.</summary>
    public sealed class LossNetTrace
    {
        public double[] H0 { get; private set; } = [];
        public double[] H1 { get; private set; } = [];
        public double[] Ctx { get; private set; } = [];
        public List<double> RowLoss { get; } = [];

        internal void Record(double[,] h0, double[,] h1, double[] ctx)
        {
            H0 = h0.Cast<double>().ToArray();
            H1 = h1.Cast<double>().ToArray();
            Ctx = ctx;
        }
    }

    /// <summary>GAE as the released code computes it (agents.py update); advantages normalized with the population std (+ eps).</summary>
    public static (double[] Adv, double[] VTarg) Gae(double[] rew, double[] done, double[] v, double gamma, double lambda, double eps)
    {
        int M = rew.Length;
        var delta = new double[M];
        for (int t = 0; t < M; t++)
            delta[t] = rew[t] + gamma * (1 - done[t]) * (t + 1 < M ? v[t + 1] : v[M - 1]) - v[t];
        var adv = new double[M];
        for (int t = M - 1; t >= 0; t--)
            adv[t] = delta[t] + gamma * lambda * (1 - done[t]) * (t + 1 < M ? adv[t + 1] : 0);
        var vt = adv.Select((a, t) => a + v[t]).ToArray();
        double mean = adv.Average();
        double std = Math.Sqrt(adv.Select(a => (a - mean) * (a - mean)).Average());
        return (adv.Select(a => (a - mean) / (std + eps)).ToArray(), vt);
    }

    public static double LogProb(double[] x, double[] mean, double[] logStd)
    {
        double s = -0.5 * x.Length * Math.Log(2 * Math.PI);
        for (int a = 0; a < x.Length; a++)
        {
            double z = (x[a] - mean[a]) / Math.Exp(logStd[a]);
            s -= 0.5 * z * z + logStd[a];
        }
        return s;
    }

    /// <summary>KL(p0 || p1), the released gaussian_kl.</summary>
    public static double Kl(double[] mean0, double[] logStd0, double[] mean1, double[] logStd1)
    {
        double s = 0;
        for (int a = 0; a < mean0.Length; a++)
            s += logStd1[a] - logStd0[a] + (Math.Exp(2 * logStd0[a]) + Math.Pow(mean0[a] - mean1[a], 2)) / (2 * Math.Exp(2 * logStd1[a])) - 0.5;
        return s;
    }

    public static double Entropy(double[] logStd) => logStd.Sum() + 0.5 * logStd.Length * (1 + Math.Log(2 * Math.PI));

    /// <summary>
    /// L_PPO over minibatch rows (agents.py _compute_ppo_loss): -mean(min(r A, clip(r) A)) + klc mean(KL(old || new)) + mean((v - vt)^2).
    /// Arrays are per row: mean/oldMean/actions (rows, Act), adv, vtarg, v (rows).
    /// </summary>
    public static double Ppo(double[] mean, double[] logStd, double[] oldMean, double[] oldLogStd, double[] actions,
        double[] adv, double[] vtarg, double[] v, double clip, double klCoeff)
    {
        int rows = adv.Length, A = logStd.Length;
        double surr = 0, kl = 0, ve = 0;
        for (int j = 0; j < rows; j++)
        {
            double[] Row(double[] a) => a.AsSpan(j * A, A).ToArray();
            double ratio = Math.Exp(LogProb(Row(actions), Row(mean), logStd) - LogProb(Row(actions), Row(oldMean), oldLogStd));
            surr += Math.Min(ratio * adv[j], Math.Clamp(ratio, 1 - clip, 1 + clip) * adv[j]);
            kl += Kl(Row(oldMean), oldLogStd, Row(mean), logStd);
            ve += (v[j] - vtarg[j]) * (v[j] - vtarg[j]);
        }
        return (-surr + klCoeff * kl + ve) / rows;
    }

    /// <summary>Released utils.py Adam step on one learner (t is the step count after this step).</summary>
    public static void Adam(double[] p, double[] g, double[] m, double[] v, int t, double lr, double b1, double b2, double eps)
    {
        double a = lr * Math.Sqrt(1 - Math.Pow(b2, t)) / (1 - Math.Pow(b1, t));
        for (int i = 0; i < p.Length; i++)
        {
            m[i] = b1 * m[i] + (1 - b1) * g[i];
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
            p[i] -= a * m[i] / (Math.Sqrt(v[i]) + eps);
        }
    }

    /// <summary>Central finite-difference gradient of f at x (all coordinates), step h.</summary>
    public static double[] FiniteDifference(Func<double[], double> f, double[] x, double h = 1e-6)
    {
        var g = new double[x.Length];
        var xp = (double[])x.Clone();
        for (int i = 0; i < x.Length; i++)
        {
            double x0 = xp[i];
            xp[i] = x0 + h;
            double fp = f(xp);
            xp[i] = x0 - h;
            double fm = f(xp);
            xp[i] = x0;
            g[i] = (fp - fm) / (2 * h);
        }
        return g;
    }
}
