using EpgFast.Backends;
using EpgFast.Kernels.Random;
using EpgFast.Kernels.Tasks;
using EpgFast.Physics;
using EpgFast.Tasks;

namespace EpgFast.Validation.Tasks;

/// <summary>
/// point-goal on the device against a float64 host replica of the same dynamics, reset noise
/// (Philox) and goals, over 60 steps that cross an episode boundary.
/// </summary>
public sealed class PointGoalCheck : ISelfCheck
{
    public string Name => "tasks.point-goal-matches-host";

    public (bool Passed, string Detail) Run(Device device)
    {
        const int envs = 16, steps = 60;
        const ulong resetSeed = 5;
        var config = new PointGoalConfig { Region = GoalRegion.Full };
        using var env = new PointGoalEnvBatch(device, envs, config);
        int[] ids = Enumerable.Range(0, envs).ToArray();
        env.SampleTargets(3, ids);
        env.Reset(resetSeed);
        var goal = GoalTasks.Targets(3, ids, GoalRegion.Full, config.RadiusMin, config.RadiusMax);

        // host replica, float64: state (envs, 4), returns
        var s = new double[envs * 4];
        var ret = new double[envs];
        var lastRet = new double[envs];
        var episode = new int[envs];
        void HostReset(int e)
        {
            UInt4 bits = Philox.Draw(resetSeed, Philox.Stream(RandomStreams.EnvReset, (uint)episode[e], (uint)e), 0);
            s[4 * e] = config.ResetNoise * (2.0 * Philox.Uniform(bits.X) - 1);
            s[4 * e + 1] = config.ResetNoise * (2.0 * Philox.Uniform(bits.Y) - 1);
            s[4 * e + 2] = s[4 * e + 3] = 0;
            ret[e] = 0;
        }
        for (int e = 0; e < envs; e++) HostReset(e);

        using var actions = device.Allocate<float>(envs * 2);
        var a = new float[envs * 2];
        double maxErr = 0;
        for (int t = 1; t <= steps; t++)
        {
            var obs = env.Observations.ToArray();
            for (int e = 0; e < envs; e++)
                for (int k = 0; k < 2; k++)
                    a[2 * e + k] = 2f * (goal[2 * e + k] - obs[4 * e + k]) - obs[4 * e + 2 + k] + (k == 0 ? 0.3f : -0.2f);
            actions.CopyFrom(a);
            env.Step(actions);
            for (int e = 0; e < envs; e++)
            {
                double ax = Math.Clamp(a[2 * e], -1, 1), ay = Math.Clamp(a[2 * e + 1], -1, 1);
                double D() => Math.Sqrt(Math.Pow(s[4 * e] - goal[2 * e], 2) + Math.Pow(s[4 * e + 1] - goal[2 * e + 1], 2));
                double d0 = D();
                s[4 * e + 2] += config.Dt * (config.ForceScale * ax - config.Damping * s[4 * e + 2]);
                s[4 * e + 3] += config.Dt * (config.ForceScale * ay - config.Damping * s[4 * e + 3]);
                s[4 * e] += config.Dt * s[4 * e + 2];
                s[4 * e + 1] += config.Dt * s[4 * e + 3];
                ret[e] += (d0 - D()) / config.Dt - config.CtrlCostWeight * (ax * ax + ay * ay);
                if (t % config.MaxSteps == 0)
                {
                    lastRet[e] = ret[e];
                    episode[e]++;
                    HostReset(e);
                }
            }
            var got = env.Observations.ToArray();
            for (int i = 0; i < got.Length; i++) maxErr = Math.Max(maxErr, Math.Abs(got[i] - s[i]));
        }
        var last = env.LastReturns.ToArray();
        double maxRetErr = 0;
        for (int e = 0; e < envs; e++) maxRetErr = Math.Max(maxRetErr, Math.Abs(last[e] - lastRet[e]) / (1 + Math.Abs(lastRet[e])));
        bool ok = maxErr < 1e-4 && maxRetErr < 1e-3 && env.FinishedEpisodes.ToArray().All(f => f == 1);
        return (ok, $"{envs} envs x {steps} steps: max state error {maxErr:E1}, max return error {maxRetErr:E1} (relative)");
    }
}

/// <summary>
/// The Ant task kernels on the device, over an engine that does not move (state rows stay as
/// loaded): the reset state equals the host's Philox sample (qpos0 + U(-0.1, 0.1), unit root
/// quaternion, 0.1 N(0, 1) velocities), the observation is qpos[2:] ++ qvel, and the Ant-v4 reward
/// of a standing ant is 1 - 0.5 |clamp(a)|^2.
/// </summary>
public sealed class AntTaskKernelCheck : ISelfCheck
{
    public string Name => "tasks.ant-kernels-match-host";

    public (bool Passed, string Detail) Run(Device device)
    {
        const int envs = 8;
        const ulong seed = 9;
        using var env = new AntEnvBatch(new FrozenPhysics(device, envs), AntTaskConfig.AntForward);
        env.Reset(seed);
        var p = AntTaskConfig.AntForward.ToParams(15, 14, 8, 0.01, seed);
        float[] qpos0 = FrozenPhysics.AntQpos0;
        var obs = env.Observations.ToArray();
        double stateErr = 0;
        for (int e = 0; e < envs; e++)
        {
            ulong stream = Philox.Stream(RandomStreams.EnvReset, 0, (uint)e);
            var q = new double[15];
            for (int i = 0; i < 15; i++) q[i] = qpos0[i] + 0.1 * (2.0 * Philox.UniformAt(seed, stream, (ulong)i) - 1);
            double n = Math.Sqrt(q[3] * q[3] + q[4] * q[4] + q[5] * q[5] + q[6] * q[6]);
            for (int i = 3; i < 7; i++) q[i] /= n;
            for (int i = 2; i < 15; i++) stateErr = Math.Max(stateErr, Math.Abs(obs[e * 27 + i - 2] - q[i]));
            for (int i = 0; i < 14; i++)
            {
                double v = 0.1 * Philox.NormalAt(seed, stream, AntTask.VelocityCounterOffset + (ulong)i);
                stateErr = Math.Max(stateErr, Math.Abs(obs[e * 27 + 13 + i] - v));
            }
        }
        var a = new float[envs * 8];
        for (int i = 0; i < a.Length; i++) a[i] = 1.6f * MathF.Sin(0.7f * i);
        using var actions = device.Upload<float>(a);
        env.Step(actions);
        var r = env.Rewards.ToArray();
        double rewardErr = 0;
        for (int e = 0; e < envs; e++)
        {
            double cost = 0;
            for (int u = 0; u < 8; u++) cost += Math.Pow(Math.Clamp(a[e * 8 + u], -1, 1), 2);
            rewardErr = Math.Max(rewardErr, Math.Abs(r[e] - (1 - p.CtrlCostWeight * cost)));
        }
        bool ok = stateErr < 1e-5 && rewardErr < 1e-4 && env.Dones.ToArray().All(d => d == 0f);
        return (ok, $"{envs} envs: max reset-state error {stateErr:E1}, max reward error {rewardErr:E1}");
    }

    /// <summary>An engine on any device whose bodies never move (flagged rows are simply accepted).</summary>
    private sealed class FrozenPhysics(Device device, int envs) : AntShapedPhysics(device, envs)
    {
        public override void Step(int frameSkip) => Sync();
        public override void Sync() => ResetFlags.Clear();
    }
}
