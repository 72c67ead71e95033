using EpgFast.Backends;
using EpgFast.Kernels.Tasks;
using EpgFast.Training;
using Xunit;

namespace EpgFast.Tests.Training;

/// <summary>PPO from scratch trains at ppo_learning_rate; the losses keep inner_learning_rate.</summary>
public class PpoStepSizeTests
{
    private static readonly TrainConfig Config = TrainConfig.Preset("ci") with
    {
        Env = "point-goal", Seed = 7, ActSteps = 16, Updates = 4, BufferRows = 32, Minibatch = 8, FitnessEpisodes = 1, InnerLearningRate = 0.01f,
    };

    /// <summary>Fitness of 4 fresh learners on the same tasks with <paramref name="method"/>, one evaluator per call.</summary>
    private static float[] Fitness(TrainConfig config, EvalMethod method)
    {
        using var device = new CpuDevice(2);
        using var evaluator = new Evaluator(device, EpgTrainer.EnvSpecFor(config), config, 4, ppo: true);
        var phi = evaluator.Layout.Initialize(config.Seed);
        return evaluator.Run("x", method, phi, GoalRegion.Right, Evaluator.TestTaskIds(4, 1), config.Seed, 1).Fitness;
    }

    [Fact]
    public void PpoTrainsAtItsOwnStepAndTheLossesAtTheInnerStep()
    {
        var unset = Fitness(Config, EvalMethod.Ppo);
        Assert.Equal(unset, Fitness(Config with { PpoLearningRate = 0.01f }, EvalMethod.Ppo)); // unset: the inner step
        Assert.NotEqual(unset, Fitness(Config with { PpoLearningRate = 0.001f }, EvalMethod.Ppo));
        // the evolved loss ignores ppo_learning_rate, even after a PPO run on the same evaluator
        Assert.Equal(Fitness(Config, EvalMethod.Epg), Fitness(Config with { PpoLearningRate = 0.001f }, EvalMethod.Epg));
        using var device = new CpuDevice(2);
        var config = Config with { PpoLearningRate = 0.001f };
        using var evaluator = new Evaluator(device, EpgTrainer.EnvSpecFor(config), config, 4, ppo: true);
        var phi = evaluator.Layout.Initialize(config.Seed);
        evaluator.Run("ppo", EvalMethod.Ppo, phi, GoalRegion.Right, Evaluator.TestTaskIds(4, 1), config.Seed, 1);
        Assert.Equal(Fitness(Config, EvalMethod.Epg), evaluator.Run("epg", EvalMethod.Epg, phi, GoalRegion.Right, Evaluator.TestTaskIds(4, 1), config.Seed, 1).Fitness);
    }
}
