using EpgFast.Kernels.Launch;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Random;

namespace EpgFast.Kernels.Tasks;

/// <summary>
/// Constants of "point-goal": a unit point mass on a plane pushed by a force, which must reach a
/// goal it does not observe. The dynamics are part of the task (no physics engine):
/// v' = v + Dt (ForceScale a - Damping v), p' = p + Dt v' (semi-implicit Euler), a clamped to [-1, 1]^2.
/// </summary>
public struct PointGoalParams
{
    public float Dt;
    public float ForceScale;
    public float Damping;
    /// <summary>w in the control cost w * |a|^2 (clamped action).</summary>
    public float CtrlCostWeight;
    public GoalReward GoalReward;
    /// <summary>Episode length in steps (the only way an episode ends).</summary>
    public int MaxSteps;
    /// <summary>Reset: p = U(-ResetNoise, ResetNoise)^2, v = 0.</summary>
    public float ResetNoise;
    /// <summary>Where the reset noise comes from (seed and per-env streams).</summary>
    public EnvResetKey Reset;
}

/// <summary>Per-environment state and outputs of point-goal (views over Envs rows).</summary>
public struct PointGoalState<TF, TI>
    where TF : struct, IView<float>
    where TI : struct, IView<int>
{
    /// <summary>state: (Envs, 4) = (px, py, vx, vy)</summary>
    public TF State;
    /// <summary>targets: (Envs, 2)</summary>
    public TF Targets;
    /// <summary>obs: (Envs, 4) = (px, py, vx, vy)</summary>
    public TF Obs;
    /// <summary>The episode bookkeeping (rewards, dones, positions, returns, lengths, counts).</summary>
    public EpisodeLog<TF, TI> Log;
}

/// <summary>Shared pieces of the point-goal kernels.</summary>
public static class PointGoal
{
    public const int ObsDim = 4;
    public const int ActDim = 2;

    public static void BeginEpisode<TF, TI>(in PointGoalParams p, in PointGoalState<TF, TI> s, int e)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        TF state = s.State;
        ulong stream = p.Reset.Stream(s.Log.Episodes[e], e);
        UInt4 bits = Philox.Draw(p.Reset.Seed, stream, 0);
        state[4 * e] = p.ResetNoise * (2f * Philox.Uniform(bits.X) - 1f);
        state[4 * e + 1] = p.ResetNoise * (2f * Philox.Uniform(bits.Y) - 1f);
        state[4 * e + 2] = 0f;
        state[4 * e + 3] = 0f;
        s.Log.BeginEpisode(e);
    }

    public static void WriteObservation<TF, TI>(in PointGoalState<TF, TI> s, int e)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        TF state = s.State, obs = s.Obs;
        for (int i = 0; i < 4; i++) obs[4 * e + i] = state[4 * e + i];
    }
}

/// <summary>Resets every point-goal env to episode 0 and writes the first observation. One work item per env.</summary>
public struct PointGoalResetKernel<TF, TI> : IKernel
    where TF : struct, IView<float>
    where TI : struct, IView<int>
{
    public PointGoalParams P;
    public PointGoalState<TF, TI> S;

    public readonly void Execute(int e)
    {
        TF state = S.State;
        S.Log.Clear(e);
        PointGoal.BeginEpisode(P, S, e);
        S.Log.SetPosition(e, state[4 * e], state[4 * e + 1]);
        PointGoal.WriteObservation(S, e);
    }
}

/// <summary>
/// One point-goal step for every env: dynamics, reward r = (d - d') / Dt - w |a|^2 (Progress) or
/// -d' - w |a|^2 (NegativeDistance), the time cap, bookkeeping, reset, observation. One work item per env.
/// </summary>
public struct PointGoalStepKernel<TF, TI> : IKernel
    where TF : struct, IView<float>
    where TI : struct, IView<int>
{
    public PointGoalParams P;
    public PointGoalState<TF, TI> S;
    /// <summary>actions: (Envs, 2)</summary>
    public TF Actions;

    public readonly void Execute(int e)
    {
        TF actions = Actions, state = S.State, targets = S.Targets;

        float ax = actions[2 * e], ay = actions[2 * e + 1];
        if (!AntTask.IsFinite(ax)) ax = 0f;
        if (!AntTask.IsFinite(ay)) ay = 0f;
        ax = MathF.Min(1f, MathF.Max(-1f, ax));
        ay = MathF.Min(1f, MathF.Max(-1f, ay));
        float px = state[4 * e], py = state[4 * e + 1], vx = state[4 * e + 2], vy = state[4 * e + 3];
        float tx = targets[2 * e], ty = targets[2 * e + 1];
        float dBefore = MathF.Sqrt((px - tx) * (px - tx) + (py - ty) * (py - ty));
        vx += P.Dt * (P.ForceScale * ax - P.Damping * vx);
        vy += P.Dt * (P.ForceScale * ay - P.Damping * vy);
        px += P.Dt * vx;
        py += P.Dt * vy;
        state[4 * e] = px;
        state[4 * e + 1] = py;
        state[4 * e + 2] = vx;
        state[4 * e + 3] = vy;
        float dAfter = MathF.Sqrt((px - tx) * (px - tx) + (py - ty) * (py - ty));
        float task = P.GoalReward == GoalReward.Progress ? (dBefore - dAfter) / P.Dt : -dAfter;
        float reward = task - P.CtrlCostWeight * (ax * ax + ay * ay);

        int n = S.Log.CountStep(e);
        int done = n >= P.MaxSteps ? 1 : 0;
        float total = S.Log.Record(e, reward, done, px, py);
        if (done != 0)
        {
            S.Log.Finish(e, total, n, dAfter);
            PointGoal.BeginEpisode(P, S, e);
        }
        PointGoal.WriteObservation(S, e);
    }
}
