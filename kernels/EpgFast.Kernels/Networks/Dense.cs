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
        Activation.Tanh => Tanh(z),
        Activation.LeakyRelu => z > 0f ? z : LeakySlope * z,
        _ => z,
    };

    /// <summary>
    /// tanh from one exponential: 1 - 2 / (exp(2z) + 1) (exact limits +-1 for large |z|), and its Taylor series
    /// below |z| = 1/8 where the subtraction would lose relative precision. Absolute error about 1e-7, relative
    /// error below 1e-6; several times faster than MathF.Tanh on the CPU.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Tanh(float z)
    {
        if (z > -0.125f && z < 0.125f)
        {
            float z2 = z * z;
            return z * (1f + z2 * (-1f / 3f + z2 * (2f / 15f - z2 * (17f / 315f))));
        }
        return 1f - 2f / (MathF.Exp(2f * z) + 1f);
    }

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
/// Four outputs at a time share each input load and keep four independent accumulators
/// (scalar code is otherwise bound by the latency of one dependent add chain).
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
        int o = 0;
        for (; o + 4 <= nOut; o += 4)
        {
            int w0 = w + o * nIn, w1 = w0 + nIn, w2 = w1 + nIn, w3 = w2 + nIn;
            float z0 = p[b + o], z1 = p[b + o + 1], z2 = p[b + o + 2], z3 = p[b + o + 3];
            for (int i = 0; i < nIn; i++)
            {
                float xi = x[xBase + i];
                z0 += p[w0 + i] * xi;
                z1 += p[w1 + i] * xi;
                z2 += p[w2 + i] * xi;
                z3 += p[w3 + i] * xi;
            }
            y[yBase + o] = Act.Apply(act, z0);
            y[yBase + o + 1] = Act.Apply(act, z1);
            y[yBase + o + 2] = Act.Apply(act, z2);
            y[yBase + o + 3] = Act.Apply(act, z3);
        }
        for (; o < nOut; o++)
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
        int nIn = S.In, nOut = S.Out;
        Activation act = S.Act;
        int l = index / S.Rows;
        int xBase = index * nIn;
        int yBase = index * nOut;
        int w = l * S.ParamStride + S.ParamOffset;
        if (Accumulate == 0)
            for (int i = 0; i < nIn; i++) dx[xBase + i] = 0f;
        int o = 0;
        for (; o + 4 <= nOut; o += 4)
        {
            float d0 = dy[yBase + o] * Act.GradFromOutput(act, y[yBase + o]);
            float d1 = dy[yBase + o + 1] * Act.GradFromOutput(act, y[yBase + o + 1]);
            float d2 = dy[yBase + o + 2] * Act.GradFromOutput(act, y[yBase + o + 2]);
            float d3 = dy[yBase + o + 3] * Act.GradFromOutput(act, y[yBase + o + 3]);
            int w0 = w + o * nIn, w1 = w0 + nIn, w2 = w1 + nIn, w3 = w2 + nIn;
            for (int i = 0; i < nIn; i++)
                dx[xBase + i] += p[w0 + i] * d0 + p[w1 + i] * d1 + p[w2 + i] * d2 + p[w3 + i] * d3;
        }
        for (; o < nOut; o++)
        {
            float dz = dy[yBase + o] * Act.GradFromOutput(act, y[yBase + o]);
            int wRow = w + o * nIn;
            for (int i = 0; i < nIn; i++)
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
        int nIn = S.In, nOut = S.Out, rows = S.Rows, xs = S.InStride;
        Activation act = S.Act;
        int l = index / nOut;
        int o = index - l * nOut;
        int wRow = l * S.ParamStride + S.ParamOffset + o * nIn;
        int bIdx = l * S.ParamStride + S.BiasOffset + o;
        float db = 0f;
        int r = 0;
        // Four rows at a time: one read-modify-write of each weight gradient per four rows.
        for (; r + 4 <= rows; r += 4)
        {
            int row = l * rows + r;
            int yi = row * nOut + o;
            float d0 = dy[yi] * Act.GradFromOutput(act, y[yi]);
            float d1 = dy[yi + nOut] * Act.GradFromOutput(act, y[yi + nOut]);
            float d2 = dy[yi + 2 * nOut] * Act.GradFromOutput(act, y[yi + 2 * nOut]);
            float d3 = dy[yi + 3 * nOut] * Act.GradFromOutput(act, y[yi + 3 * nOut]);
            db += d0 + d1 + d2 + d3;
            int x0 = row * xs + S.InOffset, x1 = x0 + xs, x2 = x1 + xs, x3 = x2 + xs;
            for (int i = 0; i < nIn; i++)
                g[wRow + i] += d0 * x[x0 + i] + d1 * x[x1 + i] + d2 * x[x2 + i] + d3 * x[x3 + i];
        }
        for (; r < rows; r++)
        {
            int row = l * rows + r;
            int yi = row * nOut + o;
            float dz = dy[yi] * Act.GradFromOutput(act, y[yi]);
            db += dz;
            int xBase = row * xs + S.InOffset;
            for (int i = 0; i < nIn; i++)
                g[wRow + i] += dz * x[xBase + i];
        }
        g[bIdx] += db;
    }
}
