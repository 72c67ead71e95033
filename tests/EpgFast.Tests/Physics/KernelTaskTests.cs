using EpgFast.Backends;
using EpgFast.Physics;
using EpgFast.Tasks;
using Xunit;

namespace EpgFast.Tests.Physics;

/// <summary>The Ant tasks (written against IPhysicsBatch) run on the kernel engine.</summary>
public class KernelTaskTests
{
    [Theory]
    [InlineData(EnvKind.Ant)]
    [InlineData(EnvKind.GoalAnt)]
    public void AntTasksStepOnTheKernelEngine(EnvKind kind)
    {
        const int envs = 32;
        using var device = new CpuDevice(1);
        using var env = EnvFactory.Create(new EnvSpec { Kind = kind, Engine = EngineKind.Kernel }, device, envs);
        env.Reset(seed: 5);
        using var actions = device.Allocate<float>(envs * env.ActDim);
        var rng = new System.Random(3);
        var a = new float[envs * env.ActDim];
        // zero actions: nobody falls over (torso stays healthy); then random actions
        for (int s = 0; s < 40; s++)
        {
            env.Step(actions);
            Assert.All(env.Terminals.ToArray(), t => Assert.Equal(0f, t));
        }
        for (int s = 0; s < 200; s++)
        {
            for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
            actions.CopyFrom(a);
            env.Step(actions);
            Assert.All(env.Observations.ToArray(), x => Assert.True(float.IsFinite(x)));
            Assert.All(env.Rewards.ToArray(), x => Assert.True(float.IsFinite(x)));
        }
        Assert.All(env.Positions.ToArray(), x => Assert.True(float.IsFinite(x)));
    }
}
