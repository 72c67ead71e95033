using EpgFast.Backends;
using EpgFast.Kernels.Tasks;
using EpgFast.Tasks;
using EpgFast.Training;
using Xunit;

namespace EpgFast.Tests.Training;

/// <summary>The config fields that pick and vary goal-ant's definition.</summary>
public class GoalAntConfigTests
{
    private static string WriteConfig(string json)
    {
        string path = Path.Combine(Path.GetTempPath(), "epgfast-goalant-" + Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void TheDefaultConfigGivesTheReachDefinitionUnchanged()
    {
        var spec = EpgTrainer.EnvSpecFor(TrainConfig.Preset("paper"));
        Assert.Equal(AntTaskConfig.GoalAntReach, spec.Ant);
        Assert.Equal((3f, 5f), (spec.Ant!.RadiusMin, spec.Ant.RadiusMax));
        Assert.Equal(AntTaskConfig.GoalAntProgress, EpgTrainer.EnvSpecFor(TrainConfig.Preset("paper") with { GoalAnt = "progress" }).Ant);
        Assert.Equal(AntTaskConfig.GoalAntDistanceSurvive, EpgTrainer.EnvSpecFor(TrainConfig.Preset("paper") with { GoalAnt = "distance-survive" }).Ant);
    }

    [Fact]
    public void ConfigFieldsOverrideTheDefinition()
    {
        string path = WriteConfig("{\"goal_ant_reward\": \"negative-distance\", \"healthy_reward\": 4, \"terminate_when_unhealthy\": true, \"ctrl_cost_weight\": 0.1, \"episode_steps\": 300, \"reach_radius\": 0.25, \"target_radius_min\": 1.5, \"target_radius_max\": 2}");
        try
        {
            var c = TrainConfig.Preset("paper").WithFile(path);
            var ant = EpgTrainer.EnvSpecFor(c).Ant!;
            Assert.Equal(AntTaskConfig.GoalAntReach with
            {
                GoalReward = GoalReward.NegativeDistance, HealthyReward = 4f, TerminateWhenUnhealthy = true, CtrlCostWeight = 0.1f, MaxSteps = 300, ReachRadius = 0.25f, RadiusMin = 1.5f, RadiusMax = 2f,
            }, ant);
            // The forward task takes the shared Ant fields too.
            var forward = EpgTrainer.EnvSpecFor(c with { Env = "ant", GoalAntReward = null }).Ant!;
            Assert.Equal(4f, forward.HealthyReward);
            Assert.Equal(AntObjective.Forward, forward.Objective);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("{\"goal_ant\": \"no-such\"}", "goal_ant")]
    [InlineData("{\"goal_ant_reward\": \"sparse\"}", "goal_ant_reward")]
    [InlineData("{\"ctrl_cost_weight\": -1}", "ctrl_cost_weight")]
    [InlineData("{\"reach_radius\": -0.5}", "reach_radius")]
    [InlineData("{\"target_radius_min\": 6}", "target_radius_min")]
    [InlineData("{\"target_radius_max\": 0.5}", "target_radius_max")]
    [InlineData("{\"ppo_learning_rate\": 0}", "ppo_learning_rate")]
    [InlineData("{\"ppo_learning_rate\": \"fast\"}", "'ppo_learning_rate' must be a number")]
    [InlineData("{\"reach_radius\": true}", "'reach_radius' must be a number")]
    [InlineData("{\"terminate_when_unhealthy\": 1}", "'terminate_when_unhealthy' must be true or false")]
    public void BadGoalAntFieldsAreNamed(string json, string field)
    {
        string path = WriteConfig(json);
        try
        {
            var e = Assert.Throws<EpgException>(() => TrainConfig.Preset("paper").WithFile(path).Validate());
            Assert.Contains(field, e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
