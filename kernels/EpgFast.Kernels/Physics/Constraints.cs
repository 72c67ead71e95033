using System.Runtime.CompilerServices;
using EpgFast.Kernels.Memory;

namespace EpgFast.Kernels.Physics;

/// <summary>
/// MuJoCo 2.2.2's soft constraint model for joint limits and plane contacts, and its constrained forward dynamics
/// (the "Computation" chapter of MuJoCo's documentation; engine_core_constraint.c, engine_solver.c).
/// <para>
/// Rows. A limited hinge with value q and range [lo, hi] has a row per side whose distance pos (q - lo, hi - q) is
/// below the joint's margin, with J = +-e_dof. A sphere (or a capsule's end sphere) of radius r whose centre is at
/// height z over a plane is in contact when pos = z - r is below the pair's margin - gap; the contact acts at the
/// middle of the overlap, in a frame (normal n; first tangent the capsule's axis, or world y, made orthogonal to n;
/// second n x t1). condim 1: one row along n. condim 3 with the pyramidal cone (MuJoCo's default): four rows
/// J_n +- mu J_t1, J_n +- mu J_t2; with the elliptic cone: three rows J_n, J_t1, J_t2 and the cone
/// |f_t| &lt;= mu f_n.
/// </para>
/// <para>
/// Soft model, per row: impedance imp = solimp's sigmoid of |pos - margin| / width (d0 .. dmax); reference
/// acceleration aref = -B J v - K imp (pos - margin) (K = 0 on elliptic friction rows) with K, B from solref;
/// regulariser R = (1 - imp) / imp * A_approx (MuJoCo's diagonal approximation from body_invweight0 and
/// dof_invweight0; the pyramid's edges share 2 mu^2 / impratio times the first edge's own, the elliptic friction rows
/// 1 / impratio times the normal row's), D = 1 / R.
/// </para>
/// <para>
/// Dynamics: qacc minimises 0.5 (qacc - qacc_smooth)' M (qacc - qacc_smooth) + s(J qacc - aref), where a one-sided
/// row costs 0.5 D jar^2 while jar = J qacc - aref &lt; 0 (its force is -D jar) and an elliptic contact costs
/// MuJoCo's three-zone function of the cone. The problem is strictly convex; it is solved by Newton's method with
/// an exact line search (MuJoCo's default solver), warm-started from the last step's qacc when that costs less, to
/// <see cref="SimDims.Tolerance"/> on MuJoCo's scaled cost improvement. The constraint force J' f then enters the
/// Euler step with implicit joint damping, as mj_Euler.
/// </para>
/// </summary>
public static class Constraints
{
    /// <summary>
    /// Finds the active rows at the current positions and velocities: joint limits first, then contacts (MuJoCo's
    /// order). Writes every slot's signed distance to SSlotDist. Returns the row count.
    /// </summary>
    public static int BuildRows<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        int rows = LimitRows(m, s);
        return ContactRows(m, s, rows);
    }

    /// <summary>The joint-limit rows (one per violated side of a range, within the margin), from row 0; returns the row count.</summary>
    private static int LimitRows<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        TF mf = m.MF;
        TI mi = m.MI;
        int nv = d.Nv;
        int rows = 0;
        for (int l = 0; l < d.NLimits; l++)
        {
            int dof = mi[d.LimitDofI + l];
            float q = s[d.SQpos + mi[d.LimitQposI + l]];
            float margin = mf[d.LimitMarginF + l];
            for (int side = 0; side < 2; side++)
            {
                float pos = side == 0 ? q - mf[d.LimitLoF + l] : mf[d.LimitHiF + l] - q;
                if (pos >= margin) continue;
                float sign = side == 0 ? 1f : -1f;
                int chain = d.ChainDofI + mi[d.DofChainStartI + dof];
                int count = mi[d.DofChainCountI + dof];
                int j = d.SRowJ + rows * nv;
                // by chain position: the dof is its chain's last entry, the row's only nonzero
                s[j + count - 1] = sign;
                float imp = Impedance(mf, d.LimitSolimpF + 5 * l, pos - margin);
                float r = Regulariser(imp, mf[d.LimitDiagF + l]);
                float vel = sign * s[d.SQvel + dof];
                SetRow(s, d, rows, dof, count - 1, -mf[d.LimitBF + l] * vel - mf[d.LimitKF + l] * imp * (pos - margin), 1f / r, SimDims.RowOneSided, 0f, -1);
                rows++;
            }
        }
        return rows;
    }

    /// <summary>
    /// The contact rows, appended after row <paramref name="rows"/>; returns the new row count. Per slot: its signed
    /// distance to the plane (to SSlotDist); within the inclusion distance, its frame (<see cref="ContactFrame"/>), its
    /// rows' J (<see cref="ContactJacobian"/>) and their soft-model parameters (<see cref="ContactRowParameters"/>).
    /// </summary>
    private static int ContactRows<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int rows)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        TF mf = m.MF;
        TI mi = m.MI;
        int lastBody = -1;
        M33 rot = default;
        V3 xb = default, c = default;
        for (int sl = 0; sl < d.NSlots; sl++)
        {
            int b = mi[d.SlotBodyI + sl];
            if (b != lastBody)
            {
                // slots of one body are consecutive (a capsule's two ends)
                lastBody = b;
                rot = Kinematics.LoadMat(s, d.SXmat + 9 * b);
                xb = s.Get3(d.SXpos + 3 * b);
                c = s.Get3(d.SXpos + 3 * mi[d.BodyRootI + b]);
            }
            V3 x = xb + rot.Mul(Load3(mf, d.SlotPointF + 3 * sl));
            V3 n = Load3(mf, d.SlotNormalF + 3 * sl);
            float radius = mf[d.SlotRadiusF + sl];
            float dist = V3.Dot(n, x) - mf[d.SlotOffsetF + sl] - radius;
            s[d.SSlotDist + sl] = dist;
            float include = mf[d.SlotIncludeF + sl];
            if (!(dist < include)) continue;

            ContactFrame(mf, d, sl, rot, n, out V3 t1, out V3 t2);
            // the contact point, relative to the tree's reference point c
            V3 rc = x - n * (radius + 0.5f * dist) - c;
            int count = mi[d.SlotCondimI + sl] == 1 ? 1 : d.Cone == SimDims.ConePyramidal ? 4 : 3;
            int deep = mi[d.BodyLastDofI + b];
            ContactJacobian(m, s, rows, sl, deep, count, rc, n, t1, t2, out float vn, out float v1, out float v2);
            ContactRowParameters(m, s, rows, sl, deep, count, dist - include, vn, v1, v2);
            rows += count;
        }
        return rows;
    }

    /// <summary>
    /// Slot <paramref name="sl"/>'s contact frame (mju_makeFrame) for the normal <paramref name="n"/>: t1 = the
    /// capsule's axis (rotated by the body's <paramref name="rot"/>; a sphere: world y, or z when n is near y) made
    /// orthogonal to n and normalised (world x if nothing is left); t2 = n x t1.
    /// </summary>
    private static void ContactFrame<TF>(TF mf, in SimDims d, int sl, M33 rot, V3 n, out V3 t1, out V3 t2)
        where TF : struct, IView<float>
    {
        V3 axis = Load3(mf, d.SlotAxisF + 3 * sl);
        V3 a = V3.Dot(axis, axis) > 0.25f ? rot.Mul(axis) : MathF.Abs(n.Y) < 0.5f ? new V3(0f, 1f, 0f) : new V3(0f, 0f, 1f);
        t1 = a - n * V3.Dot(n, a);
        float t1n = MathF.Sqrt(V3.Dot(t1, t1));
        t1 = t1n < 1e-15f ? new V3(1f, 0f, 0f) : t1 * (1f / t1n);
        t2 = V3.Cross(n, t1);
    }

    /// <summary>
    /// J of the <paramref name="count"/> rows of slot <paramref name="sl"/>'s contact from row <paramref name="rows"/>
    /// (over the chain of dof <paramref name="deep"/>, its body's last), from the frame directions' rows jn, j1, j2 (the
    /// velocity of the contact point rc, relative to the tree's reference point, along n, t1, t2): jn (condim 1);
    /// jn +- mu j1, jn +- mu j2 (pyramid); jn, j1, j2 (elliptic). Returns the contact point's velocities along n, t1, t2.
    /// </summary>
    private static void ContactJacobian<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int rows, int sl, int deep, int count,
        V3 rc, V3 n, V3 t1, V3 t2, out float vn, out float v1, out float v2)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        TF mf = m.MF;
        TI mi = m.MI;
        int nv = d.Nv;
        float mu = mf[d.SlotMuF + sl];
        int chain = deep >= 0 ? d.ChainDofI + mi[d.DofChainStartI + deep] : 0;
        int clen = deep >= 0 ? mi[d.DofChainCountI + deep] : 0;
        V3 un = V3.Cross(rc, n), u1 = V3.Cross(rc, t1), u2 = V3.Cross(rc, t2);
        int y = d.SRowJ + rows * nv;
        vn = 0f;
        v1 = 0f;
        v2 = 0f;
        for (int t = 0; t < clen; t++)
        {
            int k = mi[chain + t];
            V3 lin = s.Get3(d.SCdof + 6 * k + 3), ang = s.Get3(d.SCdof + 6 * k);
            float vk = s[d.SQvel + k];
            float jn = V3.Dot(n, lin) + V3.Dot(un, ang);
            float j1 = V3.Dot(t1, lin) + V3.Dot(u1, ang);
            float j2 = V3.Dot(t2, lin) + V3.Dot(u2, ang);
            vn += jn * vk;
            v1 += j1 * vk;
            v2 += j2 * vk;
            if (count == 1)
            {
                s[y + t] = jn;
            }
            else if (count == 4)
            {
                s[y + t] = jn + mu * j1;
                s[y + nv + t] = jn - mu * j1;
                s[y + 2 * nv + t] = jn + mu * j2;
                s[y + 3 * nv + t] = jn - mu * j2;
            }
            else
            {
                s[y + t] = jn;
                s[y + nv + t] = j1;
                s[y + 2 * nv + t] = j2;
            }
        }
    }

    /// <summary>
    /// The soft-model parameters (dof, aref, D, kind, friction, slot) of slot <paramref name="sl"/>'s
    /// <paramref name="count"/> contact rows from row <paramref name="rows"/>, at <paramref name="pos"/> = the
    /// distance less the slot's inclusion distance and the contact point's velocities vn, v1, v2 along the frame:
    /// aref = -B J v - K imp pos (no K term on the elliptic friction rows) and D = 1 / R, R from the normal's
    /// regulariser as the class summary states for the pyramid's edges and the elliptic friction rows.
    /// </summary>
    private static void ContactRowParameters<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int rows, int sl, int deep, int count,
        float pos, float vn, float v1, float v2)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        TF mf = m.MF;
        float mu = mf[d.SlotMuF + sl];
        float imp = Impedance(mf, d.SlotSolimpF + 5 * sl, pos);
        float r0 = Regulariser(imp, mf[d.SlotDiagF + sl]);
        float k0 = mf[d.SlotKF + sl] * imp * pos, bb = mf[d.SlotBF + sl];
        if (count == 1)
        {
            SetRow(s, d, rows, deep, 0, -bb * vn - k0, 1f / r0, SimDims.RowOneSided, 0f, sl);
        }
        else if (count == 4)
        {
            // the four edges share R = 2 mu^2 / impratio times the first edge's own
            float dd = 1f / (mf[d.SlotConeF + sl] * r0);
            SetRow(s, d, rows, deep, 0, -bb * (vn + mu * v1) - k0, dd, SimDims.RowOneSided, 0f, sl);
            SetRow(s, d, rows + 1, deep, 0, -bb * (vn - mu * v1) - k0, dd, SimDims.RowOneSided, 0f, sl);
            SetRow(s, d, rows + 2, deep, 0, -bb * (vn + mu * v2) - k0, dd, SimDims.RowOneSided, 0f, sl);
            SetRow(s, d, rows + 3, deep, 0, -bb * (vn - mu * v2) - k0, dd, SimDims.RowOneSided, 0f, sl);
        }
        else
        {
            float df = 1f / (d.FrictionRScale * r0);
            SetRow(s, d, rows, deep, 0, -bb * vn - k0, 1f / r0, SimDims.RowEllipticNormal, mf[d.SlotConeF + sl], sl);
            SetRow(s, d, rows + 1, deep, 0, -bb * v1, df, SimDims.RowEllipticFriction, mu, sl);
            SetRow(s, d, rows + 2, deep, 0, -bb * v2, df, SimDims.RowEllipticFriction, mu, sl);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static V3 Load3<TF>(TF mf, int at) where TF : struct, IView<float> => new(mf[at], mf[at + 1], mf[at + 2]);

    /// <summary>
    /// MuJoCo's impedance (getimpedance) for solimp = (d0, dmax, width, midpoint, power) at mf[<paramref name="at"/>]
    /// and the violation <paramref name="x"/> = pos - margin: d0 + y(|x| / width) (dmax - d0), y a two-piece power
    /// sigmoid, saturated at dmax beyond the width.
    /// </summary>
    public static float Impedance<TF>(TF mf, int at, float x) where TF : struct, IView<float>
    {
        float d0 = mf[at], dmax = mf[at + 1], width = mf[at + 2], mid = mf[at + 3], power = mf[at + 4];
        if (d0 == dmax || width <= 1e-15f) return 0.5f * (d0 + dmax);
        float u = MathF.Abs(x) / width;
        if (u >= 1f) return dmax;
        if (u <= 0f) return d0;
        float yv;
        if (power == 1f)
            yv = u;
        else if (u <= mid)
            yv = Pow(u, power) / Pow(mid, power - 1f);
        else
            yv = 1f - Pow(1f - u, power) / Pow(1f - mid, power - 1f);
        return d0 + yv * (dmax - d0);
    }

    /// <summary>x^p for x &gt; 0 (exact products for the common powers 1 and 2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Pow(float x, float p) => p == 1f ? x : p == 2f ? x * x : MathF.Exp(p * MathF.Log(x));

    /// <summary>R = (1 - imp) / imp * A_approx, at least MuJoCo's mjMINVAL.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Regulariser(float imp, float diag) => MathF.Max(1e-15f, (1f - imp) * diag / imp);

    /// <summary>Row r's dof (whose chain holds the row's J) and first chain position where J may be nonzero, aref, D = 1 / R, kind, friction and slot.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SetRow<TF>(Scratch<TF> s, in SimDims d, int r, int dof, int first, float aref, float dd, int kind, float mu, int slot)
        where TF : struct, IView<float>
    {
        s[d.SRowDof + r] = dof;
        s[d.SRowFirst + r] = first;
        s[d.SRowAref + r] = aref;
        s[d.SRowD + r] = dd;
        s[d.SRowKind + r] = kind;
        s[d.SRowMu + r] = mu;
        s[d.SRowSlot + r] = slot;
    }

    /// <summary>
    /// Solves for qacc (SQacc) given M (SM), the smooth force (STau) and the rows, by Newton's method (MuJoCo's primal
    /// Newton solver); returns the iterations used. SQaccWarm (the last constrained step's qacc; flagged valid by
    /// SQaccWarm[Nv] != 0) starts the search (<see cref="WarmStart"/>); each iteration takes the gradient and Hessian at
    /// qacc (<see cref="GradientAndHessian"/>), the Newton direction (<see cref="NewtonDirection"/>) and an exact line
    /// search along it (<see cref="LineSearch"/>), until <see cref="Converged"/> or SimDims.Iterations.
    /// </summary>
    public static int Solve<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int rows)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        WarmStart(s, d);
        Evaluate(m, s, rows);
        int iterations = 0;
        while (iterations < d.Iterations)
        {
            iterations++;
            float gradient = GradientAndHessian(m, s, rows);
            NewtonDirection(m, s);
            float improvement = LineSearch(m, s, rows, out int exact);
            if (Converged(d, exact, improvement, gradient)) break;
        }
        return iterations;
    }

    /// <summary>
    /// The starting qacc (SQacc): the last constrained step's (SQaccWarm) when there was one since the last reset,
    /// else 0. MuJoCo tries its warm start and qacc_smooth and keeps the cheaper; the problem is strictly convex, so
    /// the start changes only the iterations.
    /// </summary>
    private static void WarmStart<TF>(Scratch<TF> s, in SimDims d) where TF : struct, IView<float>
    {
        int nv = d.Nv;
        bool warm = s[d.SQaccWarm + nv] != 0f;
        for (int k = 0; k < nv; k++) s[d.SQacc + k] = warm ? s[d.SQaccWarm + k] : 0f;
    }

    /// <summary>
    /// The Newton direction p = -H^-1 g (to SDir) from the gradient (SGrad) and Hessian (SH) of
    /// <see cref="GradientAndHessian"/>: factors H in place (tree-sparse LDL', SHDinv) and solves.
    /// </summary>
    private static void NewtonDirection<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        int nv = d.Nv;
        TreeLdl.Factor(m, s, d.SH, d.SHDinv);
        for (int k = 0; k < nv; k++) s[d.SDir + k] = -s[d.SGrad + k];
        TreeLdl.Solve(m, s, d.SH, d.SHDinv, d.SDir);
    }

    /// <summary>
    /// MuJoCo's stopping test after an iteration: the line search was exact (every row kept its piece of the cost, so
    /// the full Newton step reached the minimum), or the scaled cost improvement or the scaled gradient norm (at the
    /// iteration's start) is below <see cref="SimDims.Tolerance"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Converged(in SimDims d, int exact, float improvement, float gradient)
        => exact != 0 || d.SolverScale * improvement < d.Tolerance || d.SolverScale * gradient < d.Tolerance;

    /// <summary>
    /// Fills SRowJar = J qacc - aref and SMRes = M (qacc - qacc_smooth) = M qacc - f_smooth (f_smooth at STau), so
    /// qacc_smooth itself is never needed.
    /// </summary>
    private static void Evaluate<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int rows)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        int nv = d.Nv;
        TreeLdl.Multiply(m, s, d.SM, d.SQacc, d.SMRes);
        for (int k = 0; k < nv; k++) s[d.SMRes + k] -= s[d.STau + k];
        for (int r = 0; r < rows; r++) s[d.SRowJar + r] = RowDot(m, s, r, d.SQacc) - s[d.SRowAref + r];
    }

    /// <summary>J_r x over row r's chain, for the Nv-vector at scratch offset <paramref name="x"/>.</summary>
    private static float RowDot<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int r, int x)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        TI mi = m.MI;
        int dof = (int)s[d.SRowDof + r];
        if (dof < 0) return 0f;
        int chain = d.ChainDofI + mi[d.DofChainStartI + dof];
        int count = mi[d.DofChainCountI + dof];
        int j = d.SRowJ + r * d.Nv;
        float sum = 0f;
        for (int t = (int)s[d.SRowFirst + r]; t < count; t++) sum += s[j + t] * s[x + mi[chain + t]];
        return sum;
    }

    /// <summary>y += a J_r' over row r's chain.</summary>
    private static void AddRowT<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int r, float a, int y)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        TI mi = m.MI;
        int dof = (int)s[d.SRowDof + r];
        if (dof < 0 || a == 0f) return;
        int chain = d.ChainDofI + mi[d.DofChainStartI + dof];
        int count = mi[d.DofChainCountI + dof];
        int j = d.SRowJ + r * d.Nv;
        for (int t = (int)s[d.SRowFirst + r]; t < count; t++) s[y + mi[chain + t]] += a * s[j + t];
    }

    /// <summary>H += w J_a' J_a (a = b), or H += w (J_a' J_b + J_b' J_a), for rows a and b on one chain (the tree-sparse lower triangle of SH).</summary>
    private static void AddOuter<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int a, int b, float w)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        TI mi = m.MI;
        int dof = (int)s[d.SRowDof + a];
        if (dof < 0 || w == 0f) return;
        int nv = d.Nv;
        int chain = d.ChainDofI + mi[d.DofChainStartI + dof];
        int count = mi[d.DofChainCountI + dof];
        int ja = d.SRowJ + a * nv, jb = d.SRowJ + b * nv;
        int first = (int)s[d.SRowFirst + a]; // rows a and b share it (one contact, or a = b)
        for (int t = first; t < count; t++)
        {
            int row = d.SH + mi[chain + t] * nv;
            // entry (chain[t], chain[u]) for u <= t: chain[u] is chain[t] or one of its ancestors
            if (a == b)
            {
                float at = w * s[ja + t];
                for (int u = first; u <= t; u++) s[row + mi[chain + u]] += at * s[ja + u];
            }
            else
            {
                float at = w * s[ja + t], bt = w * s[jb + t];
                for (int u = first; u <= t; u++) s[row + mi[chain + u]] += at * s[jb + u] + bt * s[ja + u];
            }
        }
    }

    /// <summary>
    /// At qacc (with SRowJar and SMRes from <see cref="Evaluate"/> or the line search): the gradient
    /// g = M (qacc - qacc_smooth) - J' f to SGrad and the Hessian M + J' D_active J (plus the elliptic cones' own) to SH.
    /// Returns |g|.
    /// </summary>
    private static float GradientAndHessian<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int rows)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        int nv = d.Nv;
        for (int k = 0; k < nv; k++) s[d.SGrad + k] = s[d.SMRes + k];
        TreeLdl.Copy(m, s, d.SM, d.SH);
        int i = 0;
        while (i < rows)
        {
            int kind = (int)s[d.SRowKind + i];
            if (kind == SimDims.RowOneSided)
            {
                float jar = s[d.SRowJar + i];
                if (jar < 0f)
                {
                    float dd = s[d.SRowD + i];
                    AddRowT(m, s, i, dd * jar, d.SGrad); // -J' f with f = -D jar
                    AddOuter(m, s, i, i, dd);
                }
                i++;
            }
            else
            {
                ConeGradientAndHessian(m, s, i);
                i += 3;
            }
        }
        float g2 = 0f;
        for (int k = 0; k < nv; k++) g2 += s[d.SGrad + k] * s[d.SGrad + k];
        return MathF.Sqrt(g2);
    }

    /// <summary>
    /// The elliptic contact at rows i .. i + 2 (normal, two tangents), MuJoCo's three zones in U = (mu jar_n,
    /// f1 jar_1, f2 jar_2) with N = U_0, T = |U_1..2|: top (N &gt;= mu T) no force; bottom (mu N + T &lt;= 0) the
    /// three rows quadratic; between, cost 0.5 Dm (N - mu T)^2 with Dm = D_n / (mu^2 (1 + mu^2)). Adds its part of
    /// -J' f to SGrad and its Hessian to SH.
    /// </summary>
    private static void ConeGradientAndHessian<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int i)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        int zone = Zone(s, d, i, 0f, out float mu, out float fr, out float n, out float u1, out float u2, out float t);
        if (zone == 0) return;
        ConeForce(s, d, i, out float f0, out float f1, out float f2);
        AddRowT(m, s, i, -f0, d.SGrad);
        AddRowT(m, s, i + 1, -f1, d.SGrad);
        AddRowT(m, s, i + 2, -f2, d.SGrad);
        if (zone == 2)
        {
            for (int j = 0; j < 3; j++) AddOuter(m, s, i + j, i + j, s[d.SRowD + i + j]);
            return;
        }
        float dm = s[d.SRowD + i] / (mu * mu * (1f + mu * mu));
        // the cone Hessian in U: rows (1, -mu/T U'), block mu N / T^3 U U' + (mu^2 - mu N / T) I, scaled by diag(mu, fr)
        // on both sides and by Dm
        float h00 = 1f, h01 = -mu / t * u1, h02 = -mu / t * u2;
        float c3 = mu * n / (t * t * t), cd = mu * mu - mu * n / t;
        float h11 = c3 * u1 * u1 + cd, h12 = c3 * u1 * u2, h22 = c3 * u2 * u2 + cd;
        float s0 = mu, s1 = fr;
        AddOuter(m, s, i, i, dm * h00 * s0 * s0);
        AddOuter(m, s, i + 1, i + 1, dm * h11 * s1 * s1);
        AddOuter(m, s, i + 2, i + 2, dm * h22 * s1 * s1);
        AddOuter(m, s, i, i + 1, dm * h01 * s0 * s1);
        AddOuter(m, s, i, i + 2, dm * h02 * s0 * s1);
        AddOuter(m, s, i + 1, i + 2, dm * h12 * s1 * s1);
    }

    /// <summary>
    /// The zone of the elliptic contact at rows i .. i + 2 at jar + alpha Jp (0 top, 1 middle, 2 bottom), with its
    /// mu (regularised cone), friction coefficient and U = (N, u1, u2), T = |(u1, u2)|.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Zone<TF>(Scratch<TF> s, in SimDims d, int i, float alpha, out float mu, out float fr, out float n, out float u1, out float u2, out float t)
        where TF : struct, IView<float>
    {
        mu = s[d.SRowMu + i];
        fr = s[d.SRowMu + i + 1];
        n = (s[d.SRowJar + i] + alpha * s[d.SRowJp + i]) * mu;
        u1 = (s[d.SRowJar + i + 1] + alpha * s[d.SRowJp + i + 1]) * fr;
        u2 = (s[d.SRowJar + i + 2] + alpha * s[d.SRowJp + i + 2]) * fr;
        t = MathF.Sqrt(u1 * u1 + u2 * u2);
        if (n >= mu * t || (t <= 0f && n >= 0f)) return 0;
        if (mu * n + t <= 0f || (t <= 0f && n < 0f)) return 2;
        return 1;
    }

    /// <summary>The elliptic contact's force -d cost / d jar at the current jar (rows i .. i + 2; zero in the top zone).</summary>
    private static void ConeForce<TF>(Scratch<TF> s, in SimDims d, int i, out float f0, out float f1, out float f2)
        where TF : struct, IView<float>
    {
        int zone = Zone(s, d, i, 0f, out float mu, out float fr, out float n, out float u1, out float u2, out float t);
        f0 = f1 = f2 = 0f;
        if (zone == 2)
        {
            f0 = -s[d.SRowD + i] * s[d.SRowJar + i];
            f1 = -s[d.SRowD + i + 1] * s[d.SRowJar + i + 1];
            f2 = -s[d.SRowD + i + 2] * s[d.SRowJar + i + 2];
        }
        else if (zone == 1)
        {
            float dm = s[d.SRowD + i] / (mu * mu * (1f + mu * mu));
            f0 = -dm * (n - mu * t) * mu;
            f1 = -f0 / t * u1 * fr;
            f2 = -f0 / t * u2 * fr;
        }
    }

    /// <summary>
    /// The elliptic contact's cost at jar + alpha Jp (rows i .. i + 2), and its first and second derivatives along
    /// alpha (needs SRowJp when alpha or the derivatives matter).
    /// </summary>
    private static float ConeCost<TF>(Scratch<TF> s, in SimDims d, int i, float alpha, out float d1, out float d2)
        where TF : struct, IView<float>
    {
        d1 = 0f;
        d2 = 0f;
        int zone = Zone(s, d, i, alpha, out float mu, out float fr, out float n, out float u1, out float u2, out float t);
        if (zone == 0) return 0f;
        if (zone == 2)
        {
            float cost = 0f;
            for (int j = 0; j < 3; j++)
            {
                float dd = s[d.SRowD + i + j];
                float jar = s[d.SRowJar + i + j] + alpha * s[d.SRowJp + i + j];
                float jp = s[d.SRowJp + i + j];
                cost += 0.5f * dd * jar * jar;
                d1 += dd * jar * jp;
                d2 += dd * jp * jp;
            }
            return cost;
        }
        float dm = s[d.SRowD + i] / (mu * mu * (1f + mu * mu));
        float nmt = n - mu * t;
        // along alpha: N' = mu Jp_n, U_j' = fr Jp_j, T' = (U . U') / T, T'' = (|U'|^2 - T'^2) / T
        float np = mu * s[d.SRowJp + i];
        float p1 = fr * s[d.SRowJp + i + 1], p2 = fr * s[d.SRowJp + i + 2];
        float tp = (u1 * p1 + u2 * p2) / t;
        float tpp = (p1 * p1 + p2 * p2 - tp * tp) / t;
        float gp = np - mu * tp;
        d1 = dm * nmt * gp;
        d2 = dm * (gp * gp - nmt * mu * tpp);
        return 0.5f * dm * nmt * nmt;
    }

    /// <summary>
    /// Exact line search along p = SDir from qacc: minimises the convex cost c(alpha) by Newton steps on c'
    /// safeguarded by bisection; moves qacc, SRowJar and SMRes to the minimiser. Returns the cost decrease;
    /// <paramref name="exact"/> = 1 when the minimiser is the full Newton step (alpha = 1) and no row changed its
    /// piece of the cost (active or not; elliptic contacts outside the middle zone kept their zone), so the
    /// quadratic model the step came from was the cost itself: the new qacc is the solution.
    /// </summary>
    private static float LineSearch<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int rows, out int exact)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        SearchSetup(m, s, rows, out float pmr, out float pmp);
        Slope(s, d, rows, 0f, pmr, pmp, out float g0, out _);
        exact = 0;
        if (!(g0 < 0f)) return 0f; // no descent left: converged to float32 precision
        float alpha = StepLength(s, d, rows, pmr, pmp, g0);
        float drop = CostDrop(s, d, rows, alpha, pmr, pmp, out exact);
        MoveAlong(s, d, rows, alpha);
        return drop;
    }

    /// <summary>
    /// What the cost along p = SDir needs besides the rows' jar: M p (SMDir), pmr = p' M (qacc - qacc_smooth),
    /// pmp = p' M p, and each row's J p (SRowJp).
    /// </summary>
    private static void SearchSetup<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int rows, out float pmr, out float pmp)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        int nv = d.Nv;
        TreeLdl.Multiply(m, s, d.SM, d.SDir, d.SMDir);
        pmr = 0f;
        pmp = 0f;
        for (int k = 0; k < nv; k++)
        {
            pmr += s[d.SDir + k] * s[d.SMRes + k];
            pmp += s[d.SDir + k] * s[d.SMDir + k];
        }
        for (int r = 0; r < rows; r++) s[d.SRowJp + r] = RowDot(m, s, r, d.SDir);
    }

    /// <summary>
    /// The minimiser alpha of the convex cost c(alpha) along p, from alpha = 1 (the full Newton step): Newton steps on
    /// c' kept inside the bracket [lo, hi] of the sign changes seen (doubling while there is no upper end, else
    /// bisecting), until |c'(alpha)| &lt;= 1e-6 |c'(0)| (<paramref name="g0"/> = c'(0) &lt; 0), the step stalls, or
    /// 50 steps.
    /// </summary>
    private static float StepLength<TF>(Scratch<TF> s, in SimDims d, int rows, float pmr, float pmp, float g0)
        where TF : struct, IView<float>
    {
        float lo = 0f, hi = float.PositiveInfinity;
        float alpha = 1f;
        for (int it = 0; it < 50; it++)
        {
            Slope(s, d, rows, alpha, pmr, pmp, out float g, out float h);
            if (MathF.Abs(g) <= 1e-6f * -g0) break;
            if (g < 0f) lo = alpha;
            else hi = alpha;
            float next = h > 0f ? alpha - g / h : float.NaN;
            if (!(next > lo && next < hi)) next = hi == float.PositiveInfinity ? 2f * alpha : 0.5f * (lo + hi);
            if (next == alpha) break;
            alpha = next;
        }
        return alpha;
    }

    /// <summary>
    /// The cost decrease c(0) - c(alpha), from small quantities (not a difference of two large costs): the quadratic
    /// part's -(alpha pmr + alpha^2 pmp / 2), then each row's change. <paramref name="exact"/> = 1 when alpha = 1 and
    /// no row changed its piece of the cost (see <see cref="LineSearch"/>).
    /// </summary>
    private static float CostDrop<TF>(Scratch<TF> s, in SimDims d, int rows, float alpha, float pmr, float pmp, out int exact)
        where TF : struct, IView<float>
    {
        float drop = -(alpha * pmr + 0.5f * alpha * alpha * pmp);
        int same = alpha == 1f ? 1 : 0;
        int i = 0;
        while (i < rows)
        {
            if ((int)s[d.SRowKind + i] == SimDims.RowOneSided)
            {
                float j0 = s[d.SRowJar + i], jp = s[d.SRowJp + i], j1 = j0 + alpha * jp, dd = s[d.SRowD + i];
                if (j0 < 0f && j1 < 0f) drop -= 0.5f * dd * alpha * jp * (j0 + j1);
                else if (j0 < 0f) drop += 0.5f * dd * j0 * j0;
                else if (j1 < 0f) drop -= 0.5f * dd * j1 * j1;
                if ((j0 < 0f) != (j1 < 0f)) same = 0;
                i++;
            }
            else
            {
                int z0 = Zone(s, d, i, 0f, out _, out _, out _, out _, out _, out _);
                int z1 = Zone(s, d, i, alpha, out _, out _, out _, out _, out _, out _);
                if (z0 != z1 || z0 == 1) same = 0;
                drop += ConeCost(s, d, i, 0f, out _, out _) - ConeCost(s, d, i, alpha, out _, out _);
                i += 3;
            }
        }
        exact = same;
        return drop;
    }

    /// <summary>Moves to qacc + alpha p: qacc (SQacc), M (qacc - qacc_smooth) (SMRes) and jar (SRowJar) along p, M p and J p.</summary>
    private static void MoveAlong<TF>(Scratch<TF> s, in SimDims d, int rows, float alpha)
        where TF : struct, IView<float>
    {
        int nv = d.Nv;
        for (int k = 0; k < nv; k++)
        {
            s[d.SQacc + k] += alpha * s[d.SDir + k];
            s[d.SMRes + k] += alpha * s[d.SMDir + k];
        }
        for (int r = 0; r < rows; r++) s[d.SRowJar + r] += alpha * s[d.SRowJp + r];
    }

    /// <summary>c'(alpha) and c''(alpha) of the cost along the search direction.</summary>
    private static void Slope<TF>(Scratch<TF> s, in SimDims d, int rows, float alpha, float pmr, float pmp, out float g, out float h)
        where TF : struct, IView<float>
    {
        g = pmr + alpha * pmp;
        h = pmp;
        int i = 0;
        while (i < rows)
        {
            if ((int)s[d.SRowKind + i] == SimDims.RowOneSided)
            {
                float jp = s[d.SRowJp + i];
                float jar = s[d.SRowJar + i] + alpha * jp;
                if (jar < 0f)
                {
                    float dd = s[d.SRowD + i];
                    g += dd * jar * jp;
                    h += dd * jp * jp;
                }
                i++;
            }
            else
            {
                ConeCost(s, d, i, alpha, out float d1, out float d2);
                g += d1;
                h += d2;
                i += 3;
            }
        }
    }

    /// <summary>
    /// The constraint force of the solution: adds J' f to STau (which holds the smooth force), writes each contact's
    /// normal force to SSlotForce (0 for slots out of contact) and returns the summed normal force and the number of
    /// contacts pressing (normal force &gt; 0).
    /// </summary>
    public static float ApplyForces<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int rows, out int contacts)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        for (int sl = 0; sl < d.NSlots; sl++) s[d.SSlotForce + sl] = 0f;
        int i = 0;
        while (i < rows)
        {
            int slot = (int)s[d.SRowSlot + i];
            if ((int)s[d.SRowKind + i] == SimDims.RowOneSided)
            {
                float jar = s[d.SRowJar + i];
                float f = jar < 0f ? -s[d.SRowD + i] * jar : 0f;
                AddRowT(m, s, i, f, d.STau);
                // a pyramid edge's force has unit weight on the normal (J = J_n +- mu J_t)
                if (slot >= 0) s[d.SSlotForce + slot] += f;
                i++;
            }
            else
            {
                ConeForce(s, d, i, out float f0, out float f1, out float f2);
                AddRowT(m, s, i, f0, d.STau);
                AddRowT(m, s, i + 1, f1, d.STau);
                AddRowT(m, s, i + 2, f2, d.STau);
                s[d.SSlotForce + slot] += f0;
                i += 3;
            }
        }
        float total = 0f;
        contacts = 0;
        for (int sl = 0; sl < d.NSlots; sl++)
        {
            float f = s[d.SSlotForce + sl];
            total += f;
            if (f > 0f) contacts++;
        }
        return total;
    }
}
