using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Tasks;
using EpgFast.Networks;
using EpgFast.Runs;
using EpgFast.Tasks;

namespace EpgFast.Training;

/// <summary>What <see cref="PolicyPlayer.Play"/> measured: per policy the mean return of its episodes, and over policies the mean and standard deviation.</summary>
public sealed record PlayResult(double ReturnMean, double ReturnStd, double[] PolicyReturns, double[][] EpisodeReturns, double[] FinalDistances);

/// <summary>
/// Runs trained policies (a <see cref="PolicyFile"/>) without learning: one environment per policy, the action
/// the policy's mean on the observation normalised with the learner's own running statistics (the same kernels
/// as acting in training), until every policy has finished the episodes asked for.
/// </summary>
public static class PolicyPlayer
{
    public static PlayResult Play(Device device, PolicyFile policies, EnvSpec spec, int episodes, GoalRegion? region, ulong seed)
    {
        if (episodes < 1) throw new EpgException($"--episodes must be at least 1 (got {episodes})", 2);
        using var env = EnvFactory.Create(spec, device, policies.Count);
        if (env.ObsDim != policies.Obs || env.ActDim != policies.Act)
            throw new EpgException($"the policies observe {policies.Obs} values and act on {policies.Act} (trained on {policies.Env}); {env.Name} has {env.ObsDim} and {env.ActDim}");
        var networks = policies.Config.Networks(env.ObsDim, env.ActDim, policies.Ppo);
        var layout = new LearnerLayout(networks);
        if (layout.Stride != policies.Stride || networks.TrajDim != policies.TrajDim)
            throw new EpgException($"the policy file's sizes (stride {policies.Stride}, trajectory {policies.TrajDim}) do not match its own configuration (stride {layout.Stride}, trajectory {networks.TrajDim})");
        return device.WithViews(new PlayCode(device, env, policies, networks, layout, episodes, region, seed));
    }

    private sealed record PlayCode(Device Device, IEnvBatch Env, PolicyFile Policies, NetworkConfig Networks, LearnerLayout Layout,
        int Episodes, GoalRegion? Region, ulong Seed) : IViewCode<PlayResult>
    {
        public PlayResult Run<TF, TI>() where TF : struct, IView<float> where TI : struct, IView<int>
            => PolicyPlayer.Run<TF>(Device, Env, Policies, Networks, Layout, Episodes, Region, Seed);
    }

    private static PlayResult Run<TF>(Device device, IEnvBatch env, PolicyFile policies, NetworkConfig networks, LearnerLayout layout,
        int episodes, GoalRegion? region, ulong seed) where TF : struct, IView<float>
    {
        int n = policies.Count, obs = networks.Obs;
        using var actor = new PolicyBatch<TF>(device, layout, n, 1);
        using var normalizer = new RunningNormalizer<TF>(device, networks, n);
        using var p = device.Upload<float>(policies.Learners.Parameters);
        using var obsNorm = device.Allocate<float>(n * obs);
        normalizer.Sum.CopyFrom(policies.Learners.NormSum);
        normalizer.Sum2.CopyFrom(policies.Learners.NormSum2);
        normalizer.Count.CopyFrom(policies.Learners.NormCount);
        if (region is GoalRegion r) env.SampleTargets(seed, Evaluator.TestTaskIds(n, 1 << 14), r);
        env.Reset(seed);
        var returns = Enumerable.Range(0, n).Select(_ => new List<double>()).ToArray();
        var distances = new double[n];
        while (returns.Any(x => x.Count < episodes))
        {
            normalizer.Normalize(env.Observations, obs, 0, obsNorm, obs, 0, rows: 1, cols: obs);
            actor.Forward(p, obsNorm, rows: 1, obsStride: obs);
            env.Step(actor.Mean);
            device.Synchronize();
            var dones = env.Dones.ToArray();
            if (!dones.Any(d => d != 0f)) continue;
            var last = env.LastReturns.ToArray();
            var dist = env.LastDistances.ToArray();
            for (int e = 0; e < n; e++)
                if (dones[e] != 0f && returns[e].Count < episodes)
                {
                    returns[e].Add(last[e]);
                    distances[e] = dist[e];
                }
        }
        var perPolicy = returns.Select(x => x.Average()).ToArray();
        return new PlayResult(perPolicy.Average(), EvalResult.Std(perPolicy), perPolicy, returns.Select(x => x.ToArray()).ToArray(), distances);
    }
}
