using BenchmarkDotNet.Attributes;
using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;

namespace EpgFast.Bench;

/// <summary>
/// The foundation's proof kernel: a batched dense layer (64 -> 64, tanh, weights per learner)
/// forward, run three ways in one run: hand-written C# over float[] (baseline), the same kernel
/// source through the CPU launcher, and through ILGPU's CPU accelerator.
/// </summary>
public class DenseLayerBench
{
    [Params(256)]
    public int Learners;

    public const int Rows = 64, In = 64, Out = 64;

    private DenseShape _s;
    private float[] _x = [], _p = [], _y = [];
    private CpuDevice _cpu = null!;
    private IlgpuDevice _ilgpu = null!;
    private DeviceBuffer<float> _cx = null!, _cp = null!, _cy = null!, _gx = null!, _gp = null!, _gy = null!;

    [GlobalSetup]
    public void Setup()
    {
        _s = DenseShape.Create(Learners, Rows, In, Out, Activation.Tanh);
        var rng = new Random(1);
        _x = Enumerable.Range(0, Learners * Rows * In).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        _p = Enumerable.Range(0, Learners * _s.ParamStride).Select(_ => (float)rng.NextDouble() * 0.2f - 0.1f).ToArray();
        _y = new float[Learners * Rows * Out];
        _cpu = new CpuDevice();
        _ilgpu = IlgpuDevice.CreateCpuAccelerator();
        (_cx, _cp, _cy) = (_cpu.Upload<float>(_x), _cpu.Upload<float>(_p), _cpu.Allocate<float>(_y.Length));
        (_gx, _gp, _gy) = (_ilgpu.Upload<float>(_x), _ilgpu.Upload<float>(_p), _ilgpu.Allocate<float>(_y.Length));
        IlgpuAccelerator(); // compile once outside the measurement
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var b in new[] { _cx, _cp, _cy, _gx, _gp, _gy }) b.Dispose();
        _ilgpu.Dispose();
        _cpu.Dispose();
    }

    /// <summary>Floating-point operations per call (multiply-add = 2, tanh not counted).</summary>
    public long Flops => 2L * Learners * Rows * In * Out;

    [Benchmark(Baseline = true)]
    public void HandWritten()
    {
        // Sizes are run-time values here as in the kernel (shapes are configurable in EpgFast).
        float[] x = _x, p = _p, y = _y;
        int stride = _s.ParamStride, rows = _s.Rows, nIn = _s.In, nOut = _s.Out;
        Parallel.For(0, Learners * rows, idx =>
        {
            int l = idx / rows, w = l * stride, b = w + nOut * nIn;
            var xs = x.AsSpan(idx * nIn, nIn);
            for (int o = 0; o < nOut; o++)
            {
                var ws = p.AsSpan(w + o * nIn, nIn);
                float z = p[b + o];
                for (int i = 0; i < ws.Length; i++) z += ws[i] * xs[i];
                y[idx * nOut + o] = MathF.Tanh(z);
            }
        });
    }

    [Benchmark]
    public void CpuLauncher() => Run<CpuView<float>>(_cpu, _cx, _cp, _cy);

    [Benchmark]
    public void IlgpuAccelerator() => Run<GpuView<float>>(_ilgpu, _gx, _gp, _gy);

    private void Run<TF>(Device d, DeviceBuffer<float> x, DeviceBuffer<float> p, DeviceBuffer<float> y) where TF : struct, IView<float>
    {
        d.Launch(Learners * Rows, new DenseForwardKernel<TF> { X = x.View<TF>(), P = p.View<TF>(), Y = y.View<TF>(), S = _s });
        d.Synchronize();
    }
}
