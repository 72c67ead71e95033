using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;
using EpgFast.Kernels.Random;
using EpgFast.Learners;
using EpgFast.Networks;
using R = EpgFast.Validation.Networks.NetworkReference;

namespace EpgFast.Validation.Networks;

/// <summary>One compared quantity: the largest |got - want| over the vector divided by max |want|.</summary>
public sealed record CheckError(string Quantity, double MaxRelError, int Count);

/// <summary>The errors of one check case.</summary>
public sealed record CaseResult(string Name, IReadOnlyList<CheckError> Errors)
{
    public double Worst => Errors.Count == 0 ? 0 : Errors.Max(e => e.MaxRelError);

    public override string ToString() => $"{Name}: " + string.Join(", ", Errors.Select(e => $"{e.Quantity} {e.MaxRelError:g2} ({e.Count})"));
}

/// <summary>
/// The networks' kernels on a device against the float64 reference (<see cref="NetworkReference"/>): values
/// compared directly, every gradient compared as a whole vector with central finite differences of the
/// float64 forward pass. Random inputs and small random sizes from a seed. Used by the tests and `epg selfcheck`.
/// </summary>
public static class GradientChecks
{
    /// <summary>Small random sizes that keep finite differences cheap but exercise every stride and offset.</summary>
    public static NetworkConfig RandomConfig(int seed)
    {
        var rng = new System.Random(seed);
        int Pick(int lo, int hi) => rng.Next(lo, hi + 1);
        int m = Pick(4, 8);
        int k0 = Pick(2, 4), s0 = Pick(1, 3), k1 = Pick(1, 3), s1 = Pick(1, 2);
        int minRows = Math.Max(m, (k1 - 1) * s0 + k0);
        return new NetworkConfig(Pick(2, 4), Pick(1, 3))
        {
            Hidden1 = Pick(3, 6), Hidden2 = Pick(3, 6), ValueHidden1 = Pick(2, 5), ValueHidden2 = Pick(2, 5),
            MemoryUnits = Pick(0, 3), MemoryInputs = Pick(2, 4), Aux = Pick(0, 2), Extra = Pick(0, 2),
            BufferRows = minRows + Pick(0, 12), ActSteps = m, Minibatch = Pick(2, m),
            Conv0Kernel = k0, Conv0Stride = s0, Conv0Channels = Pick(2, 4), Conv1Kernel = k1, Conv1Stride = s1, Conv1Channels = Pick(2, 4),
            ContextUnits = Pick(2, 4), HeadHidden = Pick(2, 4), MemoryThroughContext = rng.Next(2) == 1,
        }.Validate();
    }

    /// <summary>Every check on <paramref name="device"/> (dispatching to its view types).</summary>
    public static IReadOnlyList<CaseResult> All(Device device, NetworkConfig c, int seed) => device.WithViews(new AllCode(device, c, seed));

    private sealed record AllCode(Device Device, NetworkConfig Config, int Seed) : IViewCode<IReadOnlyList<CaseResult>>
    {
        public IReadOnlyList<CaseResult> Run<TF, TI>() where TF : struct, IView<float> where TI : struct, IView<int> => All<TF, TI>(Device, Config, Seed);
    }

    public static IReadOnlyList<CaseResult> All<TF, TI>(Device d, NetworkConfig c, int seed)
        where TF : struct, IView<float> where TI : struct, IView<int> =>
    [
        Policy<TF>(d, c, 3, seed),
        Gaussian<TF>(d, c, 3, seed),
        LossNetwork<TF, TI>(d, c, 4, 2, seed),
        Ppo<TF, TI>(d, c, 3, seed),
        Learner<TF, TI>(d, c, 4, 2, seed),
        Adam<TF, TI>(d, 3, 37, seed),
        Normalizer<TF>(d, c, 3, seed),
    ];

    // ---- helpers ----

    private sealed class Rng(int seed)
    {
        private readonly System.Random _r = new(seed);

        public float Normal(double scale = 1)
        {
            double u1 = 1 - _r.NextDouble(), u2 = _r.NextDouble();
            return (float)(scale * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }

        public float[] Normals(int n, double scale = 1) => Enumerable.Range(0, n).Select(_ => Normal(scale)).ToArray();
        public int Int(int hi) => _r.Next(hi);
        public double Uniform() => _r.NextDouble();
    }

    private static double[] D(float[] a) => a.Select(x => (double)x).ToArray();
    private static double[] D(float[] a, int offset, int count) => a.AsSpan(offset, count).ToArray().Select(x => (double)x).ToArray();

    internal static CheckError Err(string what, float[] got, double[] want)
    {
        if (got.Length != want.Length) throw new InvalidOperationException($"{what}: {got.Length} values vs {want.Length}");
        double scale = want.Length == 0 ? 1 : want.Max(Math.Abs), worst = 0;
        if (scale < 1e-12) scale = 1e-12;
        for (int i = 0; i < got.Length; i++)
        {
            double e = Math.Abs(got[i] - want[i]) / scale;
            if (double.IsNaN(e)) e = double.PositiveInfinity;
            worst = Math.Max(worst, e);
        }
        return new CheckError(what, worst, got.Length);
    }

    private static float[] Sub(float[] a, float[] b) => a.Select((x, i) => x - b[i]).ToArray();

    /// <summary>Random parameter blocks: weights N(0, 0.5), log-std in [-0.5, 0.5], zero padding.</summary>
    private static float[] RandomParams(Rng rng, LearnerLayout lay, int learners)
    {
        var p = new float[learners * lay.Stride];
        for (int l = 0; l < learners; l++)
        {
            for (int i = 0; i < lay.Size; i++) p[l * lay.Stride + i] = rng.Normal(0.5);
            for (int a = 0; a < lay.Config.Act; a++) p[l * lay.Stride + lay.LogStd + a] = (float)(rng.Uniform() - 0.5);
        }
        return p;
    }

    /// <summary>phi rows for <paramref name="members"/> members: the released init plus small random biases.</summary>
    private static float[] RandomPhi(Rng rng, LossLayout lay, int members, int seed)
    {
        var phi = new float[members * lay.PhiSize];
        for (int m = 0; m < members; m++)
        {
            var one = lay.Initialize((ulong)(seed * 31 + m));
            foreach (var (_, off, len, fanIn) in lay.Tensors)
                if (fanIn == 0)
                    for (int i = 0; i < len; i++) one[off + i] = rng.Normal(0.3);
            one.CopyTo(phi, m * lay.PhiSize);
        }
        return phi;
    }

    private static float[] RandomTraj(Rng rng, NetworkConfig c, int learners)
    {
        int T = c.TrajDim;
        var traj = rng.Normals(learners * c.BufferRows * T);
        for (int i = 0; i < learners * c.BufferRows; i++) traj[i * T + c.Traj.DoneCol] = rng.Uniform() < 0.2 ? 1 : 0;
        return traj;
    }

    /// <summary>Writes rewards rew (L, M) and done flags done (L, M) into the raw columns of traj's M newest rows (L, N, TrajDim), where PPO reads them.</summary>
    public static void PutRewards(NetworkConfig c, int learners, float[] traj, float[] rew, float[] done)
    {
        int N = c.BufferRows, M = c.ActSteps, T = c.TrajDim;
        for (int l = 0; l < learners; l++)
            for (int t = 0; t < M; t++)
            {
                int row = (l * N + N - M + t) * T;
                traj[row + c.Traj.RewardCol] = rew[l * M + t];
                traj[row + c.Traj.DoneCol] = done[l * M + t];
            }
    }

    private static double[] Block(float[] p, int l, int stride) => D(p, l * stride, stride);

    // ---- policy ----

    /// <summary>
    /// Policy MLP forward (mean) and backward to all policy weights, input read with a stride and offset, on the
    /// device's MLP pass (<see cref="MlpBatch{TF}"/>: the lanes passes on the CPU launcher, the group kernels on ILGPU
    /// devices). 21 rows: the group backward's 16-row tiles end in a partial one, and the lanes passes' 4-row blocks too.
    /// </summary>
    public static CaseResult Policy<TF>(Device d, NetworkConfig c, int learners, int seed) where TF : struct, IView<float>
    {
        var rng = new Rng(seed);
        var lay = new LearnerLayout(c);
        int rows = 21, stride = c.Obs + 2, off = 1;
        var p = RandomParams(rng, lay, learners);
        var obs = rng.Normals(learners * rows * stride);
        var dMean = rng.Normals(learners * rows * c.Act);
        var g0 = rng.Normals(learners * lay.Stride, 0.1);
        using var bp = d.Upload<float>(p);
        using var bo = d.Upload<float>(obs);
        using var bd = d.Upload<float>(dMean);
        using var bg = d.Upload<float>(g0);
        using var pol = new PolicyBatch<TF>(d, lay, learners, rows + 1);
        pol.Forward(bp, bo, rows, stride, off);
        pol.Backward(bp, bo, stride, off, bd, bg);
        d.Synchronize();
        var mean = pol.Mean.ToArray().AsSpan(0, learners * rows * c.Act).ToArray();
        var g = Sub(bg.ToArray(), g0);
        var meanRef = new List<double>();
        var gRef = new List<double>();
        int n0 = lay.PolicyW1, n1 = lay.LogStd; // the policy's weights and biases
        for (int l = 0; l < learners; l++)
        {
            var pl = Block(p, l, lay.Stride);
            var ol = D(obs, l * rows * stride, rows * stride);
            var dl = D(dMean, l * rows * c.Act, rows * c.Act);
            meanRef.AddRange(R.MlpRows(lay.Policy, pl, ol, rows, stride, off));
            var fd = R.FiniteDifference(th =>
            {
                var q = (double[])pl.Clone();
                Array.Copy(th, 0, q, n0, n1 - n0);
                var y = R.MlpRows(lay.Policy, q, ol, rows, stride, off);
                return y.Select((v, i) => v * dl[i]).Sum();
            }, pl[n0..n1]);
            var full = new double[lay.Stride];
            fd.CopyTo(full, n0);
            gRef.AddRange(full);
        }
        return new CaseResult("policy", [Err("mean", mean, meanRef.ToArray()), Err("dparams", g, gRef.ToArray())]);
    }

    /// <summary>Sampling, log-probability, KL and entropy against host formulas.</summary>
    public static CaseResult Gaussian<TF>(Device d, NetworkConfig c, int learners, int seed) where TF : struct, IView<float>
    {
        var rng = new Rng(seed + 1);
        var lay = new LearnerLayout(c);
        int rows = 4, A = c.Act;
        var p0 = RandomParams(rng, lay, learners);
        var p1 = RandomParams(rng, lay, learners);
        var obs = rng.Normals(learners * rows * c.Obs);
        var acts = rng.Normals(learners * rows * A);
        var mean1 = rng.Normals(learners * rows * A);
        using var bp0 = d.Upload<float>(p0);
        using var bp1 = d.Upload<float>(p1);
        using var bo = d.Upload<float>(obs);
        using var ba = d.Upload<float>(acts);
        using var bm1 = d.Upload<float>(mean1);
        using var logp = d.Allocate<float>(learners * rows);
        using var kl = d.Allocate<float>(learners * rows);
        using var ent = d.Allocate<float>(learners);
        using var sampled = d.Allocate<float>(learners * rows * A);
        using var pol = new PolicyBatch<TF>(d, lay, learners, rows);
        pol.Forward(bp0, bo, rows, c.Obs);
        const ulong sampleSeed = 77;
        pol.Sample(bp0, sampled, sampleSeed, 3, 10, 5);
        pol.LogProb(bp0, ba, logp);
        pol.Entropy(bp0, ent);
        pol.Kl(pol.Mean, bp0, lay.Stride, lay.LogStd, bm1, bp1, lay.Stride, lay.LogStd, rows, kl);
        d.Synchronize();
        var mean = pol.Mean.ToArray();
        var lpRef = new List<double>();
        var klRef = new List<double>();
        var entRef = new List<double>();
        var smpRef = new List<double>();
        for (int l = 0; l < learners; l++)
        {
            var ls0 = R.LogStd(lay, Block(p0, l, lay.Stride));
            var ls1 = R.LogStd(lay, Block(p1, l, lay.Stride));
            entRef.Add(R.Entropy(ls0));
            ulong stream = Philox.Stream(RandomStreams.ActionNoise, 3, (uint)(10 + l));
            for (int r = 0; r < rows; r++)
            {
                int at = (l * rows + r) * A;
                var m0 = D(mean, at, A);
                lpRef.Add(R.LogProb(D(acts, at, A), m0, ls0));
                klRef.Add(R.Kl(m0, ls0, D(mean1, at, A), ls1));
                for (int a = 0; a < A; a++)
                    smpRef.Add(m0[a] + Math.Exp(ls0[a]) * Philox.NormalAt(sampleSeed, stream, (ulong)((5 * rows + r) * A + a)));
            }
        }
        return new CaseResult("gaussian",
        [
            Err("logp", logp.ToArray(), lpRef.ToArray()), Err("kl", kl.ToArray(), klRef.ToArray()),
            Err("entropy", ent.ToArray(), entRef.ToArray()), Err("sample", sampled.ToArray(), smpRef.ToArray()),
        ]);
    }

    // ---- loss network ----

    /// <summary>
    /// L_phi and its gradients to the policy mean at every buffer row, the log-std and the memory, with two ES
    /// members (phi rows) and accumulation into prefilled buffers.
    /// </summary>
    public static CaseResult LossNetwork<TF, TI>(Device d, NetworkConfig c, int learners, int learnersPerMember, int seed)
        where TF : struct, IView<float> where TI : struct, IView<int>
    {
        var rng = new Rng(seed + 2);
        var lay = new LearnerLayout(c);
        var ll = new LossLayout(c);
        int N = c.BufferRows, A = c.Act, Mu = c.MemoryUnits, M = c.ActSteps, mb = c.Minibatch, T = ll.TrajDim;
        int members = learners / learnersPerMember;
        var p = RandomParams(rng, lay, learners);
        var phi = RandomPhi(rng, ll, members, seed);
        var traj = RandomTraj(rng, c, learners);
        var mean = rng.Normals(learners * N * A);
        var mem = Enumerable.Range(0, learners * Mu).Select(_ => (float)(rng.Uniform() * 1.6 - 0.8)).ToArray();
        var idx = Enumerable.Range(0, learners * M).Select(_ => rng.Int(M)).ToArray(); // repeats allowed
        int k = (M / mb) - 1;
        var sel = new RowSelection { RowBase = N - M, IdxStride = M, IdxOffset = k * mb };
        const float scale = 0.7f;
        var dMean0 = rng.Normals(learners * N * A, 0.1);
        var g0 = rng.Normals(learners * lay.Stride, 0.1);
        var dMem0 = rng.Normals(Math.Max(1, learners * Mu), 0.1);
        using var bp = d.Upload<float>(p);
        using var bphi = d.Upload<float>(phi);
        using var btraj = d.Upload<float>(traj);
        using var bmean = d.Upload<float>(mean);
        using var bmem = d.Upload<float>(mem.Length == 0 ? new float[1] : mem);
        using var bidx = d.Upload<int>(idx);
        using var bdm = d.Upload<float>(dMean0);
        using var bg = d.Upload<float>(g0);
        using var bdmem = d.Upload<float>(dMem0);
        using var net = new LossNetwork<TF, TI>(d, lay, learners, learnersPerMember);
        net.ForwardBackward(bphi, btraj, bmean, bp, bmem, bidx, sel, scale, bdm, bg, bdmem);
        d.Synchronize();
        var loss = net.Loss.ToArray();
        var dm = Sub(bdm.ToArray(), dMean0);
        var gAll = Sub(bg.ToArray(), g0);
        var dmem = Sub(bdmem.ToArray(), dMem0);
        var dls = new List<float>();
        var lossRef = new List<double>();
        var dmRef = new List<double>();
        var dlsRef = new List<double>();
        var dmemRef = new List<double>();
        for (int l = 0; l < learners; l++)
        {
            var phiL = D(phi, l / learnersPerMember * ll.PhiSize, ll.PhiSize);
            var trajL = D(traj, l * N * T, N * T);
            var meanL = D(mean, l * N * A, N * A);
            var lsL = R.LogStd(lay, Block(p, l, lay.Stride));
            var memL = D(mem, l * Mu, Mu);
            var rows = Enumerable.Range(0, mb).Select(j => sel.RowBase + idx[l * M + sel.IdxOffset + j]).ToArray();
            lossRef.Add(R.LossNet(ll, phiL, trajL, meanL, lsL, memL, memL, rows));
            dmRef.AddRange(R.FiniteDifference(x => R.LossNet(ll, phiL, trajL, x, lsL, memL, memL, rows), meanL).Select(v => scale * v));
            dlsRef.AddRange(R.FiniteDifference(x => R.LossNet(ll, phiL, trajL, meanL, x, memL, memL, rows), lsL).Select(v => scale * v));
            dmemRef.AddRange(R.FiniteDifference(x => R.LossNet(ll, phiL, trajL, meanL, lsL, c.MemoryThroughContext ? x : memL, x, rows), memL).Select(v => scale * v));
            for (int a = 0; a < A; a++) dls.Add(gAll[l * lay.Stride + lay.LogStd + a]);
        }
        var errs = new List<CheckError>
        {
            Err("loss", loss, lossRef.ToArray()), Err("dmean", dm, dmRef.ToArray()), Err("dlogstd", dls.ToArray(), dlsRef.ToArray()),
        };
        if (Mu > 0) errs.Add(Err("dmem", dmem, dmemRef.ToArray()));
        return new CaseResult("loss-network", errs);
    }

    // ---- PPO ----

    /// <summary>GAE and value targets, then L_PPO and its gradients to the policy mean rows, the log-std and the value net.</summary>
    public static CaseResult Ppo<TF, TI>(Device d, NetworkConfig c, int learners, int seed)
        where TF : struct, IView<float> where TI : struct, IView<int>
    {
        var rng = new Rng(seed + 3);
        var lay = new LearnerLayout(c);
        int N = c.BufferRows, A = c.Act, M = c.ActSteps, mb = c.Minibatch, T = c.TrajDim;
        var p0 = RandomParams(rng, lay, learners);
        var p1 = p0.Select(x => x + rng.Normal(0.05)).ToArray();
        var traj = RandomTraj(rng, c, learners);
        var mean0 = rng.Normals(learners * N * A);
        var mean1 = mean0.Select(x => x + rng.Normal(0.3)).ToArray();
        var rew = rng.Normals(learners * M);
        var done = Enumerable.Range(0, learners * M).Select(_ => rng.Uniform() < 0.15 ? 1f : 0f).ToArray();
        var acts = rng.Normals(learners * M * A);
        PutRewards(c, learners, traj, rew, done);
        var idx = Enumerable.Range(0, learners * M).Select(_ => rng.Int(M)).ToArray();
        int off = M - mb;
        const float scale = 0.4f;
        var dMean0 = rng.Normals(learners * N * A, 0.1);
        var g0 = rng.Normals(learners * lay.Stride, 0.1);
        using var bp0 = d.Upload<float>(p0);
        using var bp1 = d.Upload<float>(p1);
        using var btraj = d.Upload<float>(traj);
        using var bm0 = d.Upload<float>(mean0);
        using var bm1 = d.Upload<float>(mean1);
        using var bidx = d.Upload<int>(idx);
        using var bdm = d.Upload<float>(dMean0);
        using var bg = d.Upload<float>(g0);
        using var ppo = new PpoLoss<TF, TI>(d, lay, learners);
        ppo.Actions.CopyFrom(acts);
        ppo.Prepare(bp0, btraj, bm0);
        ppo.ForwardBackward(bp1, bm1, bidx, M, off, scale, bdm, bg);
        d.Synchronize();
        var dm = Sub(bdm.ToArray(), dMean0);
        var gAll = Sub(bg.ToArray(), g0);
        var lossAll = ppo.Loss.ToArray();
        var advRef = new List<double>();
        var vtRef = new List<double>();
        var lossRef = new List<double>();
        var dmRef = new List<double>();
        var gRef = new List<double>();
        var gGot = new List<float>();
        var loss = new List<float>();
        int v0 = lay.ValueW1, v1 = lay.MemoryW; // value net weights and biases
        for (int l = 0; l < learners; l++)
        {
            var pl0 = Block(p0, l, lay.Stride);
            var pl1 = Block(p1, l, lay.Stride);
            var obsM = D(traj, (l * N + N - M) * T, M * T);
            var vpred = R.MlpRows(lay.Value, pl0, obsM, M, T, 0);
            var (adv, vt) = R.Gae(D(rew, l * M, M), D(done, l * M, M), vpred, c.Gamma, c.Lambda, c.AdvantageEps);
            advRef.AddRange(adv);
            vtRef.AddRange(vt);
            var steps = Enumerable.Range(0, mb).Select(j => idx[l * M + off + j]).ToArray();
            double[] Rows(double[] src, int rowBase, int width) => steps.SelectMany(m => src.AsSpan((rowBase + m) * width, width).ToArray()).ToArray();
            var meanL1 = D(mean1, l * N * A, N * A);
            var oldRows = Rows(D(mean0, l * N * A, N * A), N - M, A);
            var actRows = Rows(D(acts, l * M * A, M * A), 0, A);
            var advRows = steps.Select(m => adv[m]).ToArray();
            var vtRows = steps.Select(m => vt[m]).ToArray();
            var obsRows = Rows(obsM, 0, T);
            var ls0 = R.LogStd(lay, pl0);
            double F(double[] meanL, double[] q) => R.Ppo(Rows(meanL, N - M, A), R.LogStd(lay, q), oldRows, ls0, actRows, advRows, vtRows,
                R.MlpRows(lay.Value, q, obsRows, mb, T, 0), c.ClipRange, c.KlCoeff);
            lossRef.Add(F(meanL1, pl1));
            loss.Add(lossAll[l * 4]);
            dmRef.AddRange(R.FiniteDifference(x => F(x, pl1), meanL1).Select(v => scale * v));
            // log-std and value net together, as one vector
            var sel = Enumerable.Range(lay.LogStd, A).Concat(Enumerable.Range(v0, v1 - v0)).ToArray();
            var fd = R.FiniteDifference(x =>
            {
                var q = (double[])pl1.Clone();
                for (int i = 0; i < sel.Length; i++) q[sel[i]] = x[i];
                return F(meanL1, q);
            }, sel.Select(i => pl1[i]).ToArray());
            gRef.AddRange(fd.Select(v => scale * v));
            gGot.AddRange(sel.Select(i => gAll[l * lay.Stride + i]));
        }
        return new CaseResult("ppo",
        [
            Err("adv", ppo.Adv.ToArray(), advRef.ToArray()), Err("vtarg", ppo.VTarg.ToArray(), vtRef.ToArray()),
            Err("loss", loss.ToArray(), lossRef.ToArray()), Err("dmean", dm, dmRef.ToArray()),
            Err("dlogstd+dvalue", gGot.ToArray(), gRef.ToArray()),
        ]);
    }

    // ---- the whole minibatch gradient ----

    /// <summary>
    /// The learner loop's gradient, end to end: (1 - alpha) L_phi + alpha L_PPO w.r.t. the whole learner block
    /// (policy through every buffer row, log-std, value net, memory) for the first minibatch at the update's
    /// parameters and for a later minibatch at perturbed parameters (so PPO's ratio moves off 1).
    /// </summary>
    public static CaseResult Learner<TF, TI>(Device d, NetworkConfig c, int learners, int learnersPerMember, int seed)
        where TF : struct, IView<float> where TI : struct, IView<int>
    {
        var rng = new Rng(seed + 4);
        var lay = new LearnerLayout(c);
        var ll = new LossLayout(c);
        int N = c.BufferRows, A = c.Act, M = c.ActSteps, mb = c.Minibatch, T = c.TrajDim;
        var p0 = RandomParams(rng, lay, learners);
        var p1 = p0.Select(x => x + rng.Normal(0.05)).ToArray();
        var phi = RandomPhi(rng, ll, learners / learnersPerMember, seed);
        var traj = RandomTraj(rng, c, learners);
        var rew = rng.Normals(learners * M);
        var done = Enumerable.Range(0, learners * M).Select(_ => rng.Uniform() < 0.15 ? 1f : 0f).ToArray();
        var acts = rng.Normals(learners * M * A);
        PutRewards(c, learners, traj, rew, done);
        const float alpha = 0.35f;
        using var bp0 = d.Upload<float>(p0);
        using var bp1 = d.Upload<float>(p1);
        using var bphi = d.Upload<float>(phi);
        using var btraj = d.Upload<float>(traj);
        using var lg = new LearnerGradient<TF, TI>(d, lay, learners, learnersPerMember);
        lg.Ppo!.Actions.CopyFrom(acts);
        lg.BeginUpdate(bp0, btraj);
        lg.Shuffle(5, 1, 0, 0);
        lg.Minibatch(0, bp0, bphi, btraj, alpha);
        d.Synchronize();
        var gFirst = lg.G.ToArray();
        var loss0 = lg.Loss.Loss.ToArray();
        var ppo0 = lg.Ppo!.Loss.ToArray();
        lg.G.Clear();
        int kLast = M / mb - 1;
        lg.Minibatch(kLast, bp1, bphi, btraj, alpha);
        d.Synchronize();
        var gLast = lg.G.ToArray();
        var perm = lg.Perm.ToArray();
        var errs = new List<CheckError>();
        var permOk = Enumerable.Range(0, learners).All(l => perm.AsSpan(l * M, M).ToArray().OrderBy(x => x).SequenceEqual(Enumerable.Range(0, M)));
        errs.Add(new CheckError("perm-is-permutation", permOk ? 0 : 1, learners * M));
        foreach (var (k, pk, got) in new[] { (0, p0, gFirst), (kLast, p1, gLast) })
        {
            var gRef = new List<double>();
            var lossRef = new List<double>();
            var lossGot = new List<float>();
            for (int l = 0; l < learners; l++)
            {
                var pl0 = Block(p0, l, lay.Stride);
                var plk = Block(pk, l, lay.Stride);
                var trajL = D(traj, l * N * T, N * T);
                var phiL = D(phi, l / learnersPerMember * ll.PhiSize, ll.PhiSize);
                var steps = Enumerable.Range(0, mb).Select(j => perm[l * M + k * mb + j]).ToArray();
                var epgRows = steps.Select(m => lg.EpgRowBase + m).ToArray();
                var mean0 = R.MlpRows(lay.Policy, pl0, trajL, N, T, 0);
                var vpred = R.MlpRows(lay.Value, pl0, trajL.AsSpan((N - M) * T).ToArray(), M, T, 0);
                var (adv, vt) = R.Gae(D(rew, l * M, M), D(done, l * M, M), vpred, c.Gamma, c.Lambda, c.AdvantageEps);
                double[] Rows(double[] src, int rowBase, int width) => steps.SelectMany(m => src.AsSpan((rowBase + m) * width, width).ToArray()).ToArray();
                var memFixed = R.Memory(lay, plk);
                double Total(double[] q)
                {
                    var mean = R.MlpRows(lay.Policy, q, trajL, N, T, 0);
                    var ls = R.LogStd(lay, q);
                    var mem = R.Memory(lay, q);
                    double lphi = R.LossNet(ll, phiL, trajL, mean, ls, c.MemoryThroughContext ? mem : memFixed, mem, epgRows);
                    double lppo = R.Ppo(Rows(mean, N - M, A), ls, Rows(mean0, N - M, A), R.LogStd(lay, pl0), Rows(D(acts, l * M * A, M * A), 0, A),
                        steps.Select(m => adv[m]).ToArray(), steps.Select(m => vt[m]).ToArray(),
                        R.MlpRows(lay.Value, q, Rows(trajL, N - M, T), mb, T, 0), c.ClipRange, c.KlCoeff);
                    return (1 - alpha) * lphi + alpha * lppo;
                }
                var fd = R.FiniteDifference(x =>
                {
                    var q = (double[])plk.Clone();
                    Array.Copy(x, q, lay.Size);
                    return Total(q);
                }, plk[..lay.Size]);
                gRef.AddRange(fd);
                gRef.AddRange(new double[lay.Stride - lay.Size]);
                if (ReferenceEquals(pk, p0))
                {
                    var mean = R.MlpRows(lay.Policy, pl0, trajL, N, T, 0);
                    var mem = R.Memory(lay, pl0);
                    lossRef.Add(R.LossNet(ll, phiL, trajL, mean, R.LogStd(lay, pl0), mem, mem, epgRows));
                    lossGot.Add(loss0[l]);
                    lossRef.Add(Total(pl0));
                    lossGot.Add((1 - alpha) * loss0[l] + alpha * ppo0[l * 4]);
                }
            }
            if (lossGot.Count > 0) errs.Add(Err("loss", lossGot.ToArray(), lossRef.ToArray()));
            errs.Add(Err(ReferenceEquals(pk, p0) ? $"dparams(update start, k={k})" : $"dparams(perturbed, k={k})", got, gRef.ToArray()));
        }
        return new CaseResult("learner-gradient", errs);
    }

    // ---- Adam ----

    /// <summary>Three guarded Adam steps against the released formula; learner 1 gets a NaN gradient in step 2 and must skip it.</summary>
    public static CaseResult Adam<TF, TI>(Device d, int learners, int stride, int seed)
        where TF : struct, IView<float> where TI : struct, IView<int>
    {
        var rng = new Rng(seed + 5);
        var p = rng.Normals(learners * stride);
        using var bp = d.Upload<float>(p);
        using var bg = d.Allocate<float>(learners * stride);
        using var adam = new AdamBatch<TF, TI>(d, learners, stride, 0.01f);
        var pr = Enumerable.Range(0, learners).Select(l => D(p, l * stride, stride)).ToArray();
        var m = Enumerable.Range(0, learners).Select(_ => new double[stride]).ToArray();
        var v = Enumerable.Range(0, learners).Select(_ => new double[stride]).ToArray();
        var t = new int[learners];
        bool clearedOk = true;
        for (int step = 1; step <= 3; step++)
        {
            var g = rng.Normals(learners * stride);
            if (step == 2) g[1 * stride + 3] = float.NaN;
            bg.CopyFrom(g);
            adam.Step(bp, bg);
            d.Synchronize();
            clearedOk &= bg.ToArray().All(x => x == 0);
            for (int l = 0; l < learners; l++)
            {
                if (step == 2 && l == 1) continue;
                t[l]++;
                R.Adam(pr[l], D(g, l * stride, stride), m[l], v[l], t[l], 0.01, 0.9, 0.999, 1e-8);
            }
        }
        var skipped = adam.Skipped.ToArray();
        var steps = adam.T.ToArray();
        bool countsOk = skipped.SequenceEqual(Enumerable.Range(0, learners).Select(l => l == 1 ? 1 : 0)) && steps.SequenceEqual(t);
        return new CaseResult("adam",
        [
            Err("params", bp.ToArray(), pr.SelectMany(x => x).ToArray()),
            new CheckError("skip-counts", countsOk ? 0 : 1, learners),
            new CheckError("grad-cleared", clearedOk ? 0 : 1, learners * stride),
        ]);
    }

    // ---- normalizer and trajectory assembly ----

    /// <summary>
    /// Running mean/std, observation normalization, and the normalized time-ordered trajectory advanced window by
    /// window (<see cref="TrajectoryBuffer{TF}.Advance"/>), before the buffer is full and after: against normalizing
    /// every raw row of life with the final statistics in float64.
    /// </summary>
    public static CaseResult Normalizer<TF>(Device d, NetworkConfig c, int learners, int seed) where TF : struct, IView<float>
    {
        var rng = new Rng(seed + 6);
        int N = c.BufferRows, M = c.ActSteps, T = c.TrajDim;
        int windows = N / M + 2;                                   // past the point where the buffer is full
        var raw = Enumerable.Range(0, windows).Select(_ => Enumerable.Range(0, learners * M * T)
            .Select(i => 3f + 2f * (i % T) * rng.Normal()).ToArray()).ToArray();   // raw[k]: (L, M, T), window k
        var obs = rng.Normals(learners * c.Obs, 4);
        using var buffer = new TrajectoryBuffer<TF>(d, c, learners);
        var btraj = buffer.Rows;
        using var bobs = d.Upload<float>(obs);
        using var bnobs = d.Allocate<float>(learners * c.Obs);
        using var norm = new RunningNormalizer<TF>(d, c, learners);
        var errs = new List<CheckError>();
        var shape = buffer.Shape;
        var checkAt = new HashSet<int> { 1, windows };
        if (N / M >= 3) checkAt.Add(2);
        for (int k = 1; k <= windows; k++)
        {
            // What the learner does: the window's raw rows written at the last M rows, Advance at the update, Shift after it.
            var host = btraj.ToArray();
            for (int l = 0; l < learners; l++)
                Array.Copy(raw[k - 1], l * M * T, host, (l * N + N - M) * T, M * T);
            btraj.CopyFrom(host);
            buffer.Advance(norm, M, k * M);
            if (!checkAt.Contains(k))
            {
                buffer.Shift(M);
                continue;
            }
            norm.Normalize(bobs, c.Obs, 0, bnobs, c.Obs, 0, 1, c.Obs);
            d.Synchronize();
            int steps = k * M, filled = Math.Min(steps, N), pad = N - filled;
            var trajRef = new double[learners * N * T];
            var obsRef = new double[learners * c.Obs];
            double Raw(int l, int step, int col) => raw[step / M][(l * M + step % M) * T + col];
            for (int l = 0; l < learners; l++)
            {
                var mean = new double[T];
                var std = new double[T];
                double cnt = c.NormalizerEps + steps;
                for (int col = 0; col < T; col++)
                {
                    double s = 0, s2 = c.NormalizerEps;
                    for (int t = 0; t < steps; t++)
                    {
                        double x = Raw(l, t, col);
                        s += x;
                        s2 += x * x;
                    }
                    mean[col] = s / cnt;
                    std[col] = Math.Sqrt(Math.Max(s2 / cnt - mean[col] * mean[col], c.NormalizerMinVar));
                }
                for (int r = pad; r < N; r++)
                {
                    int step = steps - N + r;                      // the step of life at time row r
                    for (int col = 0; col < T; col++)
                    {
                        double x = Raw(l, step, col);
                        trajRef[(l * N + r) * T + col] = shape.Normalized(col) ? (x - mean[col]) / std[col] : x;
                    }
                }
                for (int i = 0; i < c.Obs; i++) obsRef[l * c.Obs + i] = (obs[l * c.Obs + i] - mean[i]) / std[i];
            }
            errs.Add(Err($"traj(steps={steps})", btraj.ToArray(), trajRef));
            errs.Add(Err($"obs(steps={steps})", bnobs.ToArray(), obsRef));
            buffer.Shift(M);
        }
        return new CaseResult("normalizer", errs);
    }
}
