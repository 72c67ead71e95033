using EpgFast.Kernels.Launch;
using EpgFast.Kernels.Memory;

namespace EpgFast.Kernels.Networks;

/// <summary>
/// The EPG memory units (released networks.py, Memory): mem = tanh(W 1 + b), a dense layer on a
/// constant input of <c>In</c> ones (64), <c>Units</c> outputs (32). The learner trains W and b by
/// backpropagation, so the memory can store information in its weights across the lifetime.
/// W (Units x In) at WOffset and b (Units) at BOffset inside the learner's parameter block.
/// </summary>
public struct MemoryShape
{
    public int Learners;
    public int Units;
    public int In;
    public int ParamStride;
    public int WOffset;
    public int BOffset;
}

/// <summary>Memory forward: mem[l, j] = tanh(b_j + sum_k W[j, k]). One work item per (learner, unit).</summary>
public struct MemoryForwardKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>p: (Learners, ParamStride)</summary>
    public TF P;
    /// <summary>mem: (Learners, Units), written</summary>
    public TF Mem;
    public MemoryShape S;

    public readonly void Execute(int index)
    {
        TF p = P, mem = Mem;
        int l = index / S.Units;
        int j = index - l * S.Units;
        int w = l * S.ParamStride + S.WOffset + j * S.In;
        float z = p[l * S.ParamStride + S.BOffset + j];
        for (int k = 0; k < S.In; k++) z += p[w + k];
        mem[index] = MathF.Tanh(z);
    }
}

/// <summary>
/// Memory backward: dz = dmem (1 - mem^2); dW[j, k] += dz (the input is all ones), db[j] += dz.
/// One work item per (learner, unit); gradients are added to G.
/// </summary>
public struct MemoryBackwardKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>mem: (Learners, Units), the forward output</summary>
    public TF Mem;
    /// <summary>dmem: (Learners, Units)</summary>
    public TF DMem;
    /// <summary>g: (Learners, ParamStride), accumulated into</summary>
    public TF G;
    public MemoryShape S;

    public readonly void Execute(int index)
    {
        TF mem = Mem, dMem = DMem, g = G;
        int l = index / S.Units;
        int j = index - l * S.Units;
        float m = mem[index];
        float dz = dMem[index] * (1f - m * m);
        int w = l * S.ParamStride + S.WOffset + j * S.In;
        for (int k = 0; k < S.In; k++) g[w + k] += dz;
        g[l * S.ParamStride + S.BOffset + j] += dz;
    }
}
