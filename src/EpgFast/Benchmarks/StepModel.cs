using EpgFast.Kernels.Learners;
using System.Globalization;
using System.Text;
using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;
using EpgFast.Kernels.Physics;
using EpgFast.Models;
using EpgFast.MuJoCo;
using EpgFast.Networks;
using EpgFast.Physics;

namespace EpgFast.Benchmarks;

/// <summary>
/// A CPU view over a managed array that counts its reads and writes per view id (single-threaded use only): runs a
/// kernel's own source to count its memory accesses (<see cref="StepModel.CountPhysics"/>).
/// </summary>
public readonly struct CountingView<T> : IView<T> where T : unmanaged
{
    private readonly T[] _data;
    private readonly int _id;

    /// <summary>Reads and writes by view id (ids 0..7).</summary>
    public static readonly long[] Reads = new long[8], Writes = new long[8];

    /// <summary>Distinct elements of view id 0 touched since the last <see cref="NewEpoch"/> (per-epoch stamps over an index range).</summary>
    public static long Distinct;
    private static int[] _stamp = [];
    private static int _epoch;

    /// <summary>Starts counting distinct elements of view id 0 afresh (indices below <paramref name="length"/>).</summary>
    public static void NewEpoch(int length)
    {
        if (_stamp.Length < length) _stamp = new int[length];
        _epoch++;
    }

    private void Touch(int index)
    {
        if (_id != 0 || (uint)index >= (uint)_stamp.Length || _stamp[index] == _epoch) return;
        _stamp[index] = _epoch;
        Distinct++;
    }

    public CountingView(T[] data, int id)
    {
        _data = data;
        _id = id;
    }

    public T this[int index]
    {
        get
        {
            Reads[_id]++;
            Touch(index);
            return _data[index];
        }
        set
        {
            Writes[_id]++;
            Touch(index);
            _data[index] = value;
        }
    }

    public int Length => _data.Length;

    public static void ResetCounts()
    {
        Array.Clear(Reads);
        Array.Clear(Writes);
        Distinct = 0;
    }
}

/// <summary>What one Ant physics step (the kernel simulator's PhysicsStep.Run) touches, counted by running the kernel's source.</summary>
/// <param name="ScratchAccesses">reads + writes of the per-environment scratch, per physics step</param>
/// <param name="ModelAccesses">reads of the model's floats and ints (the same for every environment: cached), per physics step</param>
/// <param name="ScratchFloats">the scratch's size per environment</param>
/// <param name="WorkingSetFloats">distinct scratch floats one env step (5 physics steps) of one environment touches, on average</param>
/// <param name="Rows">mean constraint rows of a step</param>
/// <param name="Sweeps">mean velocity sweeps of a step</param>
/// <param name="Steps">physics steps counted</param>
/// <param name="Nq">the model's nq</param>
/// <param name="Nv">the model's nv</param>
/// <param name="Nu">the model's nu</param>
public sealed record PhysicsCounts(double ScratchAccesses, double ModelAccesses, int ScratchFloats, double WorkingSetFloats, double Rows, double Sweeps, long Steps, int Nq, int Nv, int Nu);

/// <summary>One kernel of the learner step in the model: launches per learner step and, per learner, work items, flops and device bytes per launch.</summary>
/// <param name="Name">kernel (and which launch)</param>
/// <param name="Kernel">the kernel's struct name, to find its ptxas row</param>
/// <param name="CallsPerStep">launches per learner step (1 every step; k / M for k launches per update)</param>
/// <param name="ThreadsPerLearner">GPU threads per learner in one launch</param>
/// <param name="Flops">flops per learner per launch</param>
/// <param name="Bytes">device-memory bytes per learner per launch</param>
/// <param name="Note">where the count comes from</param>
/// <param name="WorkingSetBytes">per-thread scratch a launch keeps re-reading (physics): on chip while the resident threads' share fits L2</param>
/// <param name="SpillBytes">device bytes per learner added when it does not fit: the working set read and written back once</param>
/// <param name="SerialAccesses">memory accesses one thread makes in order (physics: its scratch), each waiting on the L1 (see <see cref="StepModel.SerialTime"/>)</param>
public sealed record ModelKernel(string Name, string Kernel, double CallsPerStep, double ThreadsPerLearner, double Flops, double Bytes, string Note,
    double WorkingSetBytes = 0, double SpillBytes = 0, double SerialAccesses = 0);

/// <summary>
/// A performance model on paper of one learner step on an H100 (the GPU path, lean learners at the `gpu` preset's sizes):
/// per kernel the flops and device bytes per launch counted from the code, then for L learners
/// t = max(F L / (P fill), B L / (BW fill)) per launch, fill = min(1, threads / SaturatingThreads, occupancy x 64 / 16),
/// plus a launch overhead per launch and a host synchronization per env step and two per update.
/// </summary>
public static class StepModel
{
    public const double PeakFlops = 60e12;          // fp32, H100 SXM (round figure; NVIDIA lists 67 TFLOP/s)
    public const double PeakBytes = 3e12;           // HBM3, ~3 TB/s (round figure; NVIDIA lists 3.35 TB/s)
    public const int Sms = 132;
    /// <summary>Threads that saturate the device: 4 warps per scheduler (4 per SM), enough to cover a 4-cycle dependent FMA.</summary>
    public const double SaturatingThreads = Sms * 4 * 4 * 32;
    public const double LaunchSeconds = 4e-6;       // one kernel launch on the stream (assumed: CUDA + ILGPU dispatch)
    public const double SyncSeconds = 10e-6;        // one host synchronization (assumed)
    public const int FrameSkip = 5;
    public const double L2Bytes = 50e6;
    /// <summary>SM clock implied by the peak: 60 TFLOP/s / (132 SMs x 128 lanes x 2).</summary>
    public const double ClockHz = PeakFlops / (Sms * 128 * 2);
    /// <summary>Cycles a load that hits the L1 takes (assumed, Hopper's order of magnitude).</summary>
    public const double L1LatencyCycles = 33;
    /// <summary>Independent accesses one thread keeps in flight in its serial code (assumed).</summary>
    public const double AccessesInFlight = 2;

    /// <summary>
    /// Counts one Ant physics step's memory accesses by running PhysicsStepKernel's source over counting views:
    /// <paramref name="envs"/> environments from qpos0 under uniform random controls, <paramref name="warmup"/> env steps
    /// (of 5 physics steps), then <paramref name="steps"/> env steps counted; rows and sweeps from the kernel's diagnostics.
    /// </summary>
    public static PhysicsCounts CountPhysics(int envs = 64, int warmup = 50, int steps = 50, int seed = 1)
    {
        PhysicsModel model;
        KernelPhysicsModel packed;
        using (var cpu = new CpuDevice(1))
        using (var k = new KernelPhysics(cpu, MuJoCoModels.AntPath, 1))
        {
            model = k.Model;
            packed = k.Packed;
        }
        var dims = packed.ForBatch(envs, structureOfArrays: true);
        var qpos0 = model.Qpos0.Select(x => (float)x).ToArray();
        var qpos = new float[envs * model.Nq];
        for (int e = 0; e < envs; e++) Array.Copy(qpos0, 0, qpos, e * model.Nq, model.Nq);
        var ctrl = new float[envs * model.Nu];
        var diag = new float[envs * SimDims.DiagSize];
        var kernel = new PhysicsStepKernel<CountingView<float>, CountingView<int>>
        {
            Model = new SimModel<CountingView<float>, CountingView<int>>
            {
                MF = new CountingView<float>(packed.Floats, 1), MI = new CountingView<int>(packed.Ints, 1), D = dims,
            },
            Scratch = new CountingView<float>(new float[dims.ScratchLength(envs)], 0),
            Qpos = new CountingView<float>(qpos, 2),
            Qvel = new CountingView<float>(new float[envs * model.Nv], 2),
            Ctrl = new CountingView<float>(ctrl, 2),
            Reset = new CountingView<int>(Enumerable.Repeat(1, envs).ToArray(), 2),
            Diag = new CountingView<float>(diag, 3),
            FrameSkip = FrameSkip,
            Diagnose = 1,
        };
        var rng = new Random(seed);
        double rows = 0, sweeps = 0;
        for (int t = 0; t < warmup + steps; t++)
        {
            if (t == warmup)
            {
                CountingView<float>.ResetCounts();
                CountingView<int>.ResetCounts();
            }
            for (int i = 0; i < ctrl.Length; i++) ctrl[i] = (float)(2 * rng.NextDouble() - 1);
            for (int e = 0; e < envs; e++)
            {
                CountingView<float>.NewEpoch((int)dims.ScratchLength(envs));
                kernel.Execute(e);
            }
            if (t >= warmup)
            {
                for (int e = 0; e < envs; e++)
                {
                    rows += diag[e * SimDims.DiagSize + SimDims.DiagRows];
                    sweeps += diag[e * SimDims.DiagSize + SimDims.DiagSweeps];
                }
            }
        }
        long physicsSteps = (long)envs * steps * FrameSkip;
        double scratch = CountingView<float>.Reads[0] + CountingView<float>.Writes[0];
        double modelAccesses = CountingView<float>.Reads[1] + CountingView<int>.Reads[1];
        return new PhysicsCounts(scratch / physicsSteps, modelAccesses / physicsSteps, dims.ScratchSize, CountingView<float>.Distinct / ((double)envs * steps),
            rows / ((double)envs * steps), sweeps / ((double)envs * steps), physicsSteps, model.Nq, model.Nv, model.Nu);
    }

    /// <summary>The kernels of one learner step with their counts per learner (see the notes for each count's source).</summary>
    public static IReadOnlyList<ModelKernel> Kernels(NetworkConfig c, int learnersPerMember, PhysicsCounts physics)
    {
        var layout = new LearnerLayout(c);
        var pol = layout.Policy;
        double o = c.Obs, a = c.Act, d = c.TrajDim, n = c.BufferRows, m = c.ActSteps, mb = c.Minibatch, stride = layout.Stride;
        double polParams = pol.In * pol.H1 + pol.H1 * pol.H2 + pol.H2 * pol.Out + pol.H1 + pol.H2 + pol.Out;
        double perUpdate = 1 / m, perMinibatch = (m / mb) / m;
        var loss = new LossLayout(c);
        double conv0W = (loss.TrajDim + c.Act) * c.Conv0Kernel * c.Conv0Channels, conv1W = c.Conv1Kernel * c.Conv0Channels * c.Conv1Channels;
        var bwd = PolicyGroupBackward.Shape(pol, 1, c.BufferRows, c.TrajDim, 0);
        var fwd = PolicyGroupForward.Shape(pol, 1, c.BufferRows, c.TrajDim, 0);
        // physics: ~2 flops per 3 scratch accesses (the solver's inner loops: AddColumn 2 loads + 1 store per multiply-add,
        // the Delassus dot product 2 loads per multiply-add); state in and out once per launch; the model is cached
        double physFlops = FrameSkip * physics.ScratchAccesses * 2 / 3;
        double physState = 4 * (2 * (physics.Nq + physics.Nv) + physics.Nu + 1);
        const double f4 = 4;
        return
        [
            // ---- every step: acting
            new("NormalizeKernel (obs)", "NormalizeKernel", 1, 1, 8 * o, f4 * (o + 2 * o + 1 + o), "per column: mean, var, clamp, sqrt, (x - mean) / std; reads obs and sum, sum2, count, writes obs"),
            new("PolicyGroupForwardKernel (acting, 1 row)", "PolicyGroupForwardKernel", 1, PolicyGroupForward.DefaultThreads, 2 * (o * pol.H1 + pol.H1 * pol.H2 + pol.H2 * pol.Out) + 2 * pol.H1 + 2 * pol.H2 + pol.Out,
                f4 * (polParams + o + pol.Out), "2 In Out per layer + bias + tanh; stages W, b once per learner and reads x, writes y (1 row)"),
            new("GaussianSampleKernel", "GaussianSampleKernel", 1, 1, 25 * a, f4 * 3 * a, "Box-Muller + mean + exp(log-std) noise per action (Philox's integer work not counted); reads mean, log-std, writes actions"),
            new("RecordActionKernel", "RecordActionKernel", 1, 1, 0, f4 * 2 * (o + a), "copies obs and action into the buffer row"),
            new("AntActKernel", "AntActKernel", 1, 1, 2 * a, f4 * (2 * a + 4), "clamps actions into ctrl, keeps the torso xy"),
            new("PhysicsStepKernel (5 physics steps)", "PhysicsStepKernel", 1, 1, physFlops, physState,
                $"{physics.ScratchAccesses:F0} scratch accesses per physics step (counted), flops ~2/3 of them; state in and out; + {4 * 2 * physics.WorkingSetFloats:F0} B (working set in and out) where the resident envs' working sets exceed L2",
                WorkingSetBytes: 4 * physics.WorkingSetFloats, SpillBytes: 4 * 2 * physics.WorkingSetFloats, SerialAccesses: FrameSkip * physics.ScratchAccesses),
            new("AntStepKernel", "AntStepKernel", 1, 1, 60, f4 * (physics.Nq + physics.Nv + a + 4 + o + 8), "reward, done, obs; reads qpos, qvel, ctrl, target, prev xy, writes obs, reward, done, returns"),
            new("RecordOutcomeKernel", "RecordOutcomeKernel", 1, 1, 2, f4 * 10, "reward, done, progress into the row; episode bookkeeping"),
            // ---- every M steps: the update
            new("NormalizerSnapshotKernel", "NormalizerSnapshotKernel", perUpdate, d, 6 * d, f4 * d * 5, "mean and std per column; reads sum, sum2, count, writes old mean, std"),
            new("NormalizerUpdateKernel", "NormalizerUpdateKernel", perUpdate, d, 3 * m * d, f4 * d * (m + 5), "sum and sum2 over the M new rows per column"),
            new("TrajAdvanceKernel", "TrajAdvanceKernel", perUpdate, d, 4 * n * d, f4 * 2 * n * d, "re-normalizes all N rows in place (read + write)"),
            new("PolicyGroupForwardKernel (N rows)", "PolicyGroupForwardKernel", perUpdate, fwd.TilesPerLearner * PolicyGroupForward.DefaultThreads, fwd.ForwardFlops,
                f4 * (n * o + polParams + n * a), "PolicyGroupShape.ForwardFlops; reads x rows and the weights once (the 8 groups of a learner share them in L2), writes the mean"),
            new("PermutationKernel", "PermutationKernel", perUpdate, 1, 0, f4 * m, "Philox shuffle (integer work); writes M indices"),
            new("LossConv0TransposeKernel", "LossConv0TransposeKernel", perMinibatch, conv0W / learnersPerMember, 0, f4 * 2 * conv0W / learnersPerMember, "phi's conv0 weights transposed, once per ES member (per learner: / learners per member)"),
            new("LossConv1TransposeKernel", "LossConv1TransposeKernel", perMinibatch, 1.0 * c.Conv1Kernel * c.Conv0Channels / learnersPerMember, 0, f4 * 3 * conv1W / learnersPerMember, "conv1's weights in two orders, once per ES member"),
            new("LossGroupKernel", "LossGroupKernel", perMinibatch, LossGroup.DefaultThreads, loss.FlopsPerLearner,
                f4 * (n * d + n * a + 2 * n * a + mb + c.MemoryUnits + a), "LossLayout.FlopsPerLearner; reads the buffer and the mean (N rows), adds into dMean; phi shared by a member (L2)"),
            new("memset dMean", "", perMinibatch, 0, 0, f4 * n * a, "DMean.Clear before each minibatch"),
            new("memset dMem", "", perMinibatch, 0, 0, f4 * c.MemoryUnits, "DMem.Clear before each minibatch"),
            new("PolicyGroupBackwardKernel (N rows, recompute)", "PolicyGroupBackwardKernel", perMinibatch, PolicyGroupBackward.DefaultThreads, bwd.Flops,
                f4 * (n * o + n * a + polParams + 2 * polParams), "PolicyBackwardShape.Flops (backward + recomputed forward); reads x, dMean, the weights, adds into g"),
            new("AdamGuardKernel", "AdamGuardKernel", perMinibatch, 1, 2 * stride, f4 * stride, "NaN probe over g (one thread per learner)"),
            new("AdamUpdateKernel", "AdamUpdateKernel", perMinibatch, stride, 12 * stride, f4 * 8 * stride, "AdamBatch.Flops; reads and writes p, m, v and g (cleared)"),
            new("TrajShiftKernel", "TrajShiftKernel", perUpdate, d, 0, f4 * 2 * (n - m) * d, "moves N - M rows up by M"),
            new("QuarantineKernel", "QuarantineKernel", perUpdate, 1, stride, f4 * stride, "finite check over p (one thread per learner)"),
        ];
    }

    /// <summary>Predicted seconds of one launch of <paramref name="k"/> for <paramref name="learners"/> learners at <paramref name="occupancy"/>.</summary>
    public static (double Seconds, string Bound) LaunchTime(ModelKernel k, int learners, double occupancy)
    {
        double threads = k.ThreadsPerLearner * learners;
        double fill = k.ThreadsPerLearner == 0 ? 1 : Math.Min(1, Math.Min(threads / SaturatingThreads, occupancy * 64 / 16));
        double bytes = k.Bytes + (SpillsL2(k, learners, occupancy) ? k.SpillBytes : 0);
        double tf = k.Flops * learners / (PeakFlops * fill), tb = bytes * learners / (PeakBytes * fill), ts = SerialTime(k, learners, occupancy);
        string bound = (ts >= Math.Max(tf, tb) ? "latency" : tf >= tb ? "flops" : "bytes") + (fill < 1 ? $", {fill * 100:F0}% fill" : "");
        return (Math.Max(ts, Math.Max(tf, tb)), bound);
    }

    /// <summary>
    /// The serial bound: each thread's in-order accesses at <see cref="L1LatencyCycles"/> with <see cref="AccessesInFlight"/>
    /// in flight, once per wave of resident threads.
    /// </summary>
    public static double SerialTime(ModelKernel k, int learners, double occupancy)
    {
        if (k.SerialAccesses == 0) return 0;
        double waves = Math.Ceiling(learners * k.ThreadsPerLearner / ResidentThreads(occupancy));
        return waves * k.SerialAccesses * L1LatencyCycles / (AccessesInFlight * ClockHz);
    }

    /// <summary>Threads resident on the device at <paramref name="occupancy"/>.</summary>
    public static double ResidentThreads(double occupancy) => Sms * occupancy * 2048;

    /// <summary>Whether the resident threads' working sets of <paramref name="k"/> exceed the L2 cache.</summary>
    public static bool SpillsL2(ModelKernel k, int learners, double occupancy)
        => k.WorkingSetBytes > 0 && Math.Min(learners * k.ThreadsPerLearner, ResidentThreads(occupancy)) * k.WorkingSetBytes > L2Bytes;

    /// <summary>Host synchronizations per learner step: one per env step (AntEnvBatch.StepT), two per update.</summary>
    public static double SyncsPerStep(NetworkConfig c) => 1 + 2.0 / c.ActSteps;

    /// <summary>The model as markdown: the counts per kernel, then per learner count the predicted time of each kernel and the totals.</summary>
    public static string Report(NetworkConfig c, int learnersPerMember, PhysicsCounts physics, IReadOnlyDictionary<string, double> occupancy, int[] learnerCounts)
    {
        var inv = CultureInfo.InvariantCulture;
        var kernels = Kernels(c, learnersPerMember, physics);
        double Occ(ModelKernel k) => occupancy.TryGetValue(k.Kernel, out var v) ? v : 1;
        var sb = new StringBuilder();
        string F(double x) => x >= 1e6 ? string.Create(inv, $"{x / 1e6:F2}M") : x >= 1e3 ? string.Create(inv, $"{x / 1e3:F1}k") : string.Create(inv, $"{x:F0}");
        sb.AppendLine(string.Create(inv, $"Model: H100, {PeakFlops / 1e12:F0} TFLOP/s fp32, {PeakBytes / 1e12:F0} TB/s; a launch is t = max(F L / (P fill), B L / (BW fill)), fill = min(1, threads / {SaturatingThreads:F0}, occupancy x 64 / 16);"));
        sb.AppendLine(string.Create(inv, $"physics also t >= its serial scratch accesses x {L1LatencyCycles:F0} cycles / {AccessesInFlight:F0} in flight at {ClockHz / 1e9:F2} GHz per wave of resident threads; each launch costs at least {LaunchSeconds * 1e6:F0} us (issue), each host synchronization {SyncSeconds * 1e6:F0} us ({SyncsPerStep(c):F3} per learner step). Sizes: obs {c.Obs}, act {c.Act}, row {c.TrajDim}, N = {c.BufferRows}, M = {c.ActSteps}, minibatch {c.Minibatch}, lean learners, {learnersPerMember} learners per ES member."));
        sb.AppendLine(string.Create(inv, $"Physics (counted over {physics.Steps} Ant physics steps under random controls, kernel source on counting views): {physics.ScratchAccesses:F0} scratch accesses and {physics.ModelAccesses:F0} model reads per physics step, {physics.Rows:F1} constraint rows and {physics.Sweeps:F1} sweeps per step; scratch {physics.ScratchFloats} floats per env, of which an env step touches {physics.WorkingSetFloats:F0} ({4 * physics.WorkingSetFloats / 1e3:F1} KB)."));
        sb.AppendLine();
        sb.AppendLine("| kernel | launches per learner step | threads per learner | flops per learner per launch | device bytes per learner per launch | source of the count |");
        sb.AppendLine("| --- | ---: | ---: | ---: | ---: | --- |");
        foreach (var k in kernels)
            sb.AppendLine(string.Create(inv, $"| {k.Name} | {(k.CallsPerStep == 1 ? "1" : $"1/{1 / k.CallsPerStep:F0}")} | {F(k.ThreadsPerLearner)} | {F(k.Flops)} | {F(k.Bytes)} | {k.Note} |"));
        double stepFlops = kernels.Sum(k => k.CallsPerStep * k.Flops), stepBytes = kernels.Sum(k => k.CallsPerStep * k.Bytes);
        sb.AppendLine(string.Create(inv, $"| **per learner step** | {kernels.Sum(k => k.CallsPerStep):F2} | | {F(stepFlops)} | {F(stepBytes)} | |"));
        sb.AppendLine();
        sb.AppendLine("Predicted microseconds per learner step (all L learners: one lockstep step), by kernel (launches per step x time per launch):");
        sb.AppendLine();
        sb.AppendLine("| kernel | " + string.Join(" | ", learnerCounts.Select(l => $"L = {l}")) + " |");
        sb.AppendLine("| --- |" + string.Concat(learnerCounts.Select(_ => " ---: |")));
        var totals = new double[learnerCounts.Length];
        var gpuTotals = new double[learnerCounts.Length];
        var worst = new (string Name, double Us)[learnerCounts.Length];
        foreach (var k in kernels)
        {
            var cells = new List<string>();
            for (int i = 0; i < learnerCounts.Length; i++)
            {
                var (t, bound) = LaunchTime(k, learnerCounts[i], Occ(k));
                double us = k.CallsPerStep * Math.Max(t, LaunchSeconds) * 1e6;
                totals[i] += us;
                gpuTotals[i] += k.CallsPerStep * t * 1e6;
                if (us > worst[i].Us) worst[i] = (k.Name, us);
                cells.Add(string.Create(inv, $"{us:F2} ({(t < LaunchSeconds ? "launch" : bound)})"));
            }
            sb.AppendLine($"| {k.Name} | " + string.Join(" | ", cells) + " |");
        }
        double sync = SyncsPerStep(c) * SyncSeconds * 1e6;
        sb.AppendLine("| host synchronizations | " + string.Join(" | ", learnerCounts.Select(_ => sync.ToString("F2", inv))) + " |");
        for (int i = 0; i < learnerCounts.Length; i++) totals[i] += sync;
        sb.AppendLine("| **learner step, total (us)** | " + string.Join(" | ", totals.Select(t => string.Create(inv, $"**{t:F1}**"))) + " |");
        sb.AppendLine("| kernels' own time, no launch or sync cost (us) | " + string.Join(" | ", gpuTotals.Select(t => string.Create(inv, $"{t:F1}"))) + " |");
        sb.AppendLine("| **learner steps/s** (goal 1M) | " + string.Join(" | ", learnerCounts.Select((l, i) => string.Create(inv, $"**{l / (totals[i] * 1e-6) / 1e6:F2}M**"))) + " |");
        sb.AppendLine("| Ant physics steps/s inside the learner step (x 5) | " + string.Join(" | ", learnerCounts.Select((l, i) => string.Create(inv, $"{FrameSkip * l / (totals[i] * 1e-6) / 1e6:F2}M"))) + " |");
        sb.AppendLine("| largest part | " + string.Join(" | ", worst.Select(w => string.Create(inv, $"{w.Name} ({w.Us:F1} us)"))) + " |");
        sb.AppendLine();
        // the physics kernel alone: on-chip scratch (flops-bound) against scratch in DRAM (every access a 4-byte transfer)
        var phys = kernels.First(k => k.Kernel == "PhysicsStepKernel");
        sb.AppendLine("The physics kernel alone (`epg physics`: one launch of 5 physics steps per env step): the model above (working set on chip while the resident envs' working sets fit L2, else read and written back once per launch), and the bounds: all scratch on chip, every scratch access a 4-byte DRAM transfer:");
        sb.AppendLine();
        sb.AppendLine("| | " + string.Join(" | ", learnerCounts.Select(l => $"L = {l}")) + " |");
        sb.AppendLine("| --- |" + string.Concat(learnerCounts.Select(_ => " ---: |")));
        var onChip = phys with { WorkingSetBytes = 0, SpillBytes = 0, SerialAccesses = 0 };
        var dram = onChip with { Bytes = phys.Bytes + FrameSkip * physics.ScratchAccesses * 4 };
        double resident = ResidentThreads(Occ(phys));
        sb.AppendLine("| resident envs' working sets (MB; L2 holds 50) | " + string.Join(" | ", learnerCounts.Select(l => string.Create(inv, $"{Math.Min(l, resident) * phys.WorkingSetBytes / 1e6:F1}"))) + " |");
        foreach (var (label, k) in new[] { ("model: physics steps/s (goal 10M)", phys), ("bound, all scratch on chip, no latency", onChip), ("bound, every scratch access in DRAM", dram) })
            sb.AppendLine($"| {label} | " + string.Join(" | ", learnerCounts.Select(l =>
            {
                var (t, bound) = LaunchTime(k, l, Occ(k));
                return string.Create(inv, $"{FrameSkip * l / Math.Max(t, LaunchSeconds) / 1e6:F2}M ({bound})");
            })) + " |");
        return sb.ToString();
    }
}
