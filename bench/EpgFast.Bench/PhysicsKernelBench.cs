using BenchmarkDotNet.Attributes;
using EpgFast.Backends;
using EpgFast.MuJoCo;
using EpgFast.Physics;

namespace EpgFast.Bench;

/// <summary>
/// The kernel simulator against the MuJoCo backend (Euler) in the same run, on the project's Ant
/// (native/models/ant.xml, dt 0.01), contacts and limits on. One operation = one env step (frame
/// skip 5) of every environment under uniform random controls in [-1, 1] (16 control sets drawn
/// once, cycled). Every invocation runs 8192 env steps (OperationsPerInvoke), so Mean is the time
/// per env step whatever the batch: the kernel engine steps its Envs environments 8192 / Envs times;
/// MuJoCo always steps 1024 environments 8 times (its per-environment cost does not depend on the
/// batch, and 8192 mjData do not fit in memory next to everything else). Per core: both engines on
/// one CPU thread; KernelAllThreads uses every core. env steps/s = 1 / Mean, physics steps/s = 5x.
/// Run: dotnet pwsh ./build.ps1 bench -- --filter '*PhysicsKernelBench*'
/// </summary>
public class PhysicsKernelBench
{
    [Params(1024, 8192)]
    public int Envs;

    private const int EnvStepsPerInvoke = 8192;
    private const int MuJoCoEnvs = 1024;

    private CpuDevice _one = null!, _all = null!;
    private MuJoCoPhysics _mujoco = null!;
    private KernelPhysics _kernelOne = null!, _kernelAll = null!;
    private float[][] _ctrl = [];
    private int _round;

    [GlobalSetup]
    public void Setup()
    {
        _one = new CpuDevice(1);
        _all = new CpuDevice();
        _mujoco = new MuJoCoPhysics(_one, MuJoCoModels.AntPath, MuJoCoEnvs, new EngineOptions { Integrator = Integrator.Euler });
        _kernelOne = new KernelPhysics(_one, MuJoCoModels.AntPath, Envs);
        _kernelAll = new KernelPhysics(_all, MuJoCoModels.AntPath, Envs);
        var rng = new Random(1);
        _ctrl = Enumerable.Range(0, 16)
            .Select(_ => Enumerable.Range(0, Math.Max(Envs, MuJoCoEnvs) * _mujoco.Nu).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray())
            .ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _mujoco.Dispose();
        _kernelOne.Dispose();
        _kernelAll.Dispose();
        _one.Dispose();
        _all.Dispose();
    }

    private void Run(IPhysicsBatch physics)
    {
        for (int done = 0; done < EnvStepsPerInvoke; done += physics.Envs)
        {
            physics.Ctrl.CopyFrom(_ctrl[_round++ & 15].AsSpan(0, physics.Ctrl.Length));
            physics.Step(5);
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = EnvStepsPerInvoke, Description = "MuJoCo Euler, 1 thread (1024 envs)")]
    public void MuJoCoOneThread() => Run(_mujoco);

    [Benchmark(OperationsPerInvoke = EnvStepsPerInvoke, Description = "kernel simulator, CPU launcher, 1 thread")]
    public void KernelOneThread() => Run(_kernelOne);

    [Benchmark(OperationsPerInvoke = EnvStepsPerInvoke, Description = "kernel simulator, CPU launcher, all threads")]
    public void KernelAllThreads() => Run(_kernelAll);
}
