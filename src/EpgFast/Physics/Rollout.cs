using System.Globalization;
using System.Text;
using EpgFast.Backends;
using EpgFast.Models;
using EpgFast.Runs;

namespace EpgFast.Physics;

/// <summary>
/// A replayed trajectory: row 0 is the initial state, row t the state after env step t.
/// </summary>
/// <param name="Nq">Position coordinates per row.</param>
/// <param name="Nv">Velocity coordinates per row.</param>
/// <param name="Qpos">qpos: (Steps + 1, Nq)</param>
/// <param name="Qvel">qvel: (Steps + 1, Nv)</param>
/// <param name="Float64">True when the values are the engine's float64 state (MuJoCo's mjData); false when float32 (the kernel simulator).</param>
/// <param name="FrameSkip">Physics steps per env step.</param>
/// <param name="Timestep">Physics timestep in seconds.</param>
/// <param name="HasFreeRoot">True when qpos[0..7] is a free joint (torso position and quaternion).</param>
public sealed record RolloutTrajectory(int Nq, int Nv, double[] Qpos, double[] Qvel, bool Float64, int FrameSkip, double Timestep, bool HasFreeRoot)
{
    /// <summary>Env steps replayed (rows minus the initial one).</summary>
    public int Steps => Qpos.Length / Nq - 1;

    /// <summary>Simulated time of row <paramref name="t"/> in seconds.</summary>
    public double Time(int t) => t * FrameSkip * Timestep;

    /// <summary>qpos[row, i].</summary>
    public double Q(int row, int i) => Qpos[row * Nq + i];
}

/// <summary>
/// `epg rollout`'s engine side: replays an action sequence on one world of any
/// <see cref="IPhysicsBatch"/> from the model's qpos0 at rest, and writes/reads the trajectory CSV.
/// </summary>
public static class Rollout
{
    /// <summary>
    /// Replays <paramref name="actions"/> (steps, Nu) on environment 0 of <paramref name="batch"/>
    /// (which must hold exactly one environment): loads qpos0 with zero velocity through
    /// ResetFlags + Sync, then for each row writes Ctrl (the engines clamp to ctrlrange) and
    /// steps <paramref name="frameSkip"/> physics steps. MuJoCo's rows are its float64 mjData
    /// state; the kernel simulator's are its float32 state. <paramref name="afterStep"/>, if
    /// given, runs after each env step with the step number (1-based), for diagnostics.
    /// </summary>
    public static RolloutTrajectory Run(IPhysicsBatch batch, ReadOnlySpan<float> actions, int frameSkip, Action<int>? afterStep = null)
    {
        if (batch.Envs != 1) throw new ArgumentException($"a rollout replays one world (got {batch.Envs})", nameof(batch));
        if (frameSkip < 1) throw new EpgException($"--frame-skip must be at least 1 (got {frameSkip})", 2);
        int nq = batch.Nq, nv = batch.Nv, nu = batch.Nu;
        if (nu == 0 ? actions.Length != 0 : actions.Length % nu != 0)
            throw new ArgumentException($"actions length {actions.Length} is not a multiple of nu {nu}", nameof(actions));
        int steps = nu == 0 ? 0 : actions.Length / nu;
        var qpos = new double[(steps + 1) * nq]; // qpos: (steps + 1, nq)
        var qvel = new double[(steps + 1) * nv]; // qvel: (steps + 1, nv)
        var mujoco = batch as MuJoCoPhysics;

        batch.Qpos.CopyFrom(batch.Qpos0);
        batch.Qvel.CopyFrom(new float[nv]);
        batch.ResetFlags.CopyFrom([1]);
        batch.Sync();
        Record(batch, mujoco, 0, qpos, qvel);
        for (int t = 0; t < steps; t++)
        {
            batch.Ctrl.CopyFrom(actions.Slice(t * nu, nu));
            batch.Step(frameSkip);
            Record(batch, mujoco, t + 1, qpos, qvel);
            afterStep?.Invoke(t + 1);
        }
        return new RolloutTrajectory(nq, nv, qpos, qvel, mujoco is not null, frameSkip, batch.Timestep, HasFreeRoot(batch));
    }

    private static void Record(IPhysicsBatch batch, MuJoCoPhysics? mujoco, int row, double[] qpos, double[] qvel)
    {
        int nq = batch.Nq, nv = batch.Nv;
        if (mujoco is not null)
        {
            var data = mujoco.Batch[0];
            data.Qpos.CopyTo(qpos.AsSpan(row * nq, nq));
            data.Qvel.CopyTo(qvel.AsSpan(row * nv, nv));
            return;
        }
        batch.Device.Synchronize();
        var q = batch.Qpos.ToArray();
        var v = batch.Qvel.ToArray();
        for (int i = 0; i < nq; i++) qpos[row * nq + i] = q[i];
        for (int i = 0; i < nv; i++) qvel[row * nv + i] = v[i];
    }

    /// <summary>True when the model's first joint is a free joint at qpos[0..7] (the torso).</summary>
    public static bool HasFreeRoot(IPhysicsBatch batch) => batch switch
    {
        KernelPhysics k => k.Model.Joints.Count > 0 && k.Model.Joints[0].Type == JointType.Free && k.Model.Joints[0].QposAdr == 0,
        MuJoCoPhysics m => m.Model.Njnt > 0 && m.Model.JointType[0] == 0, // mjJNT_FREE; joint 0's qposadr is 0
        _ => false,
    };

    /// <summary>The CSV header: step,qpos0,...,qpos{nq-1},qvel0,...,qvel{nv-1}.</summary>
    public static string Header(int nq, int nv)
    {
        var sb = new StringBuilder("step");
        for (int i = 0; i < nq; i++) sb.Append(",qpos").Append(i);
        for (int i = 0; i < nv; i++) sb.Append(",qvel").Append(i);
        return sb.ToString();
    }

    /// <summary>
    /// The trajectory as CSV text: <see cref="Header"/>, then one row per state in shortest
    /// round-trip formatting of the stored precision (float64 for MuJoCo, float32 for the kernel
    /// simulator), invariant culture.
    /// </summary>
    public static string ToCsv(RolloutTrajectory traj)
    {
        var sb = new StringBuilder(Header(traj.Nq, traj.Nv)).Append('\n');
        var inv = CultureInfo.InvariantCulture;
        void Cell(double x) => sb.Append(',').Append(traj.Float64 ? x.ToString("R", inv) : ((float)x).ToString("R", inv));
        for (int t = 0; t <= traj.Steps; t++)
        {
            sb.Append(t.ToString(inv));
            for (int i = 0; i < traj.Nq; i++) Cell(traj.Qpos[t * traj.Nq + i]);
            for (int i = 0; i < traj.Nv; i++) Cell(traj.Qvel[t * traj.Nv + i]);
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>Writes <see cref="ToCsv"/> to <paramref name="path"/> atomically (creating its folder).</summary>
    public static void WriteCsv(string path, RolloutTrajectory traj)
    {
        string? dir = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        AtomicFile.WriteAllText(path, ToCsv(traj));
    }

    /// <summary>Reads a trajectory CSV back: the header's column names and the rows (rows, columns) as float64, step column included.</summary>
    internal static (string[] Columns, double[][] Rows) ReadCsv(string path)
    {
        var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToArray();
        if (lines.Length == 0) throw new EpgException($"{path}: empty trajectory file");
        var columns = lines[0].Split(',');
        var rows = new double[lines.Length - 1][];
        for (int r = 1; r < lines.Length; r++)
        {
            var cells = lines[r].Split(',');
            if (cells.Length != columns.Length) throw new EpgException($"{path} line {r + 1}: expected {columns.Length} values, got {cells.Length}");
            rows[r - 1] = cells.Select(c => double.Parse(c, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray();
        }
        return (columns, rows);
    }
}
