using BenchmarkDotNet.Attributes;
using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;
using EpgFast.Networks;

namespace EpgFast.Bench;

/// <summary>
/// The policy forward (obs 29 -> 64 tanh -> 64 tanh -> act 8) over Rows rows per learner on the CPU launcher:
/// the group kernel (<see cref="PolicyGroupForwardKernel{TF}"/>, weights staged per group; the ILGPU devices' pass)
/// against <see cref="MlpBatch{TF}.Forward"/> (the CPU launcher's pass, the lanes kernels) in the same run. The group
/// kernel is written for the GPU; on the CPU this only shows what its one-thread-per-group form costs.
/// </summary>
[Config(typeof(NetworkBenchConfig))]
public class PolicyGroupBench : IFlopCounted
{
    [Params(64, 1024)]
    public int Learners;

    public const int Obs = 29, Act = 8, Rows = 64;

    private LearnerLayout? _lay;
    private CpuDevice _cpu = null!;
    private DeviceBuffer<float> _p = null!, _x = null!, _y = null!;
    private MlpBatch<CpuView<float>> _mlp = null!;
    private PolicyGroupShape _shape;

    private LearnerLayout Layout => _lay ??= new LearnerLayout(new NetworkConfig(Obs, Act));

    public long FlopsPerCall(string method) => (long)Learners * Rows * Layout.Policy.ForwardFlopsPerRow;

    [GlobalSetup]
    public void Setup()
    {
        var lay = Layout;
        _cpu = new CpuDevice();
        _p = _cpu.Allocate<float>(Learners * lay.Stride);
        LearnerInit.Initialize<CpuView<float>>(_cpu, lay, Learners, _p, 1, 0, 0);
        var rng = new Random(2);
        _x = _cpu.Upload<float>(Enumerable.Range(0, Learners * Rows * Obs).Select(_ => (float)rng.NextDouble() * 2 - 1).ToArray());
        _y = _cpu.Allocate<float>(Learners * Rows * Act);
        _mlp = new MlpBatch<CpuView<float>>(_cpu, lay.Policy, Learners, Rows);
        _shape = PolicyGroupForward.Shape(lay.Policy, Learners, Rows, Obs, 0);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _mlp.Dispose();
        foreach (var b in new[] { _p, _x, _y }) b.Dispose();
        _cpu.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void MlpBatchForward() => _mlp.Forward(_p, _x, Rows, Obs, 0);

    [Benchmark]
    public void GroupForward() => PolicyGroupForward.Run<CpuView<float>>(_cpu, _shape, _p, _x, _y);
}
