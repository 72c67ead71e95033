using EpgFast.Kernels.Launch;
using EpgFast.Kernels.Memory;

namespace EpgFast.Kernels.Networks;

/// <summary>
/// The buffers of the lanes dense kernels (<see cref="DenseLanesForwardKernel{TF, TV, TL}"/> and its two
/// backward passes), one struct so that a host can launch any lane width with the same arguments. Shapes are
/// <see cref="DenseShape"/>'s; a kernel reads only the views its pass needs.
/// </summary>
public struct DenseLanesArgs<TF> where TF : struct, IView<float>
{
    /// <summary>x: (Learners, Rows, InStride), columns [InOffset, InOffset + In) used</summary>
    public TF X;
    /// <summary>p: (Learners, ParamStride), W (Out, In) row-major at ParamOffset, b (Out) at BiasOffset</summary>
    public TF P;
    /// <summary>wt: (Learners, In, Out), the layer's W transposed (<see cref="DenseTransposeKernel{TF}"/>), read by the forward</summary>
    public TF WT;
    /// <summary>y: (Learners, Rows, Out), the forward's output (after the activation)</summary>
    public TF Y;
    /// <summary>dy: (Learners, Rows, Out), the backward passes' dz: the gradient at the layer's pre-activation</summary>
    public TF DY;
    /// <summary>dx: (Learners, Rows, In), packed, the gradient at x</summary>
    public TF DX;
    /// <summary>g: (Learners, ParamStride), accumulated into</summary>
    public TF G;
    public DenseShape S;

    /// <summary>Work items of the row-blocked passes (forward, backward to the input): 4 rows each.</summary>
    public readonly int RowItems => S.Learners * ((S.Rows + 3) / 4);

    /// <summary>Work items of the backward to the parameters: 4 output units each.</summary>
    public readonly int OutputItems => S.Learners * ((S.Out + 3) / 4);

    /// <summary>Work item <paramref name="index"/> of a row-blocked pass: learner l, its block's first row (counted over all learners) and rows in the block (4; fewer at a learner's end).</summary>
    public readonly void RowBlock(int index, out int l, out int row, out int n)
    {
        int blocks = (S.Rows + 3) / 4;
        l = index / blocks;
        int r0 = (index - l * blocks) * 4;
        n = S.Rows - r0 < 4 ? S.Rows - r0 : 4;
        row = l * S.Rows + r0;
    }
}

/// <summary>
/// How the lanes kernels cover a vector dimension of n units with lanes of width w: lanes start at 0, w, 2w, ...,
/// and where n is not a multiple of w (and n &gt;= w) a last lane ends at n, overlapping the one before it. The
/// kernels take the lanes two at a time (twice the independent sums in flight: the loops are bound by the latency of
/// a multiply and an add, not by their throughput); an odd count leaves the first lane alone, so that an overlapping
/// last lane is always paired with the lane it overlaps. A pair is computed from the same inputs in the same order,
/// so both of its lanes write the same bits to the overlapped units. With n &lt; w there are no lanes: the kernels
/// go one unit at a time.
/// </summary>
public static class LanePlan
{
    /// <summary>Lanes over n units (0 when n &lt; width).</summary>
    public static int Count(int n, int width) => n < width ? 0 : (n + width - 1) / width;

    /// <summary>The first unit of lane <paramref name="lane"/>.</summary>
    public static int Start(int lane, int n, int width) => (lane + 1) * width <= n ? lane * width : n - width;
}

/// <summary>wt[l, i, o] = W_l[o, i] for one dense layer: the forward's layout, in which consecutive outputs are consecutive floats. One work item per (learner, input i).</summary>
public struct DenseTransposeKernel<TF> : IKernel where TF : struct, IView<float>
{
    /// <summary>p: (Learners, ParamStride)</summary>
    public TF P;
    /// <summary>wt: (Learners, In, Out), written</summary>
    public TF WT;
    public DenseShape S;

    public readonly void Execute(int index)
    {
        TF p = P, wt = WT;
        int nIn = S.In, nOut = S.Out;
        int l = index / nIn, i = index - l * nIn;
        int w = l * S.ParamStride + S.ParamOffset + i;
        int t = index * nOut;
        for (int o = 0; o < nOut; o++) wt[t + o] = p[w + o * nIn];
    }
}

/// <summary>
/// Dense forward with the output units in lanes: y[l, r, o .. o + W) = act(b + sum_i x[l, r, i] WT[l, i, o .. o + W)),
/// W the lane width. One work item per (learner, block of 4 rows): each weight lane load serves four rows, each input
/// broadcast four lanes of outputs where the lane count is a multiple of 4 (the policy's 64 outputs), else two
/// (see <see cref="LanePlan"/>); with fewer than W outputs, one
/// output at a time. Activation Tanh or Linear. Sums in the order b, then i = 0, 1, ... (every lane width gives the
/// same bits).
/// </summary>
public struct DenseLanesForwardKernel<TF, TV, TL> : IKernel
    where TF : struct, IView<float> where TV : unmanaged where TL : struct, ILanes<TV>
{
    public DenseLanesArgs<TF> A;

    public readonly void Execute(int index)
    {
        TL lanes = default;
        int width = lanes.Width;
        int nOut = A.S.Out;
        A.RowBlock(index, out int l, out int row, out int n);
        int count = LanePlan.Count(nOut, width);
        if (n == 4 && count > 0 && (count & 3) == 0)
        {
            for (int q = 0; q < count; q += 4) Quad(l, row, q, nOut, width);
            return;
        }
        int j = count & 1;
        if (j != 0) Lane(l, row, n, 0);
        for (; j < count; j += 2) Pair(l, row, n, LanePlan.Start(j, nOut, width), LanePlan.Start(j + 1, nOut, width));
        if (count == 0) Scalar(l, row, n);
    }

    /// <summary>Lanes q .. q + 3 of four rows: 16 sums, each input broadcast serving four lanes.</summary>
    private readonly void Quad(int l, int row, int q, int nOut, int width)
    {
        TF x = A.X, p = A.P, wt = A.WT, y = A.Y;
        TL lanes = default;
        int nIn = A.S.In, xs = A.S.InStride;
        int o0 = LanePlan.Start(q, nOut, width), o1 = LanePlan.Start(q + 1, nOut, width);
        int o2 = LanePlan.Start(q + 2, nOut, width), o3 = LanePlan.Start(q + 3, nOut, width);
        int xb = row * xs + A.S.InOffset;
        int wtb = l * nIn * nOut;
        int bias = l * A.S.ParamStride + A.S.BiasOffset;
        TV b0 = lanes.Load(p, bias + o0), b1 = lanes.Load(p, bias + o1), b2 = lanes.Load(p, bias + o2), b3 = lanes.Load(p, bias + o3);
        TV a00 = b0, a01 = b1, a02 = b2, a03 = b3, a10 = b0, a11 = b1, a12 = b2, a13 = b3;
        TV a20 = b0, a21 = b1, a22 = b2, a23 = b3, a30 = b0, a31 = b1, a32 = b2, a33 = b3;
        for (int i = 0; i < nIn; i++)
        {
            int w = wtb + i * nOut;
            TV w0 = lanes.Load(wt, w + o0), w1 = lanes.Load(wt, w + o1), w2 = lanes.Load(wt, w + o2), w3 = lanes.Load(wt, w + o3);
            TV x0 = lanes.Splat(x[xb + i]);
            a00 = lanes.MulAdd(x0, w0, a00); a01 = lanes.MulAdd(x0, w1, a01); a02 = lanes.MulAdd(x0, w2, a02); a03 = lanes.MulAdd(x0, w3, a03);
            TV x1 = lanes.Splat(x[xb + xs + i]);
            a10 = lanes.MulAdd(x1, w0, a10); a11 = lanes.MulAdd(x1, w1, a11); a12 = lanes.MulAdd(x1, w2, a12); a13 = lanes.MulAdd(x1, w3, a13);
            TV x2 = lanes.Splat(x[xb + 2 * xs + i]);
            a20 = lanes.MulAdd(x2, w0, a20); a21 = lanes.MulAdd(x2, w1, a21); a22 = lanes.MulAdd(x2, w2, a22); a23 = lanes.MulAdd(x2, w3, a23);
            TV x3 = lanes.Splat(x[xb + 3 * xs + i]);
            a30 = lanes.MulAdd(x3, w0, a30); a31 = lanes.MulAdd(x3, w1, a31); a32 = lanes.MulAdd(x3, w2, a32); a33 = lanes.MulAdd(x3, w3, a33);
        }
        int tanh = A.S.Act == Activation.Tanh ? 1 : 0;
        StoreRow(y, row, nOut, o0, o1, o2, o3, a00, a01, a02, a03, tanh);
        StoreRow(y, row + 1, nOut, o0, o1, o2, o3, a10, a11, a12, a13, tanh);
        StoreRow(y, row + 2, nOut, o0, o1, o2, o3, a20, a21, a22, a23, tanh);
        StoreRow(y, row + 3, nOut, o0, o1, o2, o3, a30, a31, a32, a33, tanh);
    }

    private static void StoreRow(TF y, int row, int nOut, int o0, int o1, int o2, int o3, TV z0, TV z1, TV z2, TV z3, int tanh)
    {
        TL lanes = default;
        int at = row * nOut;
        lanes.Store(y, at + o0, tanh != 0 ? lanes.Tanh(z0) : z0);
        lanes.Store(y, at + o1, tanh != 0 ? lanes.Tanh(z1) : z1);
        lanes.Store(y, at + o2, tanh != 0 ? lanes.Tanh(z2) : z2);
        lanes.Store(y, at + o3, tanh != 0 ? lanes.Tanh(z3) : z3);
    }

    /// <summary>Output units [o, o + W) of rows row .. row + n - 1.</summary>
    private readonly void Lane(int l, int row, int n, int o)
    {
        TF x = A.X, p = A.P, wt = A.WT, y = A.Y;
        TL lanes = default;
        int nIn = A.S.In, nOut = A.S.Out, xs = A.S.InStride;
        int tanh = A.S.Act == Activation.Tanh ? 1 : 0;
        int xb = row * xs + A.S.InOffset;
        int wtb = l * nIn * nOut + o;
        TV z0 = lanes.Load(p, l * A.S.ParamStride + A.S.BiasOffset + o);
        if (n == 4)
        {
            TV z1 = z0, z2 = z0, z3 = z0;
            for (int i = 0; i < nIn; i++)
            {
                TV w = lanes.Load(wt, wtb + i * nOut);
                z0 = lanes.MulAdd(lanes.Splat(x[xb + i]), w, z0);
                z1 = lanes.MulAdd(lanes.Splat(x[xb + xs + i]), w, z1);
                z2 = lanes.MulAdd(lanes.Splat(x[xb + 2 * xs + i]), w, z2);
                z3 = lanes.MulAdd(lanes.Splat(x[xb + 3 * xs + i]), w, z3);
            }
            lanes.Store(y, row * nOut + o, tanh != 0 ? lanes.Tanh(z0) : z0);
            lanes.Store(y, (row + 1) * nOut + o, tanh != 0 ? lanes.Tanh(z1) : z1);
            lanes.Store(y, (row + 2) * nOut + o, tanh != 0 ? lanes.Tanh(z2) : z2);
            lanes.Store(y, (row + 3) * nOut + o, tanh != 0 ? lanes.Tanh(z3) : z3);
            return;
        }
        for (int k = 0; k < n; k++)
        {
            TV z = z0;
            for (int i = 0; i < nIn; i++) z = lanes.MulAdd(lanes.Splat(x[xb + k * xs + i]), lanes.Load(wt, wtb + i * nOut), z);
            lanes.Store(y, (row + k) * nOut + o, tanh != 0 ? lanes.Tanh(z) : z);
        }
    }

    /// <summary>Output units [oa, oa + W) and [ob, ob + W) of rows row .. row + n - 1 (the lanes may overlap).</summary>
    private readonly void Pair(int l, int row, int n, int oa, int ob)
    {
        TF x = A.X, p = A.P, wt = A.WT, y = A.Y;
        TL lanes = default;
        int nIn = A.S.In, nOut = A.S.Out, xs = A.S.InStride;
        int tanh = A.S.Act == Activation.Tanh ? 1 : 0;
        int xb = row * xs + A.S.InOffset;
        int wtb = l * nIn * nOut;
        int bias = l * A.S.ParamStride + A.S.BiasOffset;
        TV a0 = lanes.Load(p, bias + oa), b0 = lanes.Load(p, bias + ob);
        if (n == 4)
        {
            TV a1 = a0, a2 = a0, a3 = a0, b1 = b0, b2 = b0, b3 = b0;
            for (int i = 0; i < nIn; i++)
            {
                TV wa = lanes.Load(wt, wtb + i * nOut + oa), wb = lanes.Load(wt, wtb + i * nOut + ob);
                TV x0 = lanes.Splat(x[xb + i]), x1 = lanes.Splat(x[xb + xs + i]);
                TV x2 = lanes.Splat(x[xb + 2 * xs + i]), x3 = lanes.Splat(x[xb + 3 * xs + i]);
                a0 = lanes.MulAdd(x0, wa, a0);
                b0 = lanes.MulAdd(x0, wb, b0);
                a1 = lanes.MulAdd(x1, wa, a1);
                b1 = lanes.MulAdd(x1, wb, b1);
                a2 = lanes.MulAdd(x2, wa, a2);
                b2 = lanes.MulAdd(x2, wb, b2);
                a3 = lanes.MulAdd(x3, wa, a3);
                b3 = lanes.MulAdd(x3, wb, b3);
            }
            if (tanh != 0)
            {
                a0 = lanes.Tanh(a0); a1 = lanes.Tanh(a1); a2 = lanes.Tanh(a2); a3 = lanes.Tanh(a3);
                b0 = lanes.Tanh(b0); b1 = lanes.Tanh(b1); b2 = lanes.Tanh(b2); b3 = lanes.Tanh(b3);
            }
            lanes.Store(y, row * nOut + oa, a0);
            lanes.Store(y, row * nOut + ob, b0);
            lanes.Store(y, (row + 1) * nOut + oa, a1);
            lanes.Store(y, (row + 1) * nOut + ob, b1);
            lanes.Store(y, (row + 2) * nOut + oa, a2);
            lanes.Store(y, (row + 2) * nOut + ob, b2);
            lanes.Store(y, (row + 3) * nOut + oa, a3);
            lanes.Store(y, (row + 3) * nOut + ob, b3);
            return;
        }
        for (int k = 0; k < n; k++)
        {
            TV za = a0, zb = b0;
            for (int i = 0; i < nIn; i++)
            {
                TV xv = lanes.Splat(x[xb + k * xs + i]);
                za = lanes.MulAdd(xv, lanes.Load(wt, wtb + i * nOut + oa), za);
                zb = lanes.MulAdd(xv, lanes.Load(wt, wtb + i * nOut + ob), zb);
            }
            lanes.Store(y, (row + k) * nOut + oa, tanh != 0 ? lanes.Tanh(za) : za);
            lanes.Store(y, (row + k) * nOut + ob, tanh != 0 ? lanes.Tanh(zb) : zb);
        }
    }

    /// <summary>Fewer outputs than a lane: one output at a time.</summary>
    private readonly void Scalar(int l, int row, int n)
    {
        TF x = A.X, p = A.P, wt = A.WT, y = A.Y;
        int nIn = A.S.In, nOut = A.S.Out, xs = A.S.InStride;
        int tanh = A.S.Act == Activation.Tanh ? 1 : 0;
        int xb = row * xs + A.S.InOffset;
        int wtb = l * nIn * nOut;
        int bias = l * A.S.ParamStride + A.S.BiasOffset;
        for (int o = 0; o < nOut; o++)
            for (int k = 0; k < n; k++)
            {
                float z = p[bias + o];
                for (int i = 0; i < nIn; i++) z = x[xb + k * xs + i] * wt[wtb + i * nOut + o] + z;
                y[(row + k) * nOut + o] = tanh != 0 ? Act.Tanh(z) : z;
            }
    }
}

/// <summary>
/// Dense forward for few rows (acting: one row per learner) with the input units in lanes, reading W in its own
/// (Out, In) layout, so nothing is transposed: y[l, r, o] = act(b[o] + sum of the lanes of sum_i W[o, i .. i + W) x[r, i .. i + W)
/// + the inputs past the last whole lane). Four output units at a time (four independent sums), then tanh over the row a lane at a time. One work item per
/// (learner, row). Activation Tanh or Linear.
/// </summary>
public struct DenseLanesDotForwardKernel<TF, TV, TL> : IKernel
    where TF : struct, IView<float> where TV : unmanaged where TL : struct, ILanes<TV>
{
    public DenseLanesArgs<TF> A;

    public readonly void Execute(int index)
    {
        TF x = A.X, p = A.P, y = A.Y;
        TL lanes = default;
        int width = lanes.Width;
        int nIn = A.S.In, nOut = A.S.Out;
        int tanh = A.S.Act == Activation.Tanh ? 1 : 0;
        int l = index / A.S.Rows;
        int xb = index * A.S.InStride + A.S.InOffset;
        int wb = l * A.S.ParamStride + A.S.ParamOffset;
        int bias = l * A.S.ParamStride + A.S.BiasOffset;
        int whole = nIn - nIn % width;
        int o = 0;
        for (; o + 4 <= nOut; o += 4)
        {
            int w0 = wb + o * nIn, w1 = w0 + nIn, w2 = w1 + nIn, w3 = w2 + nIn;
            TV s0 = lanes.Splat(0f), s1 = s0, s2 = s0, s3 = s0;
            for (int i = 0; i < whole; i += width)
            {
                TV xv = lanes.Load(x, xb + i);
                s0 = lanes.MulAdd(lanes.Load(p, w0 + i), xv, s0);
                s1 = lanes.MulAdd(lanes.Load(p, w1 + i), xv, s1);
                s2 = lanes.MulAdd(lanes.Load(p, w2 + i), xv, s2);
                s3 = lanes.MulAdd(lanes.Load(p, w3 + i), xv, s3);
            }
            float z0 = p[bias + o] + lanes.Sum(s0), z1 = p[bias + o + 1] + lanes.Sum(s1);
            float z2 = p[bias + o + 2] + lanes.Sum(s2), z3 = p[bias + o + 3] + lanes.Sum(s3);
            for (int i = whole; i < nIn; i++)
            {
                float xi = x[xb + i];
                z0 += p[w0 + i] * xi;
                z1 += p[w1 + i] * xi;
                z2 += p[w2 + i] * xi;
                z3 += p[w3 + i] * xi;
            }
            int yb = index * nOut + o;
            y[yb] = z0;
            y[yb + 1] = z1;
            y[yb + 2] = z2;
            y[yb + 3] = z3;
        }
        for (; o < nOut; o++)
        {
            int w0 = wb + o * nIn;
            TV s0 = lanes.Splat(0f);
            for (int i = 0; i < whole; i += width) s0 = lanes.MulAdd(lanes.Load(p, w0 + i), lanes.Load(x, xb + i), s0);
            float z = p[bias + o] + lanes.Sum(s0);
            for (int i = whole; i < nIn; i++) z += p[w0 + i] * x[xb + i];
            y[index * nOut + o] = z;
        }
        if (tanh == 0) return;
        // the activation over the row's outputs, a lane at a time (the lanes tanh equals Act.Tanh to the bit)
        int row = index * nOut, u = 0;
        for (; u + width <= nOut; u += width) lanes.Store(y, row + u, lanes.Tanh(lanes.Load(y, row + u)));
        for (; u < nOut; u++) y[row + u] = Act.Tanh(y[row + u]);
    }
}

/// <summary>
/// Dense backward to the input with the input units in lanes, straight to the layer below's pre-activation:
/// dx[l, r, i .. i + W) = (sum_o dz[r, o] W[o, i .. i + W)) * act'(x[r, i .. i + W)), where dz (DY) is this layer's
/// gradient at its pre-activation and InputAct is the activation that produced x (Tanh: act' = 1 - x^2; Linear: 1).
/// So the next pass down reads its dz without recomputing activation derivatives. W is read in its own (Out, In)
/// layout. One work item per (learner, block of 4 rows), two lanes at a time (<see cref="LanePlan"/>); with fewer
/// than W inputs, one input at a time. Sums over o = 0, 1, ... from zero; dx is overwritten.
/// </summary>
public struct DenseLanesBackwardInputKernel<TF, TV, TL> : IKernel
    where TF : struct, IView<float> where TV : unmanaged where TL : struct, ILanes<TV>
{
    public DenseLanesArgs<TF> A;
    /// <summary>The activation whose output x is (Tanh or Linear).</summary>
    public Activation InputAct;

    public readonly void Execute(int index)
    {
        TL lanes = default;
        int width = lanes.Width;
        int nIn = A.S.In;
        A.RowBlock(index, out int l, out int row, out int n);
        int count = LanePlan.Count(nIn, width);
        if (n == 4 && count > 0 && (count & 3) == 0)
        {
            for (int q = 0; q < count; q += 4) Quad(l, row, q, nIn, width);
            return;
        }
        int j = count & 1;
        if (j != 0) Lane(l, row, n, 0);
        for (; j < count; j += 2) Pair(l, row, n, LanePlan.Start(j, nIn, width), LanePlan.Start(j + 1, nIn, width));
        if (count == 0) Scalar(l, row, n);
    }

    /// <summary>Lanes q .. q + 3 of the inputs, four rows: 16 sums, each dz broadcast serving four lanes.</summary>
    private readonly void Quad(int l, int row, int q, int nIn, int width)
    {
        TF p = A.P, x = A.X, dz = A.DY, dx = A.DX;
        TL lanes = default;
        int nOut = A.S.Out;
        int tanh = InputAct == Activation.Tanh ? 1 : 0;
        int i0 = LanePlan.Start(q, nIn, width), i1 = LanePlan.Start(q + 1, nIn, width);
        int i2 = LanePlan.Start(q + 2, nIn, width), i3 = LanePlan.Start(q + 3, nIn, width);
        int wb = l * A.S.ParamStride + A.S.ParamOffset;
        int zi = row * nOut;
        TV a00 = lanes.Splat(0f), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        TV a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        for (int o = 0; o < nOut; o++)
        {
            int w = wb + o * nIn;
            TV w0 = lanes.Load(p, w + i0), w1 = lanes.Load(p, w + i1), w2 = lanes.Load(p, w + i2), w3 = lanes.Load(p, w + i3);
            TV d0 = lanes.Splat(dz[zi + o]);
            a00 = lanes.MulAdd(d0, w0, a00); a01 = lanes.MulAdd(d0, w1, a01); a02 = lanes.MulAdd(d0, w2, a02); a03 = lanes.MulAdd(d0, w3, a03);
            TV d1 = lanes.Splat(dz[zi + nOut + o]);
            a10 = lanes.MulAdd(d1, w0, a10); a11 = lanes.MulAdd(d1, w1, a11); a12 = lanes.MulAdd(d1, w2, a12); a13 = lanes.MulAdd(d1, w3, a13);
            TV d2 = lanes.Splat(dz[zi + 2 * nOut + o]);
            a20 = lanes.MulAdd(d2, w0, a20); a21 = lanes.MulAdd(d2, w1, a21); a22 = lanes.MulAdd(d2, w2, a22); a23 = lanes.MulAdd(d2, w3, a23);
            TV d3 = lanes.Splat(dz[zi + 3 * nOut + o]);
            a30 = lanes.MulAdd(d3, w0, a30); a31 = lanes.MulAdd(d3, w1, a31); a32 = lanes.MulAdd(d3, w2, a32); a33 = lanes.MulAdd(d3, w3, a33);
        }
        TV one = lanes.Splat(1f);
        StoreInput(dx, x, row, i0, a00, one, tanh); StoreInput(dx, x, row, i1, a01, one, tanh);
        StoreInput(dx, x, row, i2, a02, one, tanh); StoreInput(dx, x, row, i3, a03, one, tanh);
        StoreInput(dx, x, row + 1, i0, a10, one, tanh); StoreInput(dx, x, row + 1, i1, a11, one, tanh);
        StoreInput(dx, x, row + 1, i2, a12, one, tanh); StoreInput(dx, x, row + 1, i3, a13, one, tanh);
        StoreInput(dx, x, row + 2, i0, a20, one, tanh); StoreInput(dx, x, row + 2, i1, a21, one, tanh);
        StoreInput(dx, x, row + 2, i2, a22, one, tanh); StoreInput(dx, x, row + 2, i3, a23, one, tanh);
        StoreInput(dx, x, row + 3, i0, a30, one, tanh); StoreInput(dx, x, row + 3, i1, a31, one, tanh);
        StoreInput(dx, x, row + 3, i2, a32, one, tanh); StoreInput(dx, x, row + 3, i3, a33, one, tanh);
    }

    /// <summary>Input units [i, i + W) of rows row .. row + n - 1.</summary>
    private readonly void Lane(int l, int row, int n, int i)
    {
        TF p = A.P, x = A.X, dz = A.DY, dx = A.DX;
        TL lanes = default;
        int nIn = A.S.In, nOut = A.S.Out;
        int tanh = InputAct == Activation.Tanh ? 1 : 0;
        int wb = l * A.S.ParamStride + A.S.ParamOffset + i;
        TV one = lanes.Splat(1f);
        if (n == 4)
        {
            int zi = row * nOut;
            TV s0 = lanes.Splat(0f), s1 = s0, s2 = s0, s3 = s0;
            for (int o = 0; o < nOut; o++)
            {
                TV w = lanes.Load(p, wb + o * nIn);
                s0 = lanes.MulAdd(lanes.Splat(dz[zi + o]), w, s0);
                s1 = lanes.MulAdd(lanes.Splat(dz[zi + nOut + o]), w, s1);
                s2 = lanes.MulAdd(lanes.Splat(dz[zi + 2 * nOut + o]), w, s2);
                s3 = lanes.MulAdd(lanes.Splat(dz[zi + 3 * nOut + o]), w, s3);
            }
            StoreInput(dx, x, row, i, s0, one, tanh);
            StoreInput(dx, x, row + 1, i, s1, one, tanh);
            StoreInput(dx, x, row + 2, i, s2, one, tanh);
            StoreInput(dx, x, row + 3, i, s3, one, tanh);
            return;
        }
        for (int k = 0; k < n; k++)
        {
            int zi = (row + k) * nOut;
            TV s = lanes.Splat(0f);
            for (int o = 0; o < nOut; o++) s = lanes.MulAdd(lanes.Splat(dz[zi + o]), lanes.Load(p, wb + o * nIn), s);
            StoreInput(dx, x, row + k, i, s, one, tanh);
        }
    }

    /// <summary>Input units [ia, ia + W) and [ib, ib + W) of rows row .. row + n - 1 (the lanes may overlap).</summary>
    private readonly void Pair(int l, int row, int n, int ia, int ib)
    {
        TF p = A.P, x = A.X, dz = A.DY, dx = A.DX;
        TL lanes = default;
        int nIn = A.S.In, nOut = A.S.Out;
        int tanh = InputAct == Activation.Tanh ? 1 : 0;
        int wb = l * A.S.ParamStride + A.S.ParamOffset;
        TV one = lanes.Splat(1f);
        if (n == 4)
        {
            int zi = row * nOut;
            TV a0 = lanes.Splat(0f), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            for (int o = 0; o < nOut; o++)
            {
                TV wa = lanes.Load(p, wb + o * nIn + ia), wb2 = lanes.Load(p, wb + o * nIn + ib);
                TV d0 = lanes.Splat(dz[zi + o]), d1 = lanes.Splat(dz[zi + nOut + o]);
                TV d2 = lanes.Splat(dz[zi + 2 * nOut + o]), d3 = lanes.Splat(dz[zi + 3 * nOut + o]);
                a0 = lanes.MulAdd(d0, wa, a0);
                b0 = lanes.MulAdd(d0, wb2, b0);
                a1 = lanes.MulAdd(d1, wa, a1);
                b1 = lanes.MulAdd(d1, wb2, b1);
                a2 = lanes.MulAdd(d2, wa, a2);
                b2 = lanes.MulAdd(d2, wb2, b2);
                a3 = lanes.MulAdd(d3, wa, a3);
                b3 = lanes.MulAdd(d3, wb2, b3);
            }
            StoreInput(dx, x, row, ia, a0, one, tanh);
            StoreInput(dx, x, row, ib, b0, one, tanh);
            StoreInput(dx, x, row + 1, ia, a1, one, tanh);
            StoreInput(dx, x, row + 1, ib, b1, one, tanh);
            StoreInput(dx, x, row + 2, ia, a2, one, tanh);
            StoreInput(dx, x, row + 2, ib, b2, one, tanh);
            StoreInput(dx, x, row + 3, ia, a3, one, tanh);
            StoreInput(dx, x, row + 3, ib, b3, one, tanh);
            return;
        }
        for (int k = 0; k < n; k++)
        {
            int zi = (row + k) * nOut;
            TV sa = lanes.Splat(0f), sb = sa;
            for (int o = 0; o < nOut; o++)
            {
                TV d = lanes.Splat(dz[zi + o]);
                sa = lanes.MulAdd(d, lanes.Load(p, wb + o * nIn + ia), sa);
                sb = lanes.MulAdd(d, lanes.Load(p, wb + o * nIn + ib), sb);
            }
            StoreInput(dx, x, row + k, ia, sa, one, tanh);
            StoreInput(dx, x, row + k, ib, sb, one, tanh);
        }
    }

    /// <summary>Fewer inputs than a lane: one input at a time.</summary>
    private readonly void Scalar(int l, int row, int n)
    {
        TF p = A.P, x = A.X, dz = A.DY, dx = A.DX;
        int nIn = A.S.In, nOut = A.S.Out, xs = A.S.InStride;
        int tanh = InputAct == Activation.Tanh ? 1 : 0;
        int wb = l * A.S.ParamStride + A.S.ParamOffset;
        for (int i = 0; i < nIn; i++)
            for (int k = 0; k < n; k++)
            {
                int zi = (row + k) * nOut;
                float s = 0f;
                for (int o = 0; o < nOut; o++) s = dz[zi + o] * p[wb + o * nIn + i] + s;
                if (tanh != 0)
                {
                    float xv = x[(row + k) * xs + A.S.InOffset + i];
                    s = s * (1f - xv * xv);
                }
                dx[(row + k) * nIn + i] = s;
            }
    }

    /// <summary>dx[row, i .. i + W) = s * act'(x[row, i .. i + W)).</summary>
    private readonly void StoreInput(TF dx, TF x, int row, int i, TV s, TV one, int tanh)
    {
        TL lanes = default;
        if (tanh != 0)
        {
            TV xv = lanes.Load(x, row * A.S.InStride + A.S.InOffset + i);
            s = lanes.Mul(s, lanes.Sub(one, lanes.Mul(xv, xv)));
        }
        int at = row * A.S.In + i;
        lanes.Store(dx, at, s);
    }
}

/// <summary>
/// Dense backward to the parameters with the input units in lanes: g[W (o, i .. i + W)] += sum_r dz[r, o] x[r, i .. i + W),
/// g[b (o)] += sum_r dz[r, o], where dz (DY) is the gradient at the layer's pre-activation (for a linear layer, the
/// gradient at y; below it, what <see cref="DenseLanesBackwardInputKernel{TF, TV, TL}"/> wrote). One work item per
/// (learner, block of 4 output units): each input lane load serves four units, two lanes at a time
/// (<see cref="LanePlan"/>: a pair loads its g before either lane stores, so overlapping lanes add once); with fewer
/// than W inputs, one input at a time. Sums over r = 0, 1, ... onto g.
/// </summary>
public struct DenseLanesBackwardParamsKernel<TF, TV, TL> : IKernel
    where TF : struct, IView<float> where TV : unmanaged where TL : struct, ILanes<TV>
{
    public DenseLanesArgs<TF> A;

    public readonly void Execute(int index)
    {
        TF dz = A.DY, g = A.G;
        TL lanes = default;
        int width = lanes.Width;
        int nIn = A.S.In, nOut = A.S.Out, rows = A.S.Rows;
        int blocks = (nOut + 3) / 4;
        int l = index / blocks;
        int o0 = (index - l * blocks) * 4;
        int n = nOut - o0 < 4 ? nOut - o0 : 4;
        int count = LanePlan.Count(nIn, width);
        if (n == 4 && count > 0 && (count & 3) == 0)
        {
            for (int q = 0; q < count; q += 4) Quad(l, o0, q, nIn, width);
        }
        else
        {
            int j = count & 1;
            if (j != 0) Lane(l, o0, n, 0);
            for (; j < count; j += 2) Pair(l, o0, n, LanePlan.Start(j, nIn, width), LanePlan.Start(j + 1, nIn, width));
            if (count == 0) Scalar(l, o0, n);
        }
        int zb = l * rows * nOut + o0;
        int bias = l * A.S.ParamStride + A.S.BiasOffset + o0;
        for (int k = 0; k < n; k++)
        {
            float db = 0f;
            for (int r = 0; r < rows; r++) db += dz[zb + r * nOut + k];
            g[bias + k] += db;
        }
    }

    /// <summary>Weights (o0 .. o0 + 3, lanes q .. q + 3 of the inputs): 16 sums, each input lane load serving four units;
    /// every g lane is loaded before any is stored (overlapping lanes add once).</summary>
    private readonly void Quad(int l, int o0, int q, int nIn, int width)
    {
        TF x = A.X, dz = A.DY, g = A.G;
        TL lanes = default;
        int nOut = A.S.Out, rows = A.S.Rows, xs = A.S.InStride;
        int i0 = LanePlan.Start(q, nIn, width), i1 = LanePlan.Start(q + 1, nIn, width);
        int i2 = LanePlan.Start(q + 2, nIn, width), i3 = LanePlan.Start(q + 3, nIn, width);
        int xb = l * rows * xs + A.S.InOffset;
        int zb = l * rows * nOut + o0;
        int w0 = l * A.S.ParamStride + A.S.ParamOffset + o0 * nIn, w1 = w0 + nIn, w2 = w1 + nIn, w3 = w2 + nIn;
        TV a00 = lanes.Load(g, w0 + i0), a01 = lanes.Load(g, w0 + i1), a02 = lanes.Load(g, w0 + i2), a03 = lanes.Load(g, w0 + i3);
        TV a10 = lanes.Load(g, w1 + i0), a11 = lanes.Load(g, w1 + i1), a12 = lanes.Load(g, w1 + i2), a13 = lanes.Load(g, w1 + i3);
        TV a20 = lanes.Load(g, w2 + i0), a21 = lanes.Load(g, w2 + i1), a22 = lanes.Load(g, w2 + i2), a23 = lanes.Load(g, w2 + i3);
        TV a30 = lanes.Load(g, w3 + i0), a31 = lanes.Load(g, w3 + i1), a32 = lanes.Load(g, w3 + i2), a33 = lanes.Load(g, w3 + i3);
        for (int r = 0; r < rows; r++)
        {
            int xr = xb + r * xs, zi = zb + r * nOut;
            TV x0 = lanes.Load(x, xr + i0), x1 = lanes.Load(x, xr + i1), x2 = lanes.Load(x, xr + i2), x3 = lanes.Load(x, xr + i3);
            TV d0 = lanes.Splat(dz[zi]);
            a00 = lanes.MulAdd(d0, x0, a00); a01 = lanes.MulAdd(d0, x1, a01); a02 = lanes.MulAdd(d0, x2, a02); a03 = lanes.MulAdd(d0, x3, a03);
            TV d1 = lanes.Splat(dz[zi + 1]);
            a10 = lanes.MulAdd(d1, x0, a10); a11 = lanes.MulAdd(d1, x1, a11); a12 = lanes.MulAdd(d1, x2, a12); a13 = lanes.MulAdd(d1, x3, a13);
            TV d2 = lanes.Splat(dz[zi + 2]);
            a20 = lanes.MulAdd(d2, x0, a20); a21 = lanes.MulAdd(d2, x1, a21); a22 = lanes.MulAdd(d2, x2, a22); a23 = lanes.MulAdd(d2, x3, a23);
            TV d3 = lanes.Splat(dz[zi + 3]);
            a30 = lanes.MulAdd(d3, x0, a30); a31 = lanes.MulAdd(d3, x1, a31); a32 = lanes.MulAdd(d3, x2, a32); a33 = lanes.MulAdd(d3, x3, a33);
        }
        lanes.Store(g, w0 + i0, a00); lanes.Store(g, w0 + i1, a01); lanes.Store(g, w0 + i2, a02); lanes.Store(g, w0 + i3, a03);
        lanes.Store(g, w1 + i0, a10); lanes.Store(g, w1 + i1, a11); lanes.Store(g, w1 + i2, a12); lanes.Store(g, w1 + i3, a13);
        lanes.Store(g, w2 + i0, a20); lanes.Store(g, w2 + i1, a21); lanes.Store(g, w2 + i2, a22); lanes.Store(g, w2 + i3, a23);
        lanes.Store(g, w3 + i0, a30); lanes.Store(g, w3 + i1, a31); lanes.Store(g, w3 + i2, a32); lanes.Store(g, w3 + i3, a33);
    }

    /// <summary>Weights (o0 .. o0 + n - 1, [i, i + W)).</summary>
    private readonly void Lane(int l, int o0, int n, int i)
    {
        TF x = A.X, dz = A.DY, g = A.G;
        TL lanes = default;
        int nIn = A.S.In, nOut = A.S.Out, rows = A.S.Rows, xs = A.S.InStride;
        int xb = l * rows * xs + A.S.InOffset + i;
        int zb = l * rows * nOut + o0;
        int wb = l * A.S.ParamStride + A.S.ParamOffset + o0 * nIn + i;
        if (n == 4)
        {
            TV g0 = lanes.Load(g, wb), g1 = lanes.Load(g, wb + nIn), g2 = lanes.Load(g, wb + 2 * nIn), g3 = lanes.Load(g, wb + 3 * nIn);
            for (int r = 0; r < rows; r++)
            {
                TV xv = lanes.Load(x, xb + r * xs);
                int zi = zb + r * nOut;
                g0 = lanes.MulAdd(lanes.Splat(dz[zi]), xv, g0);
                g1 = lanes.MulAdd(lanes.Splat(dz[zi + 1]), xv, g1);
                g2 = lanes.MulAdd(lanes.Splat(dz[zi + 2]), xv, g2);
                g3 = lanes.MulAdd(lanes.Splat(dz[zi + 3]), xv, g3);
            }
            lanes.Store(g, wb, g0);
            lanes.Store(g, wb + nIn, g1);
            lanes.Store(g, wb + 2 * nIn, g2);
            lanes.Store(g, wb + 3 * nIn, g3);
            return;
        }
        for (int k = 0; k < n; k++)
        {
            TV s = lanes.Load(g, wb + k * nIn);
            for (int r = 0; r < rows; r++) s = lanes.MulAdd(lanes.Splat(dz[zb + r * nOut + k]), lanes.Load(x, xb + r * xs), s);
            lanes.Store(g, wb + k * nIn, s);
        }
    }

    /// <summary>Weights (o0 .. o0 + n - 1, [ia, ia + W) and [ib, ib + W)); the lanes may overlap.</summary>
    private readonly void Pair(int l, int o0, int n, int ia, int ib)
    {
        TF x = A.X, dz = A.DY, g = A.G;
        TL lanes = default;
        int nIn = A.S.In, nOut = A.S.Out, rows = A.S.Rows, xs = A.S.InStride;
        int xb = l * rows * xs + A.S.InOffset;
        int zb = l * rows * nOut + o0;
        int wb = l * A.S.ParamStride + A.S.ParamOffset + o0 * nIn;
        if (n == 4)
        {
            TV a0 = lanes.Load(g, wb + ia), a1 = lanes.Load(g, wb + nIn + ia), a2 = lanes.Load(g, wb + 2 * nIn + ia), a3 = lanes.Load(g, wb + 3 * nIn + ia);
            TV b0 = lanes.Load(g, wb + ib), b1 = lanes.Load(g, wb + nIn + ib), b2 = lanes.Load(g, wb + 2 * nIn + ib), b3 = lanes.Load(g, wb + 3 * nIn + ib);
            for (int r = 0; r < rows; r++)
            {
                TV xa = lanes.Load(x, xb + r * xs + ia), xb2 = lanes.Load(x, xb + r * xs + ib);
                int zi = zb + r * nOut;
                TV d0 = lanes.Splat(dz[zi]), d1 = lanes.Splat(dz[zi + 1]), d2 = lanes.Splat(dz[zi + 2]), d3 = lanes.Splat(dz[zi + 3]);
                a0 = lanes.MulAdd(d0, xa, a0);
                b0 = lanes.MulAdd(d0, xb2, b0);
                a1 = lanes.MulAdd(d1, xa, a1);
                b1 = lanes.MulAdd(d1, xb2, b1);
                a2 = lanes.MulAdd(d2, xa, a2);
                b2 = lanes.MulAdd(d2, xb2, b2);
                a3 = lanes.MulAdd(d3, xa, a3);
                b3 = lanes.MulAdd(d3, xb2, b3);
            }
            lanes.Store(g, wb + ia, a0);
            lanes.Store(g, wb + nIn + ia, a1);
            lanes.Store(g, wb + 2 * nIn + ia, a2);
            lanes.Store(g, wb + 3 * nIn + ia, a3);
            lanes.Store(g, wb + ib, b0);
            lanes.Store(g, wb + nIn + ib, b1);
            lanes.Store(g, wb + 2 * nIn + ib, b2);
            lanes.Store(g, wb + 3 * nIn + ib, b3);
            return;
        }
        for (int k = 0; k < n; k++)
        {
            TV sa = lanes.Load(g, wb + k * nIn + ia), sb = lanes.Load(g, wb + k * nIn + ib);
            for (int r = 0; r < rows; r++)
            {
                TV d = lanes.Splat(dz[zb + r * nOut + k]);
                sa = lanes.MulAdd(d, lanes.Load(x, xb + r * xs + ia), sa);
                sb = lanes.MulAdd(d, lanes.Load(x, xb + r * xs + ib), sb);
            }
            lanes.Store(g, wb + k * nIn + ia, sa);
            lanes.Store(g, wb + k * nIn + ib, sb);
        }
    }

    /// <summary>Fewer inputs than a lane: one input at a time.</summary>
    private readonly void Scalar(int l, int o0, int n)
    {
        TF x = A.X, dz = A.DY, g = A.G;
        int nIn = A.S.In, nOut = A.S.Out, rows = A.S.Rows, xs = A.S.InStride;
        int xb = l * rows * xs + A.S.InOffset;
        int zb = l * rows * nOut + o0;
        int wb = l * A.S.ParamStride + A.S.ParamOffset + o0 * nIn;
        for (int i = 0; i < nIn; i++)
            for (int k = 0; k < n; k++)
            {
                float s = g[wb + k * nIn + i];
                for (int r = 0; r < rows; r++) s = dz[zb + r * nOut + k] * x[xb + r * xs + i] + s;
                g[wb + k * nIn + i] = s;
            }
    }
}
