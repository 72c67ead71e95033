using System.Runtime.CompilerServices;
using EpgFast.Kernels.Launch;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;

namespace EpgFast.Bench;

/// <summary>
/// A hand-written baseline for the benches (not an engine path): a plain batched dense layer forward. One work item per (learner, block of <see cref="RowsPerItem"/> consecutive rows):
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

/// <summary>The activation pass of <see cref="DenseForwardKernel{TF}"/>.</summary>
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
