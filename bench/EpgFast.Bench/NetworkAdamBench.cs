using BenchmarkDotNet.Attributes;
using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Networks;

namespace EpgFast.Bench;

/// <summary>
/// One guarded Adam step over every learner's whole parameter block (obs 29, act 8: policy, log-std, value net and
/// memory, 14,848 floats per learner), CPU launcher against a hand-written Parallel.For in the same run.
/// Memory-bound: each parameter reads p, g, m, v and writes p, m, v, g.
/// </summary>
[Config(typeof(NetworkBenchConfig))]
public class NetworkAdamBench : IFlopCounted
{
    [Params(64, 1024, 4096)]
    public int Learners;

    private LearnerLayout? _lay;
    private CpuDevice _cpu = null!;
    private AdamBatch<CpuView<float>, CpuView<int>> _adam = null!;
    private DeviceBuffer<float> _p = null!, _g = null!;
    private float[] _ap = [], _ag = [], _am = [], _av = [];
    private int[] _t = [];

    private LearnerLayout Layout => _lay ??= new LearnerLayout(new NetworkConfig(29, 8));

    public long FlopsPerCall(string method) => 12L * Learners * Layout.Stride;

    [GlobalSetup]
    public void Setup()
    {
        int n = Learners * Layout.Stride;
        var rng = new Random(4);
        _ap = Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble()).ToArray();
        _ag = Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        _am = new float[n];
        _av = new float[n];
        _t = new int[Learners];
        _cpu = new CpuDevice();
        _adam = new AdamBatch<CpuView<float>, CpuView<int>>(_cpu, Layout, Learners);
        _p = _cpu.Upload<float>(_ap);
        _g = _cpu.Upload<float>(_ag);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _adam.Dispose();
        _p.Dispose();
        _g.Dispose();
        _cpu.Dispose();
    }

    /// <summary>Gradients are kept (zeroGrad false) so every call does the same work.</summary>
    [Benchmark]
    public void CpuLauncher() => _adam.Step(_p, _g, zeroGrad: false);

    [Benchmark(Baseline = true)]
    public void HandWritten()
    {
        int stride = Layout.Stride;
        float[] p = _ap, g = _ag, m = _am, v = _av;
        int[] t = _t;
        const float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
        Parallel.For(0, Learners, l =>
        {
            var gs = g.AsSpan(l * stride, stride);
            float probe = 0;
            foreach (float x in gs) probe += x * 0f;
            if (probe != 0f) return;
            int step = ++t[l];
            float a = lr * MathF.Sqrt(1 - MathF.Pow(b2, step)) / (1 - MathF.Pow(b1, step));
            var ps = p.AsSpan(l * stride, stride);
            var ms = m.AsSpan(l * stride, stride);
            var vs = v.AsSpan(l * stride, stride);
            for (int i = 0; i < gs.Length; i++)
            {
                float gi = gs[i];
                float mi = b1 * ms[i] + (1 - b1) * gi, vi = b2 * vs[i] + (1 - b2) * gi * gi;
                ms[i] = mi;
                vs[i] = vi;
                ps[i] -= a * mi / (MathF.Sqrt(vi) + eps);
            }
        });
    }
}
