using EpgFast.Kernels.Networks;

namespace EpgFast.Networks;

/// <summary>
/// Where every trainable tensor of one learner sits in its flat parameter block (params: (Learners, Stride)).
/// The gradient block g has the same layout; Adam runs over the whole block.
/// <code>
/// offset               tensor                 shape
/// PolicyW1             policy layer 1 W       (Hidden1, Obs)
/// PolicyW2             policy layer 2 W       (Hidden2, Hidden1)
/// PolicyW3             policy layer 3 W       (Act, Hidden2)
/// PolicyB1..PolicyB3   policy biases          (Hidden1), (Hidden2), (Act)
/// LogStd               policy log-std         (Act)
/// ValueW1..ValueW3     value net weights      (VH1, Obs), (VH2, VH1), (1, VH2)
/// ValueB1..ValueB3     value net biases       (VH1), (VH2), (1)
/// MemoryW, MemoryB     memory layer           (MemoryUnits, MemoryInputs), (MemoryUnits)
/// [Size, Stride)       zero padding (Stride is a multiple of 32 floats)
/// </code>
/// A lean learner leaves tensors out (size 0): the value net without <see cref="NetworkConfig.Ppo"/>, the memory
/// layer without <see cref="NetworkConfig.TrainMemory"/>. Initial weights are drawn by their offset in the full
/// layout (<see cref="MemoryCounter"/>), so a lean learner starts from the same numbers as a full one.
/// The policy part (PolicyW1 .. PolicyB3) is the released code's NN.get_params_1d order (all W, then all b).
/// All weight matrices are row-major (out, in), as Chainer stores them.
/// </summary>
public sealed class LearnerLayout
{
    public LearnerLayout(NetworkConfig c)
    {
        c.Validate();
        Config = c;
        int o = 0;
        int Take(int n)
        {
            int at = o;
            o += n;
            return at;
        }
        PolicyW1 = Take(c.Hidden1 * c.Obs);
        PolicyW2 = Take(c.Hidden2 * c.Hidden1);
        PolicyW3 = Take(c.Act * c.Hidden2);
        PolicyB1 = Take(c.Hidden1);
        PolicyB2 = Take(c.Hidden2);
        PolicyB3 = Take(c.Act);
        LogStd = Take(c.Act);
        int v = c.Ppo ? 1 : 0, m = c.TrainMemory ? 1 : 0;
        MemoryCounter = o + c.ValueHidden1 * c.Obs + c.ValueHidden2 * c.ValueHidden1 + c.ValueHidden2 + c.ValueHidden1 + c.ValueHidden2 + 1;
        ValueW1 = Take(v * c.ValueHidden1 * c.Obs);
        ValueW2 = Take(v * c.ValueHidden2 * c.ValueHidden1);
        ValueW3 = Take(v * c.ValueHidden2);
        ValueB1 = Take(v * c.ValueHidden1);
        ValueB2 = Take(v * c.ValueHidden2);
        ValueB3 = Take(v);
        MemoryW = Take(m * c.MemoryUnits * c.MemoryInputs);
        MemoryB = Take(m * c.MemoryUnits);
        Size = o;
        Stride = (o + 31) / 32 * 32;
    }

    public NetworkConfig Config { get; }
    public int PolicyW1 { get; }
    public int PolicyW2 { get; }
    public int PolicyW3 { get; }
    public int PolicyB1 { get; }
    public int PolicyB2 { get; }
    public int PolicyB3 { get; }
    public int LogStd { get; }
    public int ValueW1 { get; }
    public int ValueW2 { get; }
    public int ValueW3 { get; }
    public int ValueB1 { get; }
    public int ValueB2 { get; }
    public int ValueB3 { get; }
    public int MemoryW { get; }
    public int MemoryB { get; }
    /// <summary>Where MemoryW sits in the full layout: the memory weights' initial draws are counted from here.</summary>
    public int MemoryCounter { get; }
    /// <summary>The block holds the value net (<see cref="NetworkConfig.Ppo"/>).</summary>
    public bool HasValue => Config.Ppo;
    /// <summary>The block holds the memory layer (<see cref="NetworkConfig.TrainMemory"/> with memory units).</summary>
    public bool HasMemoryWeights => Config.TrainMemory && Config.MemoryUnits > 0;
    /// <summary>Floats used per learner.</summary>
    public int Size { get; }
    /// <summary>Floats per learner block (Size rounded up to 32).</summary>
    public int Stride { get; }

    /// <summary>The policy MLP (obs -> Hidden1 -> Hidden2 -> Act).</summary>
    public MlpLayout Policy => new(Config.Obs, Config.Hidden1, Config.Hidden2, Config.Act, Stride,
        PolicyW1, PolicyW2, PolicyW3, PolicyB1, PolicyB2, PolicyB3);

    /// <summary>The value MLP (obs -> ValueHidden1 -> ValueHidden2 -> 1); only in a block with <see cref="HasValue"/>.</summary>
    public MlpLayout Value => !HasValue ? throw new InvalidOperationException("this learner layout has no value net (NetworkConfig.Ppo is false)") : new(Config.Obs, Config.ValueHidden1, Config.ValueHidden2, 1, Stride,
        ValueW1, ValueW2, ValueW3, ValueB1, ValueB2, ValueB3);

    public MemoryShape Memory(int learners) => new()
    {
        Learners = learners,
        Units = Config.MemoryUnits,
        In = Config.MemoryInputs,
        ParamStride = Stride,
        WOffset = MemoryW,
        BOffset = MemoryB,
    };
}

/// <summary>A three-layer MLP (in -> h1 tanh -> h2 tanh -> out linear) inside a learner block.</summary>
public readonly record struct MlpLayout(int In, int H1, int H2, int Out, int Stride,
    int W1, int W2, int W3, int B1, int B2, int B3)
{
    public DenseShape Layer(int i, int learners, int rows) => i switch
    {
        0 => DenseShape.Create(learners, rows, In, H1, Activation.Tanh, Stride, W1, B1),
        1 => DenseShape.Create(learners, rows, H1, H2, Activation.Tanh, Stride, W2, B2),
        _ => DenseShape.Create(learners, rows, H2, Out, Activation.Linear, Stride, W3, B3),
    };

    /// <summary>Flops of one forward pass per row (2 per multiply-add, biases and tanh counted as 1).</summary>
    public long ForwardFlopsPerRow => 2L * (In * H1 + H1 * H2 + H2 * Out) + H1 + H2 + Out;

    /// <summary>Flops of the backward pass per row: both weight gradients and input gradients (none for the first layer's input).</summary>
    public long BackwardFlopsPerRow => 2L * (In * H1 + H1 * H2 + H2 * Out) + 2L * (H1 * H2 + H2 * Out) + 3L * (H1 + H2) + Out;
}
