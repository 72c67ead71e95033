using BenchmarkDotNet.Attributes;
using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;
using EpgFast.Networks;

namespace EpgFast.Bench;

/// <summary>
/// The EPG loss network's forward + backward (released sizes, obs 29, act 8: N = 512, minibatch 32) on the CPU
/// launcher: the eight launches (baseline, per-learner intermediates in memory) against the one group kernel
/// (<see cref="LossGroupKernel{TF, TI, TV, TL}"/>, a learner per group; on the CPU a group runs on one thread over a
/// cache-resident scratch block). Both through <see cref="LossNetwork{TF, TI}"/>, the same inputs.
/// </summary>
[Config(typeof(NetworkBenchConfig))]
public class LossGroupBench : IFlopCounted
{
    [Params(256)]
    public int Learners;

    public const int Obs = 29, Act = 8;

    private LearnerLayout? _lay;
    private CpuDevice _cpu = null!;
    private LossNetwork<CpuView<float>, CpuView<int>> _launches = null!, _group = null!;
    private DeviceBuffer<float> _phi = null!, _traj = null!, _mean = null!, _p = null!, _mem = null!, _dMean = null!, _g = null!, _dMem = null!;
    private DeviceBuffer<int> _idx = null!;

    private LearnerLayout Layout => _lay ??= new LearnerLayout(new NetworkConfig(Obs, Act));

    public long FlopsPerCall(string method) => new LossLayout(Layout.Config).FlopsPerLearner * Learners;

    [GlobalSetup]
    public void Setup()
    {
        var c = Layout.Config;
        var loss = new LossLayout(c);
        int L = Learners, N = c.BufferRows, M = c.ActSteps;
        var rng = new Random(3);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble() * 2 - 1).ToArray();
        _cpu = new CpuDevice();
        _launches = new LossNetwork<CpuView<float>, CpuView<int>>(_cpu, Layout, L, 8, groupKernel: false);
        _group = new LossNetwork<CpuView<float>, CpuView<int>>(_cpu, Layout, L, 8, groupKernel: true);
        _phi = _cpu.Upload<float>(Enumerable.Range(0, L / 8).SelectMany(m => loss.Initialize((ulong)m)).ToArray());
        _traj = _cpu.Upload<float>(R(L * N * c.TrajDim));
        _mean = _cpu.Upload<float>(R(L * N * Act));
        _p = _cpu.Upload<float>(R(L * Layout.Stride));
        _mem = _cpu.Upload<float>(R(L * c.MemoryUnits));
        _idx = _cpu.Upload<int>(Enumerable.Range(0, L).SelectMany(_ => Enumerable.Range(0, M).OrderBy(_ => rng.Next())).ToArray());
        _dMean = _cpu.Allocate<float>(L * N * Act);
        _g = _cpu.Allocate<float>(L * Layout.Stride);
        _dMem = _cpu.Allocate<float>(L * c.MemoryUnits);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _launches.Dispose();
        _group.Dispose();
        foreach (var b in new[] { _phi, _traj, _mean, _p, _mem, _dMean, _g, _dMem }) b.Dispose();
        _idx.Dispose();
        _cpu.Dispose();
    }

    private RowSelection Selection => new() { RowBase = Layout.Config.BufferRows - Layout.Config.ActSteps, IdxStride = Layout.Config.ActSteps, IdxOffset = 0 };

    [Benchmark(Baseline = true)]
    public void Launches() => _launches.ForwardBackward(_phi, _traj, _mean, _p, _mem, _idx, Selection, 0.5f, _dMean, _g, _dMem);

    [Benchmark]
    public void GroupKernel() => _group.ForwardBackward(_phi, _traj, _mean, _p, _mem, _idx, Selection, 0.5f, _dMean, _g, _dMem);
}
