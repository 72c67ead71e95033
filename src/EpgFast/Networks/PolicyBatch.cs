using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;
using EpgFast.Kernels.Random;

namespace EpgFast.Networks;

/// <summary>
/// The learners' Gaussian policies: mean = MLP(obs) (obs -> 64 tanh -> 64 tanh -> act), log-std a learned
/// per-learner vector (LearnerLayout.LogStd). Use one instance per row count you need at once (e.g. one with
/// MaxRows 1 for acting and one with MaxRows N for updates): Mean and the activations belong to the last Forward.
/// </summary>
public sealed class PolicyBatch<TF> : IDisposable where TF : struct, IView<float>
{
    private readonly Device _device;

    /// <summary>Policies for <paramref name="learners"/> learners, buffers for up to <paramref name="maxRows"/> rows each.</summary>
    public PolicyBatch(Device device, LearnerLayout layout, int learners, int maxRows)
    {
        _device = device;
        Layout = layout;
        Learners = learners;
        Mlp = new MlpBatch<TF>(device, layout.Policy, learners, maxRows);
    }

    public LearnerLayout Layout { get; }
    public int Learners { get; }
    public MlpBatch<TF> Mlp { get; }
    public int Act => Layout.Config.Act;
    /// <summary>Rows per learner of the last Forward.</summary>
    public int Rows => Mlp.Rows;
    /// <summary>mean: (Learners, Rows, Act), from the last Forward</summary>
    public DeviceBuffer<float> Mean => Mlp.Y;

    /// <summary>mean = MLP(obs); obs[l, r, :] = Obs[(l * rows + r) * obsStride + obsOffset + i] (normalized observations).</summary>
    public void Forward(DeviceBuffer<float> p, DeviceBuffer<float> obs, int rows, int obsStride, int obsOffset = 0)
        => Mlp.Forward(p, obs, rows, obsStride, obsOffset);

    /// <summary>
    /// actions (Learners, Rows, Act) = mean + exp(logstd) eps with eps from Philox.Stream(ActionNoise, epoch,
    /// learnerBase + l), counter (step * Rows + r) * Act + a (see <see cref="GaussianSampleKernel{TF}"/>).
    /// </summary>
    public void Sample(DeviceBuffer<float> p, DeviceBuffer<float> actions, ulong seed, uint epoch, int learnerBase, long step, int streamPeriod = 0)
        => _device.Launch(Learners * Rows, new GaussianSampleKernel<TF>
        {
            Mean = Mean.View<TF>(), LogStd = p.View<TF>(), Actions = actions.View<TF>(), Rows = Rows, Act = Act,
            LogStdStride = Layout.Stride, LogStdOffset = Layout.LogStd, Seed = seed, Epoch = epoch, LearnerBase = learnerBase, StreamPeriod = streamPeriod, Step = step,
        });

    /// <summary>logp (Learners, Rows) of actions (Learners, Rows, Act) under the last Forward's mean and the current log-std.</summary>
    public void LogProb(DeviceBuffer<float> p, DeviceBuffer<float> actions, DeviceBuffer<float> logp)
        => _device.Launch(Learners * Rows, new GaussianLogProbKernel<TF>
        {
            Mean = Mean.View<TF>(), LogStd = p.View<TF>(), Actions = actions.View<TF>(), LogP = logp.View<TF>(), Rows = Rows, Act = Act,
            LogStdStride = Layout.Stride, LogStdOffset = Layout.LogStd,
        });

    /// <summary>entropy (Learners) of the current log-std.</summary>
    public void Entropy(DeviceBuffer<float> p, DeviceBuffer<float> entropy)
        => _device.Launch(Learners, new GaussianEntropyKernel<TF>
        {
            LogStd = p.View<TF>(), Entropy = entropy.View<TF>(), Act = Act, LogStdStride = Layout.Stride, LogStdOffset = Layout.LogStd,
        });

    /// <summary>
    /// kl (Learners, rows) = KL(p0 || p1) per row, means (Learners, rows, Act) and log-stds read from
    /// (Learners, stride) buffers at offsets (e.g. a copy of an earlier parameter block and the current one).
    /// </summary>
    public void Kl(DeviceBuffer<float> mean0, DeviceBuffer<float> logStd0, int logStd0Stride, int logStd0Offset,
        DeviceBuffer<float> mean1, DeviceBuffer<float> logStd1, int logStd1Stride, int logStd1Offset, int rows, DeviceBuffer<float> kl)
        => _device.Launch(Learners * rows, new GaussianKlKernel<TF>
        {
            Mean0 = mean0.View<TF>(), Mean1 = mean1.View<TF>(), LogStd0 = logStd0.View<TF>(), LogStd1 = logStd1.View<TF>(), Kl = kl.View<TF>(),
            Rows = rows, Act = Act, LogStd0Stride = logStd0Stride, LogStd0Offset = logStd0Offset, LogStd1Stride = logStd1Stride, LogStd1Offset = logStd1Offset,
        });

    /// <summary>
    /// Adds the policy-parameter gradient of sum(dMean . mean) to g for the rows of the last Forward
    /// (dMean: (Learners, Rows, Act)). The log-std gradient is not here: the losses add it to g directly.
    /// obs must be the Forward's input.
    /// </summary>
    public void Backward(DeviceBuffer<float> p, DeviceBuffer<float> obs, int obsStride, int obsOffset, DeviceBuffer<float> dMean, DeviceBuffer<float> g)
        => Mlp.Backward(p, obs, obsStride, obsOffset, dMean, g);

    public void Dispose() => Mlp.Dispose();
}

/// <summary>
/// The memory units (mem = tanh(W 1 + b)) of every learner; Mem: (Learners, MemoryUnits).
/// With trained memory (<see cref="LearnerLayout.HasMemoryWeights"/>) W and b sit in the parameter block and
/// <see cref="Forward"/> recomputes Mem from them; otherwise Mem is a constant of the learner's life, computed by
/// <see cref="BeginLife"/> from the initial weights' draws, and Forward leaves it as it is.
/// </summary>
public sealed class MemoryBatch<TF> : IDisposable where TF : struct, IView<float>
{
    private readonly Device _device;
    private readonly LearnerLayout _layout;
    private readonly MemoryShape _shape;
    private readonly DeviceBuffer<float>? _column;       // column: (Learners, MemoryUnits), scratch of the untrained memory's one-time computation

    public MemoryBatch(Device device, LearnerLayout layout, int learners)
    {
        _device = device;
        _layout = layout;
        _shape = layout.Memory(learners);
        Mem = device.Allocate<float>(learners * layout.Config.MemoryUnits);
        if (!layout.HasMemoryWeights && layout.Config.MemoryUnits > 0)
            _column = device.Allocate<float>(learners * layout.Config.MemoryUnits);
    }

    /// <summary>mem: (Learners, MemoryUnits)</summary>
    public DeviceBuffer<float> Mem { get; }

    /// <summary>
    /// Start of life, after <see cref="LearnerInit.Initialize{TF}"/>: untrained memory is set to the output of the initial
    /// weights (the same draws, bit for bit, as a block that holds them); trained memory is left to Forward.
    /// </summary>
    public void BeginLife(ulong seed, uint epoch, int learnerBase, int streamPeriod = 0)
    {
        if (_column is null) return;
        var c = _layout.Config;
        _device.Launch(_shape.Learners, new MemoryConstantKernel<TF>
        {
            Column = _column.View<TF>(), Mem = Mem.View<TF>(), In = c.MemoryInputs, Units = c.MemoryUnits, Scale = LearnerInit.MemoryScale,
            Counter = _layout.MemoryCounter, Stream = LearnerInit.Stream(seed, epoch, learnerBase, streamPeriod),
        });
    }

    /// <summary>mem = tanh(W 1 + b) from the block p (Learners, Stride); a no-op for untrained memory.</summary>
    public void Forward(DeviceBuffer<float> p)
    {
        if (!_layout.HasMemoryWeights) return;
        _device.Launch(_shape.Learners * _shape.Units, new MemoryForwardKernel<TF> { P = p.View<TF>(), Mem = Mem.View<TF>(), S = _shape });
    }

    /// <summary>Adds the memory weights' gradient for dMem (Learners, MemoryUnits) to g; Mem must be the Forward's output.</summary>
    public void Backward(DeviceBuffer<float> dMem, DeviceBuffer<float> g)
    {
        if (!_layout.HasMemoryWeights) throw new InvalidOperationException("this learner layout has no memory weights (NetworkConfig.TrainMemory is false)");
        _device.Launch(_shape.Learners * _shape.Units, new MemoryBackwardKernel<TF> { Mem = Mem.View<TF>(), DMem = dMem.View<TF>(), G = g.View<TF>(), S = _shape });
    }

    public void Dispose()
    {
        Mem.Dispose();
        _column?.Dispose();
    }
}

/// <summary>Fresh learner parameters, as the released code initializes them.</summary>
public static class LearnerInit
{
    /// <summary>The memory layer's column norm at initialization (released networks.py).</summary>
    public const float MemoryScale = 0.01f;

    /// <summary>Learner l's initial weights come from Philox.Stream(PolicyInit, epoch, learnerBase + l) (mod streamPeriod when &gt; 0).</summary>
    public static InitStream Stream(ulong seed, uint epoch, int learnerBase, int streamPeriod = 0)
        => new() { Seed = seed, Kind = RandomStreams.PolicyInit, Epoch = epoch, LearnerBase = learnerBase, StreamPeriod = streamPeriod };

    /// <summary>
    /// Clears p (Learners, Stride) (zero biases, zero log-std) and draws the policy, value and memory weights with
    /// the released code's column-normalized Gaussian init from Philox.Stream(PolicyInit, epoch, learnerBase + l):
    /// every weight's counter is its offset in the full block, so learner l's init depends only on (seed, epoch, l).
    /// A lean block draws only the tensors it holds (untrained memory: <see cref="MemoryBatch{TF}.BeginLife"/>).
    /// </summary>
    public static void Initialize<TF>(Device device, LearnerLayout layout, int learners, DeviceBuffer<float> p, ulong seed, uint epoch, int learnerBase, int streamPeriod = 0)
        where TF : struct, IView<float>
    {
        p.Clear();
        var c = layout.Config;
        var stream = Stream(seed, epoch, learnerBase, streamPeriod);
        MlpBatch<TF>.InitializeWeights(device, layout.Policy, learners, p, stream);
        if (layout.HasValue)
            MlpBatch<TF>.InitializeWeights(device, layout.Value, learners, p, stream);
        if (layout.HasMemoryWeights)
            device.Launch(learners * c.MemoryInputs, new ColumnNormalInitKernel<TF>
            {
                P = p.View<TF>(), ParamStride = layout.Stride, ParamOffset = layout.MemoryW, Counter = layout.MemoryCounter, In = c.MemoryInputs, Out = c.MemoryUnits,
                Scale = MemoryScale, Stream = stream,
            });
    }
}
