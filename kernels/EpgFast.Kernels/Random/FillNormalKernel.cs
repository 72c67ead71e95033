using EpgFast.Kernels.Launch;
using EpgFast.Kernels.Memory;

namespace EpgFast.Kernels.Random;

/// <summary>
/// Fills <c>output</c> with <c>mean + scale * N(0, 1)</c>: element i is normal number i of the
/// sequence (Seed, Stream). One work item per element.
/// </summary>
public struct FillNormalKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>output: (n)</summary>
    public TF Output;
    public ulong Seed;
    public ulong Stream;
    public float Mean;
    public float Scale;

    public readonly void Execute(int i)
    {
        TF output = Output;
        output[i] = Mean + Scale * Philox.NormalAt(Seed, Stream, (ulong)i);
    }
}

/// <summary>Fills <c>output</c> with uniform floats in [Low, High): element i is uniform number i of (Seed, Stream).</summary>
public struct FillUniformKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>output: (n)</summary>
    public TF Output;
    public ulong Seed;
    public ulong Stream;
    public float Low;
    public float High;

    public readonly void Execute(int i)
    {
        TF output = Output;
        output[i] = Low + (High - Low) * Philox.UniformAt(Seed, Stream, (ulong)i);
    }
}
