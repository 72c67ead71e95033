using EpgFast.Kernels.Learners;
using EpgFast.Backends;
using EpgFast.Kernels.Networks;

namespace EpgFast.Networks;

/// <summary>
/// Sizes and hyper-parameters of the inner loop's networks. Defaults are the released EPG code's
/// (openai/EPG: agents.py, losses.py, networks.py, utils.py); observation and action sizes come from the task.
/// </summary>
public sealed record NetworkConfig(int Obs, int Act)
{
    /// <summary>Policy hidden sizes (tanh): obs -> Hidden1 -> Hidden2 -> act (linear mean).</summary>
    public int Hidden1 { get; init; } = 64;
    public int Hidden2 { get; init; } = 64;
    /// <summary>Value net hidden sizes (tanh): obs -> ValueHidden1 -> ValueHidden2 -> 1.</summary>
    public int ValueHidden1 { get; init; } = 64;
    public int ValueHidden2 { get; init; } = 64;
    /// <summary>Memory units fed to the loss (always present in its input; trained only with <see cref="TrainMemory"/>).</summary>
    public int MemoryUnits { get; init; } = 32;
    /// <summary>
    /// The learners train their memory units: the memory layer's weights sit in the parameter block with their
    /// gradient and Adam moments. False (a lean learner): the memory is the untrained layer's output, a constant
    /// per learner computed once at the start of life (the same numbers the untrained weights would give).
    /// </summary>
    public bool TrainMemory { get; init; } = true;
    /// <summary>
    /// The learners can train with PPO (alpha &gt; 0): the value net (parameters, gradient, Adam moments) and PPO's
    /// buffers exist. False (a lean learner): the evolved loss alone, alpha = 0, as at test time.
    /// </summary>
    public bool Ppo { get; init; } = true;
    /// <summary>The memory layer's constant input of ones.</summary>
    public int MemoryInputs { get; init; } = 64;
    /// <summary>Exploration-bonus columns in a trajectory row (the released code has one, constant).</summary>
    public int Aux { get; init; } = 1;
    /// <summary>Extra raw columns at the end of a trajectory row (0; 2 with lifetime and episode progress).</summary>
    public int Extra { get; init; } = 0;
    /// <summary>N: buffer rows the loss network's context sees.</summary>
    public int BufferRows { get; init; } = 512;
    /// <summary>M: steps acted between updates (PPO trains on these).</summary>
    public int ActSteps { get; init; } = 64;
    public int Minibatch { get; init; } = 32;

    public int Conv0Kernel { get; init; } = 6;
    public int Conv0Stride { get; init; } = 5;
    public int Conv0Channels { get; init; } = 16;
    public int Conv1Kernel { get; init; } = 4;
    public int Conv1Stride { get; init; } = 2;
    public int Conv1Channels { get; init; } = 32;
    public int ContextUnits { get; init; } = 32;
    public int HeadHidden { get; init; } = 16;
    /// <summary>Also backpropagate into the memory through the context path (the released code detaches it there).</summary>
    public bool MemoryThroughContext { get; init; }

    public float Gamma { get; init; } = 0.99f;
    public float Lambda { get; init; } = 0.95f;
    public float ClipRange { get; init; } = 0.2f;
    public float KlCoeff { get; init; } = 0.001f;
    /// <summary>Added to the advantages' std before dividing (the released code divides by the bare std).</summary>
    public float AdvantageEps { get; init; } = 1e-8f;

    public float LearningRate { get; init; } = 1e-3f;
    public float Beta1 { get; init; } = 0.9f;
    public float Beta2 { get; init; } = 0.999f;
    public float AdamEps { get; init; } = 1e-8f;

    /// <summary>Normalizer: initial sum of squares and count (epsilon) and the floor of the variance.</summary>
    public float NormalizerEps { get; init; } = 0.01f;
    public float NormalizerMinVar { get; init; } = 0.01f;

    /// <summary>Columns of a trajectory row: obs | act | reward | aux | done | extra.</summary>
    public int TrajDim => Traj.Dim;
    /// <summary>A trajectory row's columns (where the reward, the done flag and the normalized columns sit).</summary>
    public TrajShape Traj => new() { Obs = Obs, Act = Act, Aux = Aux, Extra = Extra };

    /// <summary>Throws a one-line EpgException when the sizes cannot work together.</summary>
    public NetworkConfig Validate()
    {
        void Need(bool ok, string what)
        {
            if (!ok) throw new EpgException($"network config: {what}");
        }
        Need(Obs > 0 && Act > 0, $"observation and action sizes must be positive (got {Obs}, {Act})");
        Need(Hidden1 > 0 && Hidden2 > 0 && ValueHidden1 > 0 && ValueHidden2 > 0, "hidden sizes must be positive");
        Need(MemoryUnits >= 0 && MemoryInputs > 0 && Aux >= 0 && Extra >= 0, "memory/aux/extra sizes must not be negative");
        Need(Minibatch > 0 && ActSteps >= Minibatch, $"minibatch {Minibatch} must be in 1..ActSteps ({ActSteps})");
        Need(BufferRows >= ActSteps, $"buffer rows {BufferRows} must be at least the act steps {ActSteps}");
        Need(Conv0Kernel > 0 && Conv0Stride > 0 && Conv1Kernel > 0 && Conv1Stride > 0, "conv kernel sizes and strides must be positive");
        Need(BufferRows >= Conv0Kernel, $"buffer rows {BufferRows} shorter than the first conv kernel {Conv0Kernel}");
        int len0 = (BufferRows - Conv0Kernel) / Conv0Stride + 1;
        Need(len0 >= Conv1Kernel, $"first conv output length {len0} shorter than the second conv kernel {Conv1Kernel}");
        Need(Conv0Channels > 0 && Conv1Channels > 0 && ContextUnits > 0 && HeadHidden > 0, "loss network widths must be positive");
        return this;
    }
}
