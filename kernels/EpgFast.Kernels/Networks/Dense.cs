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

    /// <summary>Launch size of a dense backward-params kernel with <paramref name="outputsPerItem"/> output units per work item: Learners * ceil(Out / outputsPerItem).</summary>
    public readonly int OutputItems(int outputsPerItem) => Learners * ((Out + Math.Max(outputsPerItem, 1) - 1) / Math.Max(outputsPerItem, 1));

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

/// <summary>
/// Dense forward. One work item per (learner, block of <see cref="RowsPerItem"/> consecutive rows):
/// index = l * ceil(Rows / RowsPerItem) + block (<see cref="DenseShape.RowItems"/> gives the launch size); with
/// RowsPerItem 0 or 1, index = l * Rows + r. Rows go four at a time through a 4 rows x 4 outputs register block
/// (16 independent sums; each weight load serves four rows and each input load four outputs), the rest one row at a
/// time (4 outputs per pass). Every output is b + sum_i w_i x_i added in the order of i, so the result does not
/// depend on RowsPerItem. The sums are stored first and the activation is applied in a second pass over them
/// (no call or activation switch inside the sums).
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
    /// <summary>Rows per work item; 0 or 1: one (the launch has Learners * Rows items). The CPU launcher is fastest with 4.</summary>
    public int RowsPerItem;

    public readonly void Execute(int index)
    {
        int per = RowsPerItem > 1 ? RowsPerItem : 1;
        int blocks = (S.Rows + per - 1) / per;
        int l = index / blocks;
        int r0 = (index - l * blocks) * per;
        int r1 = r0 + per < S.Rows ? r0 + per : S.Rows;
        int r = r0;
        for (; r + 4 <= r1; r += 4) FourRows(l, r);
        for (; r < r1; r++) OneRow(l, r);
        Dense.Activate(Y, (l * S.Rows + r0) * S.Out, (l * S.Rows + r1) * S.Out, S.Act);
    }

    /// <summary>Pre-activation sums of rows r .. r + 3 of learner l into y.</summary>
    private readonly void FourRows(int l, int r)
    {
        TF x = X, p = P, y = Y;
        int nIn = S.In, nOut = S.Out, xs = S.InStride;
        int row = l * S.Rows + r;
        int x0 = row * xs + S.InOffset, x1 = x0 + xs, x2 = x1 + xs, x3 = x2 + xs;
        int y0 = row * nOut;
        int w = l * S.ParamStride + S.ParamOffset;
        int b = l * S.ParamStride + S.BiasOffset;
        int o = 0;
        for (; o + 4 <= nOut; o += 4)
        {
            int wa = w + o * nIn, wb = wa + nIn, wc = wb + nIn, wd = wc + nIn;
            float ba = p[b + o], bb = p[b + o + 1], bc = p[b + o + 2], bd = p[b + o + 3];
            float z0a = ba, z0b = bb, z0c = bc, z0d = bd; // z{row}{output}
            float z1a = ba, z1b = bb, z1c = bc, z1d = bd;
            float z2a = ba, z2b = bb, z2c = bc, z2d = bd;
            float z3a = ba, z3b = bb, z3c = bc, z3d = bd;
            for (int i = 0; i < nIn; i++)
            {
                float pa = p[wa + i], pb = p[wb + i], pc = p[wc + i], pd = p[wd + i];
                float v = x[x0 + i];
                z0a += pa * v; z0b += pb * v; z0c += pc * v; z0d += pd * v;
                v = x[x1 + i];
                z1a += pa * v; z1b += pb * v; z1c += pc * v; z1d += pd * v;
                v = x[x2 + i];
                z2a += pa * v; z2b += pb * v; z2c += pc * v; z2d += pd * v;
                v = x[x3 + i];
                z3a += pa * v; z3b += pb * v; z3c += pc * v; z3d += pd * v;
            }
            int ya = y0 + o;
            y[ya] = z0a; y[ya + 1] = z0b; y[ya + 2] = z0c; y[ya + 3] = z0d;
            ya += nOut;
            y[ya] = z1a; y[ya + 1] = z1b; y[ya + 2] = z1c; y[ya + 3] = z1d;
            ya += nOut;
            y[ya] = z2a; y[ya + 1] = z2b; y[ya + 2] = z2c; y[ya + 3] = z2d;
            ya += nOut;
            y[ya] = z3a; y[ya + 1] = z3b; y[ya + 2] = z3c; y[ya + 3] = z3d;
        }
        for (; o < nOut; o++)
        {
            int wo = w + o * nIn;
            float bo = p[b + o];
            float z0 = bo, z1 = bo, z2 = bo, z3 = bo;
            for (int i = 0; i < nIn; i++)
            {
                float pw = p[wo + i];
                z0 += pw * x[x0 + i];
                z1 += pw * x[x1 + i];
                z2 += pw * x[x2 + i];
                z3 += pw * x[x3 + i];
            }
            y[y0 + o] = z0;
            y[y0 + nOut + o] = z1;
            y[y0 + 2 * nOut + o] = z2;
            y[y0 + 3 * nOut + o] = z3;
        }
    }

    /// <summary>Pre-activation sums of row r of learner l into y.</summary>
    private readonly void OneRow(int l, int r)
    {
        TF x = X, p = P, y = Y;
        int nIn = S.In, nOut = S.Out;
        int row = l * S.Rows + r;
        int xBase = row * S.InStride + S.InOffset;
        int yBase = row * nOut;
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
            y[yBase + o] = z0;
            y[yBase + o + 1] = z1;
            y[yBase + o + 2] = z2;
            y[yBase + o + 3] = z3;
        }
        for (; o < nOut; o++)
        {
            float z = p[b + o];
            int wRow = w + o * nIn;
            for (int i = 0; i < nIn; i++)
                z += p[wRow + i] * x[xBase + i];
            y[yBase + o] = z;
        }
    }
}

/// <summary>Helpers shared by the dense kernels.</summary>
public static class Dense
{
    /// <summary>y[j] = act(y[j]) for j in [start, end): one activation test per call, none per element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Activate<TF>(TF y, int start, int end, Activation act) where TF : struct, IView<float>
    {
        if (act == Activation.Tanh)
        {
            for (int j = start; j < end; j++) y[j] = Act.Tanh(y[j]);
        }
        else if (act == Activation.LeakyRelu)
        {
            for (int j = start; j < end; j++)
            {
                float z = y[j];
                y[j] = z > 0f ? z : Act.LeakySlope * z;
            }
        }
    }
}

/// <summary>
/// Dense backward to the inputs: dx = W^T (dy * act'(y)). One work item per (learner, block of
/// <see cref="RowsPerItem"/> consecutive rows), laid out as in <see cref="DenseForwardKernel{TF}"/>
/// (<see cref="DenseShape.RowItems"/> gives the launch size; 0 or 1: one row per item). Rows go four at a time:
/// for each block of four outputs the 16 values dz = dy * act'(y) stay in registers while each weight load serves
/// four rows. For every row, dx gets (w0 dz0 + w1 dz1 + w2 dz2 + w3 dz3) added per block of four outputs, then
/// w dz per remaining output, whatever RowsPerItem. With Accumulate = 1, dx is added to instead of overwritten.
/// dx is always packed (Learners, Rows, In), whatever the forward input's InStride.
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
    /// <summary>Rows per work item; 0 or 1: one (the launch has Learners * Rows items). The CPU launcher is fastest with 4.</summary>
    public int RowsPerItem;

    public readonly void Execute(int index)
    {
        int per = RowsPerItem > 1 ? RowsPerItem : 1;
        int blocks = (S.Rows + per - 1) / per;
        int l = index / blocks;
        int r0 = (index - l * blocks) * per;
        int r1 = r0 + per < S.Rows ? r0 + per : S.Rows;
        if (Accumulate == 0)
        {
            TF dx = DX;
            int end = (l * S.Rows + r1) * S.In;
            for (int j = (l * S.Rows + r0) * S.In; j < end; j++) dx[j] = 0f;
        }
        int r = r0;
        for (; r + 4 <= r1; r += 4) FourRows(l, r);
        for (; r < r1; r++) OneRow(l, r);
    }

    /// <summary>dx of rows r .. r + 3 of learner l (added to).</summary>
    private readonly void FourRows(int l, int r)
    {
        TF p = P, y = Y, dy = DY, dx = DX;
        int nIn = S.In, nOut = S.Out;
        Activation act = S.Act;
        int row = l * S.Rows + r;
        int x0 = row * nIn, x1 = x0 + nIn, x2 = x1 + nIn, x3 = x2 + nIn;
        int y0 = row * nOut, y1 = y0 + nOut, y2 = y1 + nOut, y3 = y2 + nOut;
        int w = l * S.ParamStride + S.ParamOffset;
        int o = 0;
        for (; o + 4 <= nOut; o += 4)
        {
            // d{row}{output}
            float d0a = Dz(dy, y, y0 + o, act), d0b = Dz(dy, y, y0 + o + 1, act), d0c = Dz(dy, y, y0 + o + 2, act), d0d = Dz(dy, y, y0 + o + 3, act);
            float d1a = Dz(dy, y, y1 + o, act), d1b = Dz(dy, y, y1 + o + 1, act), d1c = Dz(dy, y, y1 + o + 2, act), d1d = Dz(dy, y, y1 + o + 3, act);
            float d2a = Dz(dy, y, y2 + o, act), d2b = Dz(dy, y, y2 + o + 1, act), d2c = Dz(dy, y, y2 + o + 2, act), d2d = Dz(dy, y, y2 + o + 3, act);
            float d3a = Dz(dy, y, y3 + o, act), d3b = Dz(dy, y, y3 + o + 1, act), d3c = Dz(dy, y, y3 + o + 2, act), d3d = Dz(dy, y, y3 + o + 3, act);
            int wa = w + o * nIn, wb = wa + nIn, wc = wb + nIn, wd = wc + nIn;
            for (int i = 0; i < nIn; i++)
            {
                float pa = p[wa + i], pb = p[wb + i], pc = p[wc + i], pd = p[wd + i];
                dx[x0 + i] += pa * d0a + pb * d0b + pc * d0c + pd * d0d;
                dx[x1 + i] += pa * d1a + pb * d1b + pc * d1c + pd * d1d;
                dx[x2 + i] += pa * d2a + pb * d2b + pc * d2c + pd * d2d;
                dx[x3 + i] += pa * d3a + pb * d3b + pc * d3c + pd * d3d;
            }
        }
        for (; o < nOut; o++)
        {
            float d0 = Dz(dy, y, y0 + o, act), d1 = Dz(dy, y, y1 + o, act), d2 = Dz(dy, y, y2 + o, act), d3 = Dz(dy, y, y3 + o, act);
            int wo = w + o * nIn;
            for (int i = 0; i < nIn; i++)
            {
                float pw = p[wo + i];
                dx[x0 + i] += pw * d0;
                dx[x1 + i] += pw * d1;
                dx[x2 + i] += pw * d2;
                dx[x3 + i] += pw * d3;
            }
        }
    }

    /// <summary>dx of row r of learner l (added to).</summary>
    private readonly void OneRow(int l, int r)
    {
        TF p = P, y = Y, dy = DY, dx = DX;
        int nIn = S.In, nOut = S.Out;
        Activation act = S.Act;
        int row = l * S.Rows + r;
        int xBase = row * nIn;
        int yBase = row * nOut;
        int w = l * S.ParamStride + S.ParamOffset;
        int o = 0;
        for (; o + 4 <= nOut; o += 4)
        {
            float d0 = Dz(dy, y, yBase + o, act), d1 = Dz(dy, y, yBase + o + 1, act), d2 = Dz(dy, y, yBase + o + 2, act), d3 = Dz(dy, y, yBase + o + 3, act);
            int w0 = w + o * nIn, w1 = w0 + nIn, w2 = w1 + nIn, w3 = w2 + nIn;
            for (int i = 0; i < nIn; i++)
                dx[xBase + i] += p[w0 + i] * d0 + p[w1 + i] * d1 + p[w2 + i] * d2 + p[w3 + i] * d3;
        }
        for (; o < nOut; o++)
        {
            float dz = Dz(dy, y, yBase + o, act);
            int wRow = w + o * nIn;
            for (int i = 0; i < nIn; i++)
                dx[xBase + i] += p[wRow + i] * dz;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dz(TF dy, TF y, int j, Activation act) => dy[j] * Act.GradFromOutput(act, y[j]);
}

/// <summary>
/// Dense backward to the parameters: dW[o, :] = sum_r dz[r, o] x[r, :], db[o] = sum_r dz[r, o], dz = dy * act'(y).
/// One work item per (learner, block of <see cref="OutputsPerItem"/> output units): index = l * ceil(Out / OutputsPerItem)
/// + block (<see cref="DenseShape.OutputItems"/> gives the launch size; 0 or 1: index = l * Out + o). Gradients are
/// added to <c>G</c> (same layout as the parameters), so several layers and losses can share it. Rows go four at a
/// time: one read-modify-write of each weight gradient per four rows, sum d0 x0 + d1 x1 + d2 x2 + d3 x3 (then
/// the remaining rows one by one), whatever OutputsPerItem; four outputs at a time share each input load.
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
    /// <summary>Output units per work item; 0 or 1: one (the launch has Learners * Out items). The CPU launcher is fastest with 4.</summary>
    public int OutputsPerItem;

    public readonly void Execute(int index)
    {
        int per = OutputsPerItem > 1 ? OutputsPerItem : 1;
        int nOut = S.Out;
        int blocks = (nOut + per - 1) / per;
        int l = index / blocks;
        int o0 = (index - l * blocks) * per;
        int o1 = o0 + per < nOut ? o0 + per : nOut;
        int o = o0;
        for (; o + 4 <= o1; o += 4) FourOutputs(l, o);
        for (; o < o1; o++) OneOutput(l, o);
    }

    /// <summary>Gradients of output units o .. o + 3 of learner l.</summary>
    private readonly void FourOutputs(int l, int o)
    {
        TF x = X, y = Y, dy = DY, g = G;
        int nIn = S.In, nOut = S.Out, rows = S.Rows, xs = S.InStride;
        Activation act = S.Act;
        int ga = l * S.ParamStride + S.ParamOffset + o * nIn, gb = ga + nIn, gc = gb + nIn, gd = gc + nIn;
        float dba = 0f, dbb = 0f, dbc = 0f, dbd = 0f;
        int r = 0;
        for (; r + 4 <= rows; r += 4)
        {
            int row = l * rows + r;
            int y0 = row * nOut + o, y1 = y0 + nOut, y2 = y1 + nOut, y3 = y2 + nOut;
            // d{row}{output}
            float d0a = Dz(dy, y, y0, act), d0b = Dz(dy, y, y0 + 1, act), d0c = Dz(dy, y, y0 + 2, act), d0d = Dz(dy, y, y0 + 3, act);
            float d1a = Dz(dy, y, y1, act), d1b = Dz(dy, y, y1 + 1, act), d1c = Dz(dy, y, y1 + 2, act), d1d = Dz(dy, y, y1 + 3, act);
            float d2a = Dz(dy, y, y2, act), d2b = Dz(dy, y, y2 + 1, act), d2c = Dz(dy, y, y2 + 2, act), d2d = Dz(dy, y, y2 + 3, act);
            float d3a = Dz(dy, y, y3, act), d3b = Dz(dy, y, y3 + 1, act), d3c = Dz(dy, y, y3 + 2, act), d3d = Dz(dy, y, y3 + 3, act);
            dba += d0a + d1a + d2a + d3a;
            dbb += d0b + d1b + d2b + d3b;
            dbc += d0c + d1c + d2c + d3c;
            dbd += d0d + d1d + d2d + d3d;
            int x0 = row * xs + S.InOffset, x1 = x0 + xs, x2 = x1 + xs, x3 = x2 + xs;
            for (int i = 0; i < nIn; i++)
            {
                float v0 = x[x0 + i], v1 = x[x1 + i], v2 = x[x2 + i], v3 = x[x3 + i];
                g[ga + i] += d0a * v0 + d1a * v1 + d2a * v2 + d3a * v3;
                g[gb + i] += d0b * v0 + d1b * v1 + d2b * v2 + d3b * v3;
                g[gc + i] += d0c * v0 + d1c * v1 + d2c * v2 + d3c * v3;
                g[gd + i] += d0d * v0 + d1d * v1 + d2d * v2 + d3d * v3;
            }
        }
        for (; r < rows; r++)
        {
            int row = l * rows + r;
            int yi = row * nOut + o;
            float da = Dz(dy, y, yi, act), db = Dz(dy, y, yi + 1, act), dc = Dz(dy, y, yi + 2, act), dd = Dz(dy, y, yi + 3, act);
            dba += da;
            dbb += db;
            dbc += dc;
            dbd += dd;
            int xBase = row * xs + S.InOffset;
            for (int i = 0; i < nIn; i++)
            {
                float v = x[xBase + i];
                g[ga + i] += da * v;
                g[gb + i] += db * v;
                g[gc + i] += dc * v;
                g[gd + i] += dd * v;
            }
        }
        int bIdx = l * S.ParamStride + S.BiasOffset + o;
        g[bIdx] += dba;
        g[bIdx + 1] += dbb;
        g[bIdx + 2] += dbc;
        g[bIdx + 3] += dbd;
    }

    /// <summary>Gradients of output unit o of learner l.</summary>
    private readonly void OneOutput(int l, int o)
    {
        TF x = X, y = Y, dy = DY, g = G;
        int nIn = S.In, nOut = S.Out, rows = S.Rows, xs = S.InStride;
        Activation act = S.Act;
        int wRow = l * S.ParamStride + S.ParamOffset + o * nIn;
        int bIdx = l * S.ParamStride + S.BiasOffset + o;
        float db = 0f;
        int r = 0;
        for (; r + 4 <= rows; r += 4)
        {
            int row = l * rows + r;
            int yi = row * nOut + o;
            float d0 = Dz(dy, y, yi, act);
            float d1 = Dz(dy, y, yi + nOut, act);
            float d2 = Dz(dy, y, yi + 2 * nOut, act);
            float d3 = Dz(dy, y, yi + 3 * nOut, act);
            db += d0 + d1 + d2 + d3;
            int x0 = row * xs + S.InOffset, x1 = x0 + xs, x2 = x1 + xs, x3 = x2 + xs;
            for (int i = 0; i < nIn; i++)
                g[wRow + i] += d0 * x[x0 + i] + d1 * x[x1 + i] + d2 * x[x2 + i] + d3 * x[x3 + i];
        }
        for (; r < rows; r++)
        {
            int row = l * rows + r;
            int yi = row * nOut + o;
            float dz = Dz(dy, y, yi, act);
            db += dz;
            int xBase = row * xs + S.InOffset;
            for (int i = 0; i < nIn; i++)
                g[wRow + i] += dz * x[xBase + i];
        }
        g[bIdx] += db;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dz(TF dy, TF y, int j, Activation act) => dy[j] * Act.GradFromOutput(act, y[j]);
}
