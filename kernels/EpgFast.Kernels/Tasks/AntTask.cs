using System.Runtime.CompilerServices;
using EpgFast.Kernels.Launch;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Random;

namespace EpgFast.Kernels.Tasks;

/// <summary>Which objective an Ant task optimizes.</summary>
public enum AntObjective
{
    /// <summary>Ant-v4: walk along +x.</summary>
    Forward = 0,
    /// <summary>GoalAnt: walk to a target the ant does not observe.</summary>
    Goal = 1,
}

/// <summary>How GoalAnt turns the distance to the target into reward.</summary>
public enum GoalReward
{
    /// <summary>(d_before - d_after) / dt: the speed toward the target (returns telescope to (d_0 - d_T) / dt).</summary>
    Progress = 0,
    /// <summary>-d_after: the negative distance after the step.</summary>
    NegativeDistance = 1,
}

/// <summary>
/// The constants of an Ant task (Ant-v4 forward walking or GoalAnt). Engine-agnostic: the kernels
/// read the physics state rows (qpos (Envs, Nq), qvel (Envs, Nv)) whatever engine wrote them.
/// qpos layout of the Ant: [x, y, z, qw, qx, qy, qz, 8 hinge angles]; qvel: [vx, vy, vz, wx, wy, wz, 8 hinge rates].
/// </summary>
public struct AntTaskParams
{
    public int Nq;
    public int Nv;
    public int Nu;
    /// <summary>First qpos index in the observation (2 for Ant-v4: x and y are left out; 0 keeps them).</summary>
    public int ObsQposStart;
    /// <summary>Observation width: Nq - ObsQposStart + Nv.</summary>
    public int ObsDim;
    public AntObjective Objective;
    public GoalReward GoalReward;
    /// <summary>Control period: physics timestep x frame skip (seconds).</summary>
    public float Dt;
    /// <summary>w in the control cost w * sum(a^2) over the clamped action.</summary>
    public float CtrlCostWeight;
    /// <summary>Added each step while healthy (or always, when TerminateWhenUnhealthy = 1, as Ant-v4 does).</summary>
    public float HealthyReward;
    public float HealthyZMin;
    public float HealthyZMax;
    /// <summary>1: the episode terminates when the torso z leaves [HealthyZMin, HealthyZMax].</summary>
    public int TerminateWhenUnhealthy;
    /// <summary>Episode length cap (truncation) in env steps.</summary>
    public int MaxSteps;
    /// <summary>
    /// Goal only; 0: off. When the torso ends a step within this xy distance of the target, the episode
    /// terminates as reached and that step's reward adds HealthyReward x the steps left to MaxSteps.
    /// </summary>
    public float ReachRadius;
    /// <summary>Actions are clamped to [CtrlLow, CtrlHigh] (the Ant's ctrlrange) before they reach the engine and the cost.</summary>
    public float CtrlLow;
    public float CtrlHigh;
    /// <summary>Reset: qpos = qpos0 + U(-ResetQposNoise, ResetQposNoise) per coordinate.</summary>
    public float ResetQposNoise;
    /// <summary>Reset: qvel = ResetQvelNoise * N(0, 1) per coordinate.</summary>
    public float ResetQvelNoise;
    /// <summary>1: renormalize the free joint's quaternion qpos[3..7) after the reset noise.</summary>
    public int NormalizeRootQuat;
    /// <summary>Where the reset noise comes from (seed and per-env streams).</summary>
    public EnvResetKey Reset;
}

/// <summary>Per-environment task state and outputs, shared by the Ant kernels (all views over Envs rows).</summary>
public struct AntTaskState<TF, TI>
    where TF : struct, IView<float>
    where TI : struct, IView<int>
{
    /// <summary>qpos0: (Nq), the model's initial configuration</summary>
    public TF Qpos0;
    /// <summary>targets: (Envs, 2), goal xy (unused by Forward)</summary>
    public TF Targets;
    /// <summary>prevXY: (Envs, 2), torso xy before the step in progress</summary>
    public TF PrevXY;
    /// <summary>startXY: (Envs, 2), torso xy at the start of the episode</summary>
    public TF StartXY;
    /// <summary>obs: (Envs, ObsDim)</summary>
    public TF Obs;
    /// <summary>terminals: (Envs), 1 when it ended by termination (unhealthy or non-finite), not by the time cap</summary>
    public TF Terminals;
    /// <summary>The episode bookkeeping (rewards, dones, positions, returns, lengths, counts).</summary>
    public EpisodeLog<TF, TI> Log;
}

/// <summary>The pieces every Ant kernel shares: reset sampling and the observation.</summary>
public static class AntTask
{
    /// <summary>Counter offset of the qvel normals in an episode's reset stream (qpos uniforms use 0..Nq-1).</summary>
    public const ulong VelocityCounterOffset = 1024;

    /// <summary>
    /// Samples episode <paramref name="episode"/>'s initial state of env <paramref name="e"/> into
    /// the qpos/qvel rows: qpos0 + U(-a, a), root quaternion renormalized, qvel = b N(0, 1).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SampleInitialState<TF>(in AntTaskParams p, TF qpos0, TF qpos, TF qvel, int e, int episode)
        where TF : struct, IView<float>
    {
        ulong stream = p.Reset.Stream(episode, e);
        int qb = e * p.Nq;
        for (int i = 0; i < p.Nq; i++)
        {
            float u = Philox.UniformAt(p.Reset.Seed, stream, (ulong)i);
            qpos[qb + i] = qpos0[i] + p.ResetQposNoise * (2f * u - 1f);
        }
        if (p.NormalizeRootQuat != 0)
        {
            float w = qpos[qb + 3], x = qpos[qb + 4], y = qpos[qb + 5], z = qpos[qb + 6];
            float inv = 1f / MathF.Sqrt(w * w + x * x + y * y + z * z);
            qpos[qb + 3] = w * inv;
            qpos[qb + 4] = x * inv;
            qpos[qb + 5] = y * inv;
            qpos[qb + 6] = z * inv;
        }
        int vb = e * p.Nv;
        for (int i = 0; i < p.Nv; i++)
            qvel[vb + i] = p.ResetQvelNoise * Philox.NormalAt(p.Reset.Seed, stream, VelocityCounterOffset + (ulong)i);
    }

    /// <summary>obs row e = qpos[e, ObsQposStart:] ++ qvel[e, :].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteObservation<TF>(in AntTaskParams p, TF qpos, TF qvel, TF obs, int e)
        where TF : struct, IView<float>
    {
        int o = e * p.ObsDim;
        int qb = e * p.Nq;
        for (int i = p.ObsQposStart; i < p.Nq; i++) obs[o++] = qpos[qb + i];
        int vb = e * p.Nv;
        for (int i = 0; i < p.Nv; i++) obs[o++] = qvel[vb + i];
    }

    /// <summary>Starts episode Episodes[e] of env e: samples the state, flags it for the engine, records the start.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void BeginEpisode<TF, TI>(in AntTaskParams p, in AntTaskState<TF, TI> s, TF qpos, TF qvel, TI resetFlags, int e)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        TF startXY = s.StartXY;
        SampleInitialState(p, s.Qpos0, qpos, qvel, e, s.Log.Episodes[e]);
        resetFlags[e] = 1;
        startXY[2 * e] = qpos[e * p.Nq];
        startXY[2 * e + 1] = qpos[e * p.Nq + 1];
        s.Log.BeginEpisode(e);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsFinite(float v) => !float.IsNaN(v) && !float.IsInfinity(v);
}

/// <summary>
/// Resets every environment to episode 0 (Reset(seed) of the env batch): clears the episode
/// bookkeeping, samples the initial state into the qpos/qvel rows, sets ResetFlags and writes the
/// first observation. The engine loads the rows at its next Sync/Step. One work item per env.
/// </summary>
public struct AntResetKernel<TF, TI> : IKernel
    where TF : struct, IView<float>
    where TI : struct, IView<int>
{
    public AntTaskParams P;
    public AntTaskState<TF, TI> S;
    /// <summary>qpos: (Envs, Nq)</summary>
    public TF Qpos;
    /// <summary>qvel: (Envs, Nv)</summary>
    public TF Qvel;
    /// <summary>resetFlags: (Envs)</summary>
    public TI ResetFlags;

    public readonly void Execute(int e)
    {
        TF terminals = S.Terminals, prev = S.PrevXY;
        S.Log.Clear(e);
        terminals[e] = 0f;
        AntTask.BeginEpisode(P, S, Qpos, Qvel, ResetFlags, e);
        TF qpos = Qpos;
        S.Log.SetPosition(e, qpos[e * P.Nq], qpos[e * P.Nq + 1]);
        prev[2 * e] = qpos[e * P.Nq];
        prev[2 * e + 1] = qpos[e * P.Nq + 1];
        AntTask.WriteObservation(P, Qpos, Qvel, S.Obs, e);
    }
}

/// <summary>
/// Before the engine steps: the policy's actions become the engine's controls, clamped to
/// [CtrlLow, CtrlHigh] (non-finite actions become 0), and the torso xy is remembered for the
/// reward. One work item per env.
/// </summary>
public struct AntActKernel<TF, TI> : IKernel
    where TF : struct, IView<float>
    where TI : struct, IView<int>
{
    public AntTaskParams P;
    /// <summary>actions: (Envs, Nu)</summary>
    public TF Actions;
    /// <summary>ctrl: (Envs, Nu), the engine's control rows</summary>
    public TF Ctrl;
    /// <summary>qpos: (Envs, Nq)</summary>
    public TF Qpos;
    /// <summary>prevXY: (Envs, 2)</summary>
    public TF PrevXY;

    public readonly void Execute(int e)
    {
        TF actions = Actions, ctrl = Ctrl, qpos = Qpos, prev = PrevXY;
        int b = e * P.Nu;
        for (int u = 0; u < P.Nu; u++)
        {
            float a = actions[b + u];
            if (!AntTask.IsFinite(a)) a = 0f;
            ctrl[b + u] = MathF.Min(P.CtrlHigh, MathF.Max(P.CtrlLow, a));
        }
        prev[2 * e] = qpos[e * P.Nq];
        prev[2 * e + 1] = qpos[e * P.Nq + 1];
    }
}

/// <summary>
/// After the engine stepped: reward, termination and truncation, episode bookkeeping, the reset
/// of finished episodes (new state rows + ResetFlags, loaded by the engine at its next step), and
/// the observation (the next episode's first one where an episode ended). One work item per env.
/// <para>
/// Forward (Ant-v4): r = (x' - x) / Dt + HealthyReward - w |a|^2, where the healthy reward is paid
/// every step when TerminateWhenUnhealthy = 1 (as Gymnasium does) and otherwise only while healthy.
/// Goal: r = (d - d') / Dt - w |a|^2 (Progress) or -d' - w |a|^2 (NegativeDistance), d = |torso xy - target|,
/// plus the healthy term as above. a is the clamped action. Healthy: qpos/qvel finite and
/// HealthyZMin &lt;= z &lt;= HealthyZMax. Terminated: non-finite state, or unhealthy when
/// TerminateWhenUnhealthy = 1; a non-finite step's reward is 0. Truncated: MaxSteps steps.
/// Reached (Goal, ReachRadius &gt; 0, finite and not unhealthy-terminated): d' &lt;= ReachRadius terminates
/// the episode, and its last reward adds HealthyReward (MaxSteps - n), n the steps taken, so that
/// reaching pays what living to the cap would.
/// </para>
/// </summary>
public struct AntStepKernel<TF, TI> : IKernel
    where TF : struct, IView<float>
    where TI : struct, IView<int>
{
    public AntTaskParams P;
    public AntTaskState<TF, TI> S;
    /// <summary>qpos: (Envs, Nq)</summary>
    public TF Qpos;
    /// <summary>qvel: (Envs, Nv)</summary>
    public TF Qvel;
    /// <summary>ctrl: (Envs, Nu), the clamped controls of this step</summary>
    public TF Ctrl;
    /// <summary>resetFlags: (Envs)</summary>
    public TI ResetFlags;

    public readonly void Execute(int e)
    {
        TF qpos = Qpos, qvel = Qvel, ctrl = Ctrl;
        TF prev = S.PrevXY, targets = S.Targets, terminals = S.Terminals, startXY = S.StartXY;

        int qb = e * P.Nq, vb = e * P.Nv, ub = e * P.Nu;
        int finite = 1;
        for (int i = 0; i < P.Nq; i++) if (!AntTask.IsFinite(qpos[qb + i])) finite = 0;
        for (int i = 0; i < P.Nv; i++) if (!AntTask.IsFinite(qvel[vb + i])) finite = 0;
        float x = qpos[qb], y = qpos[qb + 1], z = qpos[qb + 2];
        float px = prev[2 * e], py = prev[2 * e + 1];
        int healthy = finite != 0 && z >= P.HealthyZMin && z <= P.HealthyZMax ? 1 : 0;

        float ctrlCost = 0f;
        for (int u = 0; u < P.Nu; u++)
        {
            float a = ctrl[ub + u];
            ctrlCost += a * a;
        }
        ctrlCost *= P.CtrlCostWeight;

        float tx = targets[2 * e], ty = targets[2 * e + 1];
        float dAfter = MathF.Sqrt((x - tx) * (x - tx) + (y - ty) * (y - ty));
        float task;
        if (P.Objective == AntObjective.Forward)
        {
            task = (x - px) / P.Dt;
        }
        else
        {
            float dBefore = MathF.Sqrt((px - tx) * (px - tx) + (py - ty) * (py - ty));
            task = P.GoalReward == GoalReward.Progress ? (dBefore - dAfter) / P.Dt : -dAfter;
        }
        float healthyReward = healthy != 0 || P.TerminateWhenUnhealthy != 0 ? P.HealthyReward : 0f;
        float reward = finite != 0 ? task + healthyReward - ctrlCost : 0f;

        int terminated = finite == 0 || (P.TerminateWhenUnhealthy != 0 && healthy == 0) ? 1 : 0;
        int n = S.Log.CountStep(e);
        if (terminated == 0 && P.Objective == AntObjective.Goal && P.ReachRadius > 0f && dAfter <= P.ReachRadius)
        {
            terminated = 1;
            if (n < P.MaxSteps) reward += P.HealthyReward * (P.MaxSteps - n);
        }
        int done = terminated != 0 || n >= P.MaxSteps ? 1 : 0;
        float total = S.Log.Record(e, reward, done, x, y);
        terminals[e] = terminated;

        if (done != 0)
        {
            S.Log.Finish(e, total, n, P.Objective == AntObjective.Forward ? x - startXY[2 * e] : dAfter);
            AntTask.BeginEpisode(P, S, qpos, qvel, ResetFlags, e);
        }
        AntTask.WriteObservation(P, qpos, qvel, S.Obs, e);
    }
}
