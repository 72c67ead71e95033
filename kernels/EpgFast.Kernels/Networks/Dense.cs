using System.Runtime.CompilerServices;
using EpgFast.Kernels.Launch;
using EpgFast.Kernels.Memory;

namespace EpgFast.Kernels.Networks;

/// <summary>Activation applied after a dense layer.</summary>
public enum Activation
{
    Linear = 0,
    Tanh = 1,
    LeakyRelu = 2,
}

/// <summary>
/// Shape of a batched dense layer in which every learner owns its weights:
/// y[l, r, :] = act(W_l x[l, r, :] + b_l) for learners l &lt; Learners and rows r &lt; Rows.
/// Layer parameters sit inside each learner's flat parameter block (stride ParamStride):
/// W (Out x In, row-major) at ParamOffset and b (Out) at BiasOffset (by default right after W;
/// the policy keeps the released code's order W1 W2 W3 b1 b2 b3 instead).
/// The input x may be a column window of wider rows: x[l, r, i] = X[(l * Rows + r) * InStride + InOffset + i]
/// (InStride = In, InOffset = 0 by default), so a network can read observations straight out of a buffer row.
/// </summary>
public struct DenseShape
{
    public int Learners;
    public int Rows;
    public int In;
    public int Out;
    public int ParamStride;
    public int ParamOffset;
    public int BiasOffset;
    public int InStride;
    public int InOffset;
    public Activation Act;

    public readonly int ParamCount => Out * In + Out;

    public static DenseShape Create(int learners, int rows, int inputs, int outputs, Activation act,
        int paramStride = -1, int paramOffset = 0, int biasOffset = -1) => new()
    {
        Learners = learners,
        Rows = rows,
        In = inputs,
        Out = outputs,
        Act = act,
        ParamOffset = paramOffset,
        BiasOffset = biasOffset < 0 ? paramOffset + outputs * inputs : biasOffset,
        ParamStride = paramStride < 0 ? outputs * inputs + outputs : paramStride,
        InStride = inputs,
        InOffset = 0,
    };

    /// <summary>The same layer reading its input as columns [offset, offset + In) of rows <paramref name="stride"/> wide.</summary>
    public readonly DenseShape WithInput(int stride, int offset)
    {
        var s = this;
        s.InStride = stride;
        s.InOffset = offset;
        return s;
    }

    /// <summary>The same layer over <paramref name="rows"/> rows per learner.</summary>
    public readonly DenseShape WithRows(int rows)
    {
        var s = this;
        s.Rows = rows;
        return s;
    }

    /// <summary>Multiply-adds of the forward pass (2 flops each) for all learners and rows.</summary>
    public readonly long ForwardFlops => 2L * Learners * Rows * Out * (In + 1);
}

/// <summary>Activation functions and their derivatives, expressed through the activation's output where possible.</summary>
public static class Act
{
    /// <summary>Leaky ReLU slope for negative inputs: 0.2, Chainer's F.leaky_relu default, which the released EPG loss network uses.</summary>
    public const float LeakySlope = 0.2f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(Activation a, float z) => a switch
    {
        Activation.Tanh => MathF.Tanh(z),
        Activation.LeakyRelu => z > 0f ? z : LeakySlope * z,
        _ => z,
    };

    /// <summary>d act / dz given the output y = act(z).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float GradFromOutput(Activation a, float y) => a switch
    {
        Activation.Tanh => 1f - y * y,
        Activation.LeakyRelu => y > 0f ? 1f : LeakySlope,
        _ => 1f,
    };
}

/// <summary>
/// Dense forward. One work item per (learner, row): index = l * Rows + r.
/// </summary>
public struct DenseForwardKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>x: (Learners, Rows, InStride), columns [InOffset, InOffset + In) used</summary>
    public TF X;
    /// <summary>p: (Learners, ParamStride)</summary>
    public TF P;
    /// <summary>y: (Learners, Rows, Out)</summary>
    public TF Y;
    public DenseShape S;

    public readonly void Execute(int index)
    {
        TF x = X, p = P, y = Y;
        int nIn = S.In, nOut = S.Out;
        Activation act = S.Act;
        int l = index / S.Rows;
        int xBase = index * S.InStride + S.InOffset;
        int yBase = index * nOut;
        int w = l * S.ParamStride + S.ParamOffset;
        int b = l * S.ParamStride + S.BiasOffset;
        for (int o = 0; o < nOut; o++)
        {
            float z = p[b + o];
            int wRow = w + o * nIn;
            for (int i = 0; i < nIn; i++)
                z += p[wRow + i] * x[xBase + i];
            y[yBase + o] = Act.Apply(act, z);
        }
    }
}

/// <summary>
/// Dense backward to the inputs: dx = W^T (dy * act'(y)). One work item per (learner, row).
/// With Accumulate = 1, dx is added to instead of overwritten. dx is always packed (Learners, Rows, In),
/// whatever the forward input's InStride.
/// </summary>
public struct DenseBackwardInputKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>p: (Learners, ParamStride)</summary>
    public TF P;
    /// <summary>y: (Learners, Rows, Out), the forward output</summary>
    public TF Y;
    /// <summary>dy: (Learners, Rows, Out)</summary>
    public TF DY;
    /// <summary>dx: (Learners, Rows, In)</summary>
    public TF DX;
    public DenseShape S;
    /// <summary>1: add to dx; 0: overwrite (ints, not bools: ILGPU kernel arguments must be blittable).</summary>
    public int Accumulate;

    public readonly void Execute(int index)
    {
        TF p = P, y = Y, dy = DY, dx = DX;
        int l = index / S.Rows;
        int xBase = index * S.In;
        int yBase = index * S.Out;
        int w = l * S.ParamStride + S.ParamOffset;
        for (int i = 0; i < S.In; i++)
            if (Accumulate == 0) dx[xBase + i] = 0f;
        for (int o = 0; o < S.Out; o++)
        {
            float dz = dy[yBase + o] * Act.GradFromOutput(S.Act, y[yBase + o]);
            int wRow = w + o * S.In;
            for (int i = 0; i < S.In; i++)
                dx[xBase + i] += p[wRow + i] * dz;
        }
    }
}

/// <summary>
/// Dense backward to the parameters: dW[o, :] = sum_r dz[r, o] x[r, :], db[o] = sum_r dz[r, o].
/// One work item per (learner, output unit): index = l * Out + o. Gradients are added to
/// <c>G</c> (same layout as the parameters), so several layers and losses can share it.
/// </summary>
public struct DenseBackwardParamsKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>x: (Learners, Rows, InStride), columns [InOffset, InOffset + In) used</summary>
    public TF X;
    /// <summary>y: (Learners, Rows, Out)</summary>
    public TF Y;
    /// <summary>dy: (Learners, Rows, Out)</summary>
    public TF DY;
    /// <summary>g: (Learners, ParamStride), accumulated into</summary>
    public TF G;
    public DenseShape S;

    public readonly void Execute(int index)
    {
        TF x = X, y = Y, dy = DY, g = G;
        int l = index / S.Out;
        int o = index - l * S.Out;
        int w = l * S.ParamStride + S.ParamOffset;
        int wRow = w + o * S.In;
        int bIdx = l * S.ParamStride + S.BiasOffset + o;
        float db = 0f;
        for (int r = 0; r < S.Rows; r++)
        {
            int row = l * S.Rows + r;
            int yi = row * S.Out + o;
            float dz = dy[yi] * Act.GradFromOutput(S.Act, y[yi]);
            db += dz;
            int xBase = row * S.InStride + S.InOffset;
            for (int i = 0; i < S.In; i++)
                g[wRow + i] += dz * x[xBase + i];
        }
        g[bIdx] += db;
    }
}
