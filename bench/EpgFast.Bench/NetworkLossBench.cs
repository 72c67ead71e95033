using BenchmarkDotNet.Attributes;
using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;
using EpgFast.Networks;

namespace EpgFast.Bench;

/// <summary>
/// The EPG loss network's forward + backward for one minibatch (context path over an N = 512 buffer, head on 32
/// sampled rows, gradients to the policy mean at all rows, log-std and memory), released sizes, obs 29, act 8:
/// the CPU launcher's kernel sequence against the same algorithm hand-written per learner (Parallel.For, spans).
/// </summary>
[Config(typeof(NetworkBenchConfig))]
public class NetworkLossBench : IFlopCounted
{
    [Params(64, 1024, 4096)]
    public int Learners;

    public const int Obs = 29, Act = 8;

    private LearnerLayout? _lay;
    private LossLayout? _loss;
    private CpuDevice _cpu = null!;
    private LossNetwork<CpuView<float>, CpuView<int>> _net = null!;
    private DeviceBuffer<float> _phi = null!, _traj = null!, _mean = null!, _p = null!, _mem = null!, _dMean = null!, _g = null!, _dMem = null!;
    private DeviceBuffer<int> _idx = null!;
    private float[] _aPhi = [], _aTraj = [], _aMean = [], _aP = [], _aMem = [], _aDMean = [], _aG = [], _aDMem = [], _loss0 = [];
    private int[] _aIdx = [];
    private float[] _h0 = [], _h1 = [], _dz0 = [];

    private LearnerLayout Layout => _lay ??= new LearnerLayout(new NetworkConfig(Obs, Act));
    private LossLayout Loss => _loss ??= new LossLayout(Layout.Config);

    public long FlopsPerCall(string method) => Loss.FlopsPerLearner * Learners;

    [GlobalSetup]
    public void Setup()
    {
        var c = Layout.Config;
        int L = Learners, N = c.BufferRows, M = c.ActSteps;
        var rng = new Random(3);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble() * 2 - 1).ToArray();
        _cpu = new CpuDevice();
        _net = new LossNetwork<CpuView<float>, CpuView<int>>(_cpu, Layout, L, 8);
        _aPhi = Enumerable.Range(0, L / 8).SelectMany(m => Loss.Initialize((ulong)m)).ToArray();
        _aTraj = R(L * N * c.TrajDim);
        _aMean = R(L * N * Act);
        _aP = R(L * Layout.Stride);
        _aMem = R(L * c.MemoryUnits);
        _aIdx = Enumerable.Range(0, L).SelectMany(_ => Enumerable.Range(0, M).OrderBy(_ => rng.Next())).ToArray();
        _aDMean = new float[L * N * Act];
        _aG = new float[L * Layout.Stride];
        _aDMem = new float[L * c.MemoryUnits];
        _loss0 = new float[L];
        var s = _net.Shape;
        _h0 = new float[L * s.Len0 * s.C0];
        _h1 = new float[L * s.Len1 * s.C1];
        _dz0 = new float[L * s.Len0 * s.C0];
        (_phi, _traj, _mean, _p, _mem) = (_cpu.Upload<float>(_aPhi), _cpu.Upload<float>(_aTraj), _cpu.Upload<float>(_aMean), _cpu.Upload<float>(_aP), _cpu.Upload<float>(_aMem));
        (_dMean, _g, _dMem) = (_cpu.Allocate<float>(_aDMean.Length), _cpu.Allocate<float>(_aG.Length), _cpu.Allocate<float>(_aDMem.Length));
        _idx = _cpu.Upload<int>(_aIdx);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _net.Dispose();
        foreach (var b in new[] { _phi, _traj, _mean, _p, _mem, _dMean, _g, _dMem }) b.Dispose();
        _idx.Dispose();
        _cpu.Dispose();
    }

    private RowSelection Selection => new() { RowBase = Layout.Config.BufferRows - Layout.Config.ActSteps, IdxStride = Layout.Config.ActSteps, IdxOffset = 0 };

    [Benchmark]
    public void CpuLauncher() => _net.ForwardBackward(_phi, _traj, _mean, _p, _mem, _idx, Selection, 0.5f, _dMean, _g, _dMem);

    /// <summary>The same algorithm written per learner over float[] (no kernels): conv, conv, pool, dense, head rows, backward.</summary>
    [Benchmark(Baseline = true)]
    public void HandWritten()
    {
        var s = _net.Shape;
        var sel = Selection;
        float[] phi = _aPhi, traj = _aTraj, mean = _aMean, p = _aP, mem = _aMem, dMean = _aDMean, g = _aG, dMem = _aDMem, loss = _loss0, h0s = _h0, h1s = _h1, dz0s = _dz0;
        int[] idx = _aIdx;
        const float scale = 0.5f, slope = EpgFast.Kernels.Networks.Act.LeakySlope;
        Parallel.For(0, s.Learners, l =>
        {
            int inDim = s.InDim, T = s.TrajDim, A = s.Act, Mu = s.Mem;
            var W = phi.AsSpan(s.PhiBase(l), s.PhiStride);
            var tr = traj.AsSpan(l * s.Rows * T, s.Rows * T);
            var mn = mean.AsSpan(l * s.Rows * A, s.Rows * A);
            var ls = p.AsSpan(l * s.ParamStride + s.LogStdOffset, A);
            var me = mem.AsSpan(l * Mu, Mu);
            var h0 = h0s.AsSpan(l * s.Len0 * s.C0, s.Len0 * s.C0);
            var h1 = h1s.AsSpan(l * s.Len1 * s.C1, s.Len1 * s.C1);
            var dz0 = dz0s.AsSpan(l * s.Len0 * s.C0, s.Len0 * s.C0);
            // context forward
            for (int t = 0; t < s.Len0; t++)
                for (int o = 0; o < s.C0; o++)
                {
                    var w = W.Slice(s.Conv0W + o * inDim * s.K0, inDim * s.K0);
                    float z = W[s.Conv0B + o];
                    for (int k = 0; k < s.K0; k++)
                    {
                        int n = t * s.S0 + k;
                        var xt = tr.Slice(n * T, T);
                        for (int ch = 0; ch < T; ch++) z += w[ch * s.K0 + k] * xt[ch];
                        for (int a = 0; a < A; a++) z += w[(T + a) * s.K0 + k] * mn[n * A + a] + w[(T + A + a) * s.K0 + k] * ls[a];
                        for (int m = 0; m < Mu; m++) z += w[(T + 2 * A + m) * s.K0 + k] * me[m];
                    }
                    h0[t * s.C0 + o] = z > 0 ? z : slope * z;
                }
            for (int t = 0; t < s.Len1; t++)
                for (int o = 0; o < s.C1; o++)
                {
                    float z = W[s.Conv1B + o];
                    for (int ch = 0; ch < s.C0; ch++)
                        for (int k = 0; k < s.K1; k++) z += W[s.Conv1W + (o * s.C0 + ch) * s.K1 + k] * h0[(t * s.S1 + k) * s.C0 + ch];
                    h1[t * s.C1 + o] = z > 0 ? z : slope * z;
                }
            Span<float> pool = stackalloc float[s.C1], ctx = stackalloc float[s.Ctx], dctx = stackalloc float[s.Ctx], dpool = stackalloc float[s.C1];
            Span<float> row = stackalloc float[s.HeadIn], hid = stackalloc float[s.Hidden], drow = stackalloc float[s.HeadIn];
            pool.Clear();
            for (int t = 0; t < s.Len1; t++)
                for (int ch = 0; ch < s.C1; ch++) pool[ch] += h1[t * s.C1 + ch] / s.Len1;
            for (int o = 0; o < s.Ctx; o++)
            {
                float z = W[s.CtxB + o];
                for (int ch = 0; ch < s.C1; ch++) z += W[s.CtxW + o * s.C1 + ch] * pool[ch];
                ctx[o] = z;
            }
            // head rows, forward and backward
            dctx.Clear();
            float lossSum = 0;
            float inv = 1f / s.Minibatch;
            for (int j = 0; j < s.Minibatch; j++)
            {
                int n = sel.RowBase + idx[l * sel.IdxStride + sel.IdxOffset + j];
                tr.Slice(n * T, T).CopyTo(row);
                ctx.CopyTo(row.Slice(T));
                mn.Slice(n * A, A).CopyTo(row.Slice(T + s.Ctx));
                ls.CopyTo(row.Slice(T + s.Ctx + A));
                me.CopyTo(row.Slice(T + s.Ctx + 2 * A));
                float y = W[s.HeadB1];
                drow.Clear();
                for (int h = 0; h < s.Hidden; h++)
                {
                    var w = W.Slice(s.HeadW0 + h * s.HeadIn, s.HeadIn);
                    float z = W[s.HeadB0 + h];
                    for (int i = 0; i < row.Length; i++) z += w[i] * row[i];
                    hid[h] = z > 0 ? z : slope * z;
                    y += W[s.HeadW1 + h] * hid[h];
                    float dz = W[s.HeadW1 + h] * (z > 0 ? 1 : slope) * inv;
                    for (int i = T; i < row.Length; i++) drow[i] += w[i] * dz;
                }
                lossSum += y * inv;
                for (int c = 0; c < s.Ctx; c++) dctx[c] += drow[T + c];
                for (int a = 0; a < A; a++)
                {
                    dMean[(l * s.Rows + n) * A + a] += scale * drow[T + s.Ctx + a];
                    g[l * s.ParamStride + s.LogStdOffset + a] += scale * drow[T + s.Ctx + A + a];
                }
                for (int m = 0; m < Mu; m++) dMem[l * Mu + m] += scale * drow[T + s.Ctx + 2 * A + m];
            }
            loss[l] = lossSum;
            // context backward
            for (int ch = 0; ch < s.C1; ch++)
            {
                float v = 0;
                for (int o = 0; o < s.Ctx; o++) v += W[s.CtxW + o * s.C1 + ch] * dctx[o];
                dpool[ch] = v / s.Len1;
            }
            dz0.Clear();
            for (int t = 0; t < s.Len1; t++)
                for (int o = 0; o < s.C1; o++)
                {
                    float dz1 = dpool[o] * (h1[t * s.C1 + o] > 0 ? 1 : slope);
                    for (int ch = 0; ch < s.C0; ch++)
                        for (int k = 0; k < s.K1; k++) dz0[(t * s.S1 + k) * s.C0 + ch] += W[s.Conv1W + (o * s.C0 + ch) * s.K1 + k] * dz1;
                }
            for (int i = 0; i < dz0.Length; i++) dz0[i] *= h0[i] > 0 ? 1 : slope;
            for (int t = 0; t < s.Len0; t++)
                for (int o = 0; o < s.C0; o++)
                {
                    float dz = scale * dz0[t * s.C0 + o];
                    var w = W.Slice(s.Conv0W + o * inDim * s.K0, inDim * s.K0);
                    for (int k = 0; k < s.K0; k++)
                    {
                        int n = t * s.S0 + k;
                        for (int a = 0; a < A; a++)
                        {
                            dMean[(l * s.Rows + n) * A + a] += w[(T + a) * s.K0 + k] * dz;
                            g[l * s.ParamStride + s.LogStdOffset + a] += w[(T + A + a) * s.K0 + k] * dz;
                        }
                    }
                }
        });
    }
}
