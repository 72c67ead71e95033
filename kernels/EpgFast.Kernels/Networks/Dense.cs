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

    /// <summary>Launch size of a dense forward or backward-input kernel with <paramref name="rowsPerItem"/> rows per work item: Learners * ceil(Rows / rowsPerItem).</summary>
    public readonly int RowItems(int rowsPerItem) => Learners * ((Rows + Math.Max(rowsPerItem, 1) - 1) / Math.Max(rowsPerItem, 1));

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
    /// tanh without calls or data-dependent branches (so the CPU JIT keeps callers' values in registers and the
    /// GPU runs it straight through): with a = min(|z|, 9) and m = 1 - exp(-2a) = -expm1(-2a),
    /// tanh(a) = m / (2 - m). expm1 is computed to float precision for every a (no cancellation near 0):
    /// -2a = k ln2 + f with k integer (rounded by adding 1.5 * 2^23) and |f| &lt;= ln2 / 2, expm1(f) by its Taylor
    /// series to degree 7 (truncation below 2e-8 relative), then 1 -+ exp(-2a) = (1 -+ 2^k) -+ 2^k expm1(f) with 2^k
    /// built from its exponent bits. Above |z| = 9, tanh rounds to +-1 in float. Absolute error below 2e-7,
    /// relative error below 1e-6 (tested on a dense grid); tanh(+-0) = +-0; NaN stays NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Tanh(float z)
    {
        float a = MathF.Abs(z);
        if (a > 9f) a = 9f; // NaN passes through
        float r = a * -2.88539008f + 12582912f;                        // 1.5 * 2^23 + k, k = round(-2a / ln2) in [-26, 0]
        int k = BitConverter.SingleToInt32Bits(r) - 0x4B400000;        // k from r's mantissa bits
        float kf = r - 12582912f;                                      // k as a float, exactly
        float f = (-2f * a - kf * 0.693145751953125f) - kf * 1.42860677e-6f; // Cody-Waite: ln2 = hi + lo, k * hi exact
        // expm1(f) = f + f^2 (1/2 + f/6 + f^2/24 + ... + f^5/5040), the bracket in Estrin's scheme (short dependency chains)
        float f2 = f * f;
        float q = (0.5f + f * (1f / 6f)) + f2 * ((1f / 24f + f * (1f / 120f)) + f2 * (1f / 720f + f * (1f / 5040f)));
        float em = f + f2 * q;
        float scale = BitConverter.Int32BitsToSingle((k + 127) << 23);  // 2^k
        float se = scale * em;
        float num = (1f - scale) - se;                                 // 1 - exp(-2a) >= 0
        float den = (1f + scale) + se;                                 // 1 + exp(-2a)
        // +-1 with z's sign, from bits (a branch on the sign would be unpredictable on the CPU)
        float sign = BitConverter.Int32BitsToSingle((BitConverter.SingleToInt32Bits(z) & int.MinValue) | 0x3F800000);
        return sign * num / den;
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
