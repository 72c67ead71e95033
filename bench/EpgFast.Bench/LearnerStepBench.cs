using BenchmarkDotNet.Attributes;
using EpgFast.Backends;
using EpgFast.Learners;
using EpgFast.Networks;
using EpgFast.Tasks;
using EpgFast.Training;

namespace EpgFast.Bench;

/// <summary>
/// The whole learner step ("learner steps/s": normalize, policy, sample, env step with frame skip 5,
/// record, and the amortized update: 2 minibatches of 32 over the M = 64 newest steps, the policy forward and
/// backward over the N = 512 buffer rows, the loss network, Adam) on goal-ant, all CPU threads, with the MuJoCo
/// backend's physics as the baseline in the same run. One invocation = one lifetime of K = 2 updates x M = 64 steps
/// of every learner (OperationsPerInvoke = Learners x 128), so Mean is the time per learner step; 1 / Mean is learner
/// steps/s. Both engines run the CPU launcher's one MLP pass (the SIMD lanes kernels).
/// Run: dotnet pwsh ./build.ps1 bench -- --filter '*LearnerStepBench*'
/// </summary>
public class LearnerStepBench
{
    [Params(64)]
    public int Learners;

    private const int Updates = 2, ActSteps = 64, BufferRows = 512;

    private CpuDevice _cpu = null!;
    private (IEnvBatch Env, ILearnerBatch Batch, DeviceBuffer<float> Phi) _mujoco, _kernel;
    private uint _epoch;

    private (IEnvBatch, ILearnerBatch, DeviceBuffer<float>) Open(string engine)
    {
        var cfg = new TrainConfig { Env = "goal-ant", Engine = engine, ActSteps = ActSteps, Updates = Updates, BufferRows = BufferRows };
        var env = EnvFactory.Create(EpgTrainer.EnvSpecFor(cfg), _cpu, Learners);
        env.SampleTargets(1, Enumerable.Range(0, Learners).ToArray());
        var networks = cfg.Networks(env.ObsDim, env.ActDim, ppo: false);
        var batch = LearnerBatchFactory.Create(env, networks, Updates, 1, Learners, cfg.FitnessEpisodes);
        var phi = _cpu.Upload<float>(new LossLayout(networks).Initialize(1));
        return (env, batch, phi);
    }

    [GlobalSetup]
    public void Setup()
    {
        _cpu = new CpuDevice();
        _mujoco = Open("mujoco");
        _kernel = Open("kernel");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var (env, batch, phi) in new[] { _mujoco, _kernel })
        {
            batch.Dispose();
            phi.Dispose();
            env.Dispose();
        }
        _cpu.Dispose();
    }

    private void Lifetime((IEnvBatch Env, ILearnerBatch Batch, DeviceBuffer<float> Phi) run)
        => run.Batch.RunLifetime(run.Phi, 0f, 1, _epoch++, 0);

    [Benchmark(Baseline = true, OperationsPerInvoke = 64 * Updates * ActSteps, Description = "MuJoCo physics")]
    public void MuJoCoPhysics() => Lifetime(_mujoco);

    [Benchmark(OperationsPerInvoke = 64 * Updates * ActSteps, Description = "kernel physics")]
    public void KernelPhysics() => Lifetime(_kernel);
}
