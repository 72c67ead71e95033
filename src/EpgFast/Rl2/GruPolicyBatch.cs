using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;
using EpgFast.Kernels.Random;

namespace EpgFast.Rl2;

/// <summary>
/// The RL^2 policy over B trials of T steps (kernels: kernels/EpgFast.Kernels/Networks/Gru.cs): one GRU of H units with
/// a Gaussian head (learned state-independent log-std) and a value head, one parameter vector p (P) shared by all
/// trials, a hidden state per trial from zero at the trial's start through all its episodes.
/// <see cref="Step"/> runs one step for acting; <see cref="Forward"/> the whole trial again (the update's recompute),
/// <see cref="Backward"/> backpropagates through the whole trial (BPTT over all T steps, no truncation).
/// </summary>
public sealed class GruPolicyBatch<TF> : IDisposable where TF : struct, IView<float>
{
    private readonly Device _device;

    public GruPolicyBatch(Device device, GruShape shape)
    {
        _device = device;
        Shape = shape;
        int B = shape.Trials, T = shape.Steps, H = shape.Hidden;
        X = device.Allocate<float>(B * T * shape.In);
        Hidden = device.Allocate<float>(B * T * H);
        Gates = device.Allocate<float>(B * T * 4 * H);
        Mean = device.Allocate<float>(B * T * shape.Act);
        Value = device.Allocate<float>(B * T);
        MeanStep = device.Allocate<float>(B * shape.Act);
        ValueStep = device.Allocate<float>(B);
        DH = device.Allocate<float>(B * T * H);
        DA = device.Allocate<float>(B * T * 4 * H);
        Carry = device.Allocate<float>(B * H);
        G = device.Allocate<float>(B * shape.ParamCount);
        Grad = device.Allocate<float>(shape.ParamCount);
    }

    public GruShape Shape { get; }
    public int ParamCount => Shape.ParamCount;
    /// <summary>x: (B, T, In), the inputs [normalized obs, previous action, reward, done] (written while acting)</summary>
    public DeviceBuffer<float> X { get; }
    /// <summary>h: (B, T, H); gates: (B, T, 4H) = [r | z | n | hn]</summary>
    public DeviceBuffer<float> Hidden { get; }
    public DeviceBuffer<float> Gates { get; }
    /// <summary>mean: (B, T, Act), value: (B, T), from the last <see cref="Forward"/></summary>
    public DeviceBuffer<float> Mean { get; }
    public DeviceBuffer<float> Value { get; }
    /// <summary>meanStep: (B, Act), valueStep: (B), from the last <see cref="Step"/></summary>
    public DeviceBuffer<float> MeanStep { get; }
    public DeviceBuffer<float> ValueStep { get; }
    /// <summary>Backward scratch: dh (B, T, H) from the heads, da (B, T, 4H) the gates' gradients, carry (B, H).</summary>
    public DeviceBuffer<float> DH { get; }
    public DeviceBuffer<float> DA { get; }
    public DeviceBuffer<float> Carry { get; }
    /// <summary>g: (B, P), per-trial gradient blocks (the losses add to them; <see cref="Backward"/> too)</summary>
    public DeviceBuffer<float> G { get; }
    /// <summary>grad: (P), the blocks summed by <see cref="SumGradient"/></summary>
    public DeviceBuffer<float> Grad { get; }

    /// <summary>
    /// Fresh parameters into p (P): the released code's column-normalized Gaussian init from Philox stream
    /// (PolicyInit, 0, 0) under <paramref name="seed"/>: Wi and Wh column norm 1, the mean head 0.01; zero biases,
    /// log-std 0 and value head.
    /// </summary>
    public void Initialize(DeviceBuffer<float> p, ulong seed)
    {
        var s = Shape;
        p.Clear();
        var stream = new InitStream { Seed = seed, Kind = RandomStreams.PolicyInit };
        foreach (var (offset, inputs, outputs, scale) in new[] { (s.Wi, s.In, 3 * s.Hidden, 1f), (s.Wh, s.Hidden, 3 * s.Hidden, 1f), (s.MeanW, s.Hidden, s.Act, 0.01f) })
            _device.Launch(inputs, new ColumnNormalInitKernel<TF>
            {
                P = p.View<TF>(), ParamStride = s.ParamCount, ParamOffset = offset, Counter = offset, In = inputs, Out = outputs, Scale = scale, Stream = stream,
            });
    }

    /// <summary>Acting: step t of every trial (x row t must be written): h row t, and the heads into MeanStep and ValueStep.</summary>
    public void Step(DeviceBuffer<float> p, int t)
    {
        var s = Shape;
        _device.Launch(s.Trials * s.Hidden, new GruStepKernel<TF> { P = p.View<TF>(), X = X.View<TF>(), H = Hidden.View<TF>(), Gates = Gates.View<TF>(), S = s, Step = t });
        _device.Launch(s.Trials, new GruHeadsKernel<TF> { P = p.View<TF>(), H = Hidden.View<TF>(), Mean = MeanStep.View<TF>(), Value = ValueStep.View<TF>(), S = s, Row0 = t, Count = 1 });
    }

    /// <summary>The whole trial with parameters p: h, gates, Mean and Value for every step.</summary>
    public void Forward(DeviceBuffer<float> p)
    {
        var s = Shape;
        for (int t = 0; t < s.Steps; t++)
            _device.Launch(s.Trials * s.Hidden, new GruStepKernel<TF> { P = p.View<TF>(), X = X.View<TF>(), H = Hidden.View<TF>(), Gates = Gates.View<TF>(), S = s, Step = t });
        _device.Launch(s.Trials * s.Steps, new GruHeadsKernel<TF> { P = p.View<TF>(), H = Hidden.View<TF>(), Mean = Mean.View<TF>(), Value = Value.View<TF>(), S = s, Row0 = 0, Count = s.Steps });
    }

    /// <summary>
    /// Adds to the per-trial blocks G the gradient of a loss whose gradient w.r.t. the last Forward's mean is dMean
    /// (B, T, Act) and w.r.t. its value valueScale * dV (B, T): heads, then BPTT from step T - 1 down to 0.
    /// </summary>
    public void Backward(DeviceBuffer<float> p, DeviceBuffer<float> dMean, DeviceBuffer<float> dV, float valueScale)
    {
        var s = Shape;
        int B = s.Trials;
        _device.Launch(B * s.Steps, new GruHeadsBackwardInputKernel<TF> { P = p.View<TF>(), DMean = dMean.View<TF>(), DV = dV.View<TF>(), DH = DH.View<TF>(), S = s, ValueScale = valueScale });
        _device.Launch(B * (s.Act + 1), new GruHeadsBackwardParamsKernel<TF>
        {
            H = Hidden.View<TF>(), DMean = dMean.View<TF>(), DV = dV.View<TF>(), G = G.View<TF>(), GStride = s.ParamCount, S = s, ValueScale = valueScale,
        });
        Carry.Clear();
        for (int t = s.Steps - 1; t >= 0; t--)
        {
            _device.Launch(B * s.Hidden, new GruBackwardGatesKernel<TF>
            {
                H = Hidden.View<TF>(), Gates = Gates.View<TF>(), DH = DH.View<TF>(), Carry = Carry.View<TF>(), DA = DA.View<TF>(), S = s, Step = t,
            });
            if (t > 0)
                _device.Launch(B * s.Hidden, new GruBackwardCarryKernel<TF>
                {
                    P = p.View<TF>(), Gates = Gates.View<TF>(), DA = DA.View<TF>(), DH = DH.View<TF>(), Carry = Carry.View<TF>(), S = s, Step = t,
                });
        }
        _device.Launch(B * 3 * s.Hidden, new GruBackwardParamsKernel<TF>
        {
            X = X.View<TF>(), H = Hidden.View<TF>(), DA = DA.View<TF>(), G = G.View<TF>(), GStride = s.ParamCount, S = s,
        });
    }

    /// <summary>Grad = the per-trial blocks G summed in trial order.</summary>
    public void SumGradient() =>
        _device.Launch(ParamCount, new TrialSumKernel<TF> { Blocks = G.View<TF>(), Sum = Grad.View<TF>(), Trials = Shape.Trials, Stride = ParamCount, Scale = 1f });

    public void Dispose()
    {
        foreach (var b in new[] { X, Hidden, Gates, Mean, Value, MeanStep, ValueStep, DH, DA, Carry, G, Grad }) b.Dispose();
    }
}
