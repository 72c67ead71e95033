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

/// <summary>
/// Untrained memory: mem[l, j] = tanh(0 + sum_k W0[j, k]), the output of <see cref="MemoryForwardKernel{TF}"/> on freshly
/// initialized weights (zero bias, W0 as <see cref="ColumnNormalInitKernel{TF}"/> draws it: column k scaled to norm
/// Scale), bit for bit, from the same draws; a lean learner computes it once per life instead of keeping W. Column k's
/// draws go to a scratch row, then each unit adds its weight in the order k = 0, 1, ... One work item per learner.
/// </summary>
public struct MemoryConstantKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>column: (Learners, Units), scratch for one column of W0</summary>
    public TF Column;
    /// <summary>mem: (Learners, Units), written</summary>
    public TF Mem;
    public int In;
    public int Units;
    public float Scale;
    /// <summary>The memory weights' first counter (their offset in the full learner layout).</summary>
    public int Counter;
    public InitStream Stream;

    public readonly void Execute(int l)
    {
        TF column = Column, mem = Mem;
        int cb = l * Units, mb = l * Units;
        for (int j = 0; j < Units; j++) mem[mb + j] = 0f;
        for (int k = 0; k < In; k++)
        {
            float s = Stream.DrawColumn(column, cb, 1, l, Counter, In, Units, k, Scale);
            for (int j = 0; j < Units; j++) mem[mb + j] += column[cb + j] * s;
        }
        for (int j = 0; j < Units; j++) mem[mb + j] = MathF.Tanh(mem[mb + j]);
    }
}
