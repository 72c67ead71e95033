using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;

namespace EpgFast.Networks;

/// <summary>
/// Adam for every learner's parameter block (released utils.py Adam: lr 1e-3, beta1 0.9, beta2 0.999,
/// eps 1e-8, bias correction folded into the step size), with a guard: a learner whose gradient holds a NaN or
/// infinity skips the step (its parameters, moments and step count stay) and its Skipped counter goes up.
/// The released code guards per tensor; this guards the whole block, so one bad tensor skips the learner's step.
/// </summary>
public sealed class AdamBatch<TF, TI> : IDisposable where TF : struct, IView<float> where TI : struct, IView<int>
{
    private readonly Device _device;

    public AdamBatch(Device device, int learners, int stride, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f)
    {
        _device = device;
        Shape = new AdamShape { Learners = learners, Stride = stride, LearningRate = learningRate, Beta1 = beta1, Beta2 = beta2, Eps = eps };
        M = device.Allocate<float>(learners * stride);
        V = device.Allocate<float>(learners * stride);
        T = device.Allocate<int>(learners);
        Ok = device.Allocate<int>(learners);
        Skipped = device.Allocate<int>(learners);
        StepSize = device.Allocate<float>(learners);
    }

    public AdamBatch(Device device, LearnerLayout layout, int learners)
        : this(device, learners, layout.Stride, layout.Config.LearningRate, layout.Config.Beta1, layout.Config.Beta2, layout.Config.AdamEps)
    {
    }

    public AdamShape Shape { get; private set; }

    /// <summary>Adam's step size lr (from the next <see cref="Step"/> on; a lifetime's learners share it).</summary>
    public float LearningRate
    {
        get => Shape.LearningRate;
        set => Shape = Shape with { LearningRate = value };
    }
    /// <summary>Moments m, v: (Learners, Stride).</summary>
    public DeviceBuffer<float> M { get; }
    public DeviceBuffer<float> V { get; }
    /// <summary>Steps taken t, last step's ok flag, skipped steps: (Learners).</summary>
    public DeviceBuffer<int> T { get; }
    public DeviceBuffer<int> Ok { get; }
    public DeviceBuffer<int> Skipped { get; }
    /// <summary>lr sqrt(1 - beta2^t) / (1 - beta1^t) of the last step: (Learners).</summary>
    public DeviceBuffer<float> StepSize { get; }

    /// <summary>Zeroes moments, step counts and skip counters (a new lifetime).</summary>
    public void Reset()
    {
        M.Clear();
        V.Clear();
        T.Clear();
        Ok.Clear();
        Skipped.Clear();
    }

    /// <summary>One guarded Adam step on p (Learners, Stride) with gradient g; with zeroGrad g is cleared for the next accumulation.</summary>
    public void Step(DeviceBuffer<float> p, DeviceBuffer<float> g, bool zeroGrad = true)
    {
        int L = Shape.Learners;
        _device.Launch(L, new AdamGuardKernel<TF, TI> { G = g.View<TF>(), T = T.View<TI>(), Ok = Ok.View<TI>(), Skipped = Skipped.View<TI>(), StepSize = StepSize.View<TF>(), S = Shape });
        _device.Launch(L * Shape.Stride, new AdamUpdateKernel<TF, TI>
        {
            P = p.View<TF>(), G = g.View<TF>(), M = M.View<TF>(), V = V.View<TF>(), Ok = Ok.View<TI>(), StepSize = StepSize.View<TF>(), S = Shape, ZeroGrad = zeroGrad ? 1 : 0,
        });
    }

    /// <summary>Skipped steps summed over learners (reads back from the device).</summary>
    public long SkippedTotal() => Skipped.ToArray().Sum(x => (long)x);

    /// <summary>Flops of one step (about 12 per parameter: moments, sqrt, division, update).</summary>
    public long Flops => 12L * Shape.Learners * Shape.Stride;

    public void Dispose()
    {
        M.Dispose();
        V.Dispose();
        T.Dispose();
        Ok.Dispose();
        Skipped.Dispose();
        StepSize.Dispose();
    }
}
