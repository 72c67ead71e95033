using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;
using EpgFast.Rl2;
using EpgFast.Networks;
using R = EpgFast.Validation.Networks.NetworkReference;

namespace EpgFast.Validation.Networks;

/// <summary>
/// The RL^2 GRU policy in float64, step by step from its formulas (kernels/EpgFast.Kernels/Networks/Gru.cs), and the
/// check of the device's kernels against it: forward values directly, the PPO-over-trials loss's gradient w.r.t. the
/// whole parameter vector (through every step of every trial) against central finite differences. Used by the tests
/// and `epg selfcheck` (networks.gru).
/// </summary>
public static class GruReference
{
    private static double Sigmoid(double a) => 1 / (1 + Math.Exp(-a));

    /// <summary>One trial: x (T, In) -> h (T, H), mean (T, Act), value (T), with h_{-1} = 0.</summary>
    public static (double[] H, double[] Mean, double[] Value) Forward(GruShape s, double[] p, double[] x)
    {
        int T = s.Steps, nh = s.Hidden, nIn = s.In;
        var h = new double[T * nh];
        var mean = new double[T * s.Act];
        var value = new double[T];
        var prev = new double[nh];
        for (int t = 0; t < T; t++)
        {
            var xt = x.AsSpan(t * nIn, nIn);
            var ai = R.Linear(p, s.Wi, s.Bi, nIn, 3 * nh, xt);
            var ah = R.Linear(p, s.Wh, s.Bh, nh, 3 * nh, prev);
            for (int j = 0; j < nh; j++)
            {
                double r = Sigmoid(ai[j] + ah[j]), z = Sigmoid(ai[nh + j] + ah[nh + j]);
                double n = Math.Tanh(ai[2 * nh + j] + r * ah[2 * nh + j]);
                h[t * nh + j] = (1 - z) * n + z * prev[j];
            }
            prev = h.AsSpan(t * nh, nh).ToArray();
            R.Linear(p, s.MeanW, s.MeanB, nh, s.Act, prev).CopyTo(mean, t * s.Act);
            value[t] = R.Linear(p, s.ValueW, s.ValueB, nh, 1, prev)[0];
        }
        return (h, mean, value);
    }

    /// <summary>
    /// The PPO-over-trials loss: the mean over trials of each trial's PPO loss over its T steps, its value error
    /// weighted by <paramref name="valueScale"/>. Per-trial arrays are concatenated: x (B, T, In), actions, oldMean
    /// (B, T, Act), adv, vtarg (B, T); oldLogStd (Act).
    /// </summary>
    public static double Loss(GruShape s, double[] p, double[] x, double[] actions, double[] oldMean, double[] oldLogStd,
        double[] adv, double[] vtarg, double clip, double klCoeff, double valueScale)
    {
        int T = s.Steps, A = s.Act;
        double c = Math.Sqrt(valueScale), sum = 0;
        var logStd = p.AsSpan(s.LogStd, A).ToArray();
        for (int b = 0; b < s.Trials; b++)
        {
            var (_, mean, value) = Forward(s, p, x.AsSpan(b * T * s.In, T * s.In).ToArray());
            // (c v - c vt)^2 = valueScale (v - vt)^2
            sum += R.Ppo(mean, logStd, oldMean.AsSpan(b * T * A, T * A).ToArray(), oldLogStd, actions.AsSpan(b * T * A, T * A).ToArray(),
                adv.AsSpan(b * T, T).ToArray(), vtarg.AsSpan(b * T, T).ToArray().Select(v => c * v).ToArray(), value.Select(v => c * v).ToArray(), clip, klCoeff);
        }
        return sum / s.Trials;
    }

    /// <summary>The networks.gru check on <paramref name="device"/> (dispatching to its view types).</summary>
    public static CaseResult Check(Device device, int seed) => device.WithViews(new CheckCode(device, seed));

    private sealed record CheckCode(Device Device, int Seed) : IViewCode<CaseResult>
    {
        public CaseResult Run<TF, TI>() where TF : struct, IView<float> where TI : struct, IView<int> => Check<TF, TI>(Device, Seed);
    }

    /// <summary>
    /// Random small sizes and inputs from <paramref name="seed"/>: the policy's forward over B trials at p0 (h, mean, value),
    /// GAE across the episodes of a trial, then the loss and its whole-vector gradient at p1 = p0 + noise, old policy p0.
    /// </summary>
    public static CaseResult Check<TF, TI>(Device d, int seed) where TF : struct, IView<float> where TI : struct, IView<int>
    {
        var rng = new System.Random(seed);
        float Normal(double scale) => (float)(scale * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        float[] Normals(int n, double scale) => Enumerable.Range(0, n).Select(_ => Normal(scale)).ToArray();
        var s = GruShape.Create(trials: rng.Next(2, 4), steps: rng.Next(4, 8), obs: rng.Next(2, 4), act: rng.Next(1, 3), hidden: rng.Next(3, 6));
        int B = s.Trials, T = s.Steps, A = s.Act, P = s.ParamCount;
        var ppo = new PpoShape { Gamma = 0.99f, Lambda = 0.95f, Clip = 0.2f, KlCoeff = 0.001f, AdvEps = 1e-8f };
        const float valueScale = 0.5f;
        var p0 = Normals(P, 0.6);
        for (int a = 0; a < A; a++) p0[s.LogStd + a] = (float)(rng.NextDouble() - 0.5);
        var p1 = p0.Select(v => v + Normal(0.05)).ToArray();
        var x = Normals(B * T * s.In, 1);
        var actions = Normals(B * T * A, 1);
        var outcome = new float[B * T * 2];
        for (int i = 0; i < B * T; i++)
        {
            outcome[2 * i] = Normal(1);
            outcome[2 * i + 1] = i % T == T - 1 ? 1 : 0;
        }

        using var policy = new GruPolicyBatch<TF>(d, s);
        using var trialPpo = new TrialPpo<TF, TI>(d, policy, ppo, valueScale);
        using var bp0 = d.Upload<float>(p0);
        using var bp1 = d.Upload<float>(p1);
        using var bOutcome = d.Upload<float>(outcome);
        using var bActions = d.Upload<float>(actions);
        policy.X.CopyFrom(x);
        trialPpo.Prepare(bp0, bOutcome);
        d.Synchronize();
        var h0 = policy.Hidden.ToArray();
        var mean0 = policy.Mean.ToArray();
        var value0 = policy.Value.ToArray();
        trialPpo.Gradient(bp1, bActions, forwardDone: false);
        d.Synchronize();

        var dp0 = p0.Select(v => (double)v).ToArray();
        var dx = x.Select(v => (double)v).ToArray();
        var hRef = new List<double>();
        var meanRef = new List<double>();
        var valueRef = new List<double>();
        var advRef = new List<double>();
        var vtRef = new List<double>();
        for (int b = 0; b < B; b++)
        {
            var (h, mean, value) = Forward(s, dp0, dx.AsSpan(b * T * s.In, T * s.In).ToArray());
            hRef.AddRange(h);
            meanRef.AddRange(mean);
            valueRef.AddRange(value);
            var rew = Enumerable.Range(0, T).Select(t => (double)outcome[2 * (b * T + t)]).ToArray();
            var done = Enumerable.Range(0, T).Select(t => (double)outcome[2 * (b * T + t) + 1]).ToArray();
            var (adv, vt) = R.Gae(rew, done, value, ppo.Gamma, ppo.Lambda, ppo.AdvEps);
            advRef.AddRange(adv);
            vtRef.AddRange(vt);
        }
        double[] oldLogStd = dp0.AsSpan(s.LogStd, A).ToArray();
        double[] acts = actions.Select(v => (double)v).ToArray(), adv0 = advRef.ToArray(), vt0 = vtRef.ToArray(), old = meanRef.ToArray();
        double F(double[] q) => Loss(s, q, dx, acts, old, oldLogStd, adv0, vt0, ppo.Clip, ppo.KlCoeff, valueScale);
        var dp1 = p1.Select(v => (double)v).ToArray();
        var lossRef = Enumerable.Range(0, B).Select(b => Loss(s with { Trials = 1 }, dp1, dx.AsSpan(b * T * s.In, T * s.In).ToArray(),
            acts.AsSpan(b * T * A, T * A).ToArray(), old.AsSpan(b * T * A, T * A).ToArray(), oldLogStd,
            adv0.AsSpan(b * T, T).ToArray(), vt0.AsSpan(b * T, T).ToArray(), ppo.Clip, ppo.KlCoeff, 1)).ToArray();
        var lossGot = trialPpo.Loss.ToArray().Where((_, i) => i % 4 == 0).ToArray();
        return new CaseResult("gru",
        [
            GradientChecks.Err("h", h0, hRef.ToArray()), GradientChecks.Err("mean", mean0, meanRef.ToArray()), GradientChecks.Err("value", value0, valueRef.ToArray()),
            GradientChecks.Err("adv", trialPpo.Adv.ToArray(), adv0), GradientChecks.Err("vtarg", trialPpo.VTarg.ToArray(), vt0),
            GradientChecks.Err("loss", lossGot, lossRef),
            GradientChecks.Err($"dloss/dp ({P} parameters, BPTT over {T} steps x {B} trials)", policy.Grad.ToArray(), R.FiniteDifference(F, dp1)),
        ]);
    }
}
