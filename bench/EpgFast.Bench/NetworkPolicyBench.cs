using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Networks;

namespace EpgFast.Bench;

/// <summary>
/// The learners' policies (obs 29 -> 64 tanh -> 64 tanh -> act 8, weights per learner) over Rows observation rows
/// per learner: forward, and forward + backward to every weight (the update's pattern), through the CPU launcher's
/// MLP pass (the lanes kernels: SIMD over 16 or 8 floats) against hand-written C# (Parallel.For over learners, spans)
/// in the same run.
/// </summary>
[Config(typeof(NetworkBenchConfig))]
public class NetworkPolicyBench : IFlopCounted
{
    [Params(64, 1024, 4096)]
    public int Learners;

    public const int Obs = 29, Act = 8, Rows = 64;

    private LearnerLayout _lay = null!;
    private float[] _p = [], _obs = [], _dMean = [], _g = [], _h1 = [], _h2 = [], _y = [];
    private CpuDevice _cpu = null!;
    private DeviceBuffer<float> _bp = null!, _bobs = null!, _bdm = null!, _bg = null!;
    private PolicyBatch<CpuView<float>> _lanes = null!;

    private LearnerLayout Layout => _lay ??= new LearnerLayout(new NetworkConfig(Obs, Act));

    public long FlopsPerCall(string method)
    {
        var m = Layout.Policy;
        long rows = (long)Learners * Rows;
        return method.Contains("Backward") ? rows * (m.ForwardFlopsPerRow + m.BackwardFlopsPerRow) : rows * m.ForwardFlopsPerRow;
    }

    [GlobalSetup]
    public void Setup()
    {
        var lay = Layout;
        _cpu = new CpuDevice();
        _bp = _cpu.Allocate<float>(Learners * lay.Stride);
        LearnerInit.Initialize<CpuView<float>>(_cpu, lay, Learners, _bp, 1, 0, 0);
        _p = _bp.ToArray();
        var rng = new Random(2);
        _obs = Enumerable.Range(0, Learners * Rows * Obs).Select(_ => (float)rng.NextDouble() * 2 - 1).ToArray();
        _dMean = Enumerable.Range(0, Learners * Rows * Act).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        _g = new float[_p.Length];
        _h1 = new float[Learners * Rows * 64];
        _h2 = new float[Learners * Rows * 64];
        _y = new float[Learners * Rows * Act];
        _bobs = _cpu.Upload<float>(_obs);
        _bdm = _cpu.Upload<float>(_dMean);
        _bg = _cpu.Allocate<float>(_p.Length);
        _lanes = new PolicyBatch<CpuView<float>>(_cpu, lay, Learners, Rows);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _lanes.Dispose();
        foreach (var b in new[] { _bp, _bobs, _bdm, _bg }) b.Dispose();
        _cpu.Dispose();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Forward")]
    public void HandWrittenForward() => HandWritten(backward: false);

    [Benchmark, BenchmarkCategory("Forward")]
    public void LanesForward() => _lanes.Forward(_bp, _bobs, Rows, Obs);

    [Benchmark(Baseline = true), BenchmarkCategory("ForwardBackward")]
    public void HandWrittenForwardBackward() => HandWritten(backward: true);

    [Benchmark, BenchmarkCategory("ForwardBackward")]
    public void LanesForwardBackward()
    {
        _lanes.Forward(_bp, _bobs, Rows, Obs);
        _lanes.Backward(_bp, _bobs, Obs, 0, _bdm, _bg);
    }

    /// <summary>The same network written directly: per learner, rows forward (activations kept), then the backward pass.</summary>
    private void HandWritten(bool backward)
    {
        var m = Layout.Policy;
        float[] p = _p, obs = _obs, dMean = _dMean, g = _g, h1s = _h1, h2s = _h2, ys = _y;
        int stride = m.Stride, nIn = m.In, n1 = m.H1, n2 = m.H2, nOut = m.Out, rows = Rows;
        Parallel.For(0, Learners, l =>
        {
            var P = p.AsSpan(l * stride, stride);
            var G = g.AsSpan(l * stride, stride);
            for (int r = 0; r < rows; r++)
            {
                int row = l * rows + r;
                var x = obs.AsSpan(row * nIn, nIn);
                var h1 = h1s.AsSpan(row * n1, n1);
                var h2 = h2s.AsSpan(row * n2, n2);
                var y = ys.AsSpan(row * nOut, nOut);
                Dense(P.Slice(m.W1, n1 * nIn), P.Slice(m.B1, n1), x, h1, true);
                Dense(P.Slice(m.W2, n2 * n1), P.Slice(m.B2, n2), h1, h2, true);
                Dense(P.Slice(m.W3, nOut * n2), P.Slice(m.B3, nOut), h2, y, false);
            }
            if (!backward) return;
            Span<float> d1 = stackalloc float[n1], d2 = stackalloc float[n2];
            for (int r = 0; r < rows; r++)
            {
                int row = l * rows + r;
                var x = obs.AsSpan(row * nIn, nIn);
                var h1 = h1s.AsSpan(row * n1, n1);
                var h2 = h2s.AsSpan(row * n2, n2);
                var dy = dMean.AsSpan(row * nOut, nOut);
                d2.Clear();
                for (int o = 0; o < nOut; o++)
                {
                    float dz = dy[o];
                    G[m.B3 + o] += dz;
                    var w = P.Slice(m.W3 + o * n2, n2);
                    var gw = G.Slice(m.W3 + o * n2, n2);
                    for (int i = 0; i < n2; i++)
                    {
                        gw[i] += dz * h2[i];
                        d2[i] += w[i] * dz;
                    }
                }
                d1.Clear();
                for (int o = 0; o < n2; o++)
                {
                    float dz = d2[o] * (1 - h2[o] * h2[o]);
                    G[m.B2 + o] += dz;
                    var w = P.Slice(m.W2 + o * n1, n1);
                    var gw = G.Slice(m.W2 + o * n1, n1);
                    for (int i = 0; i < n1; i++)
                    {
                        gw[i] += dz * h1[i];
                        d1[i] += w[i] * dz;
                    }
                }
                for (int o = 0; o < n1; o++)
                {
                    float dz = d1[o] * (1 - h1[o] * h1[o]);
                    G[m.B1 + o] += dz;
                    var gw = G.Slice(m.W1 + o * nIn, nIn);
                    for (int i = 0; i < nIn; i++) gw[i] += dz * x[i];
                }
            }
        });
    }

    private static void Dense(ReadOnlySpan<float> w, ReadOnlySpan<float> b, ReadOnlySpan<float> x, Span<float> y, bool tanh)
    {
        int nIn = x.Length;
        for (int o = 0; o < y.Length; o++)
        {
            var wr = w.Slice(o * nIn, nIn);
            float z = b[o];
            for (int i = 0; i < nIn; i++) z += wr[i] * x[i];
            y[o] = tanh ? MathF.Tanh(z) : z;
        }
    }
}
