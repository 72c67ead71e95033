using System.Runtime.CompilerServices;
using EpgFast.Kernels.Memory;

namespace EpgFast.Kernels.Physics;

/// <summary>
/// Contact and joint-limit constraints of one environment, as rows of a velocity-level problem
/// solved after the smooth (unconstrained) Euler velocity update.
/// <para>
/// The contact model: a sphere (or a capsule's end sphere) of radius r whose centre is at signed
/// height z over a plane has gap phi = z - r - margin. A contact row set enters the problem when
/// phi &lt; Lookahead + 2 h max(0, -v_n) and asks, with impulses lambda (N s):
/// normal: lambda_n &gt;= 0, v_n' &gt;= b_n, lambda_n (v_n' - b_n) = 0, with b_n = -phi / h when phi &gt;= 0
/// (the gap may close within this step, not more: speculative contact) and b_n = 0 when phi &lt; 0;
/// a violation (phi &lt; -Slop) is removed by a separate position pass (split impulses: a pseudo
/// velocity moves the positions by Baumgarte x the violation per step, at most MaxCorrection x h,
/// and is then dropped, so corrections add no kinetic energy);
/// friction (condim 3): the two tangential impulses minimise the tangential slip velocity subject to
/// Coulomb's law |lambda_t| &lt;= mu lambda_n (a circular cone; mu = the pair's sliding friction).
/// Contacts act at the middle of the overlap, as MuJoCo's. Bodies therefore rest at the margin
/// (MuJoCo's soft contacts rest a fraction of a millimetre inside it).
/// Joint limits are the same one-sided row on the joint coordinate (gap = distance to the nearer end
/// of the range minus the joint's margin).
/// </para>
/// <para>
/// The problem is solved by projected Gauss-Seidel on the Delassus matrix A = J (M + h D)^-1 J'
/// (the matrix the implicit-damping Euler step uses), warm-started from the previous step's
/// impulses of the same contact slot, for at most Iterations sweeps or until no impulse changes a
/// row velocity by more than Tolerance.
/// </para>
/// </summary>
public static class Constraints
{
    /// <summary>
    /// Finds the active rows; for each writes Y = D^-1/2 L^-T J' (so that A = J (M + h D)^-1 J' = Y Y'),
    /// the free row velocity J v, the target, the impulse slot and the friction (-1: no friction rows
    /// follow). Returns the row count. Writes each contact slot's signed distance to SSlotDist.
    /// </summary>
    public static int BuildRows<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        TF mf = m.MF;
        TI mi = m.MI;
        int nv = d.Nv;
        float h = d.Timestep;
        int rows = 0;
        int active = ScreenSlots(m, s);
        for (int a = 0; a < active; a++)
        {
            int sl = (int)s[d.SSlotActive + a];
            int b = mi[d.SlotBodyI + sl];
            M33 r = Kinematics.LoadMat(s, d.SXmat + 9 * b);
            V3 c = s.Get3(d.SXpos + 3 * mi[d.BodyRootI + b]);
            // the same x, dist and phi as ScreenSlots computed
            V3 local = new(mf[d.SlotPointF + 3 * sl], mf[d.SlotPointF + 3 * sl + 1], mf[d.SlotPointF + 3 * sl + 2]);
            V3 x = s.Get3(d.SXpos + 3 * b) + r.Mul(local);
            V3 n = new(mf[d.SlotNormalF + 3 * sl], mf[d.SlotNormalF + 3 * sl + 1], mf[d.SlotNormalF + 3 * sl + 2]);
            float radius = mf[d.SlotRadiusF + sl];
            float dist = s[d.SSlotDist + sl];
            float phi = dist - mf[d.SlotMarginF + sl];
            int lam = d.SLambda + 3 * sl;
            int condim = mi[d.SlotCondimI + sl];
            V3 rc = x - n * (radius + 0.5f * dist) - c;
            // tangent frame
            V3 t1 = MathF.Abs(n.X) < 0.9f ? V3.Cross(n, new V3(1f, 0f, 0f)) : V3.Cross(n, new V3(0f, 1f, 0f));
            t1 = t1 * (1f / MathF.Sqrt(V3.Dot(t1, t1)));
            V3 t2 = V3.Cross(n, t1);
            int nrows = condim == 3 ? 3 : 1;
            // J is nonzero only on the chain of the body's deepest dof (walked from that dof to the root)
            int deep = mi[d.BodyLastDofI + b];
            int chain = deep >= 0 ? d.ChainDofI + mi[d.DofChainStartI + deep] : 0;
            int count = deep >= 0 ? mi[d.DofChainCountI + deep] : 0;
            // the rows' J (normal, then the tangents when condim = 3) in one pass over the chain, from the deep end
            V3 ru0 = V3.Cross(rc, n), ru1 = V3.Cross(rc, t1), ru2 = V3.Cross(rc, t2);
            int y0 = d.SRowY + rows * nv, y1 = y0 + nv, y2 = y1 + nv;
            int cdof = d.SCdof, qvel = d.SQvel;
            float uf0 = 0f, uf1 = 0f, uf2 = 0f;
            for (int t = count - 1; t >= 0; t--)
            {
                int k = mi[chain + t];
                V3 lin = s.Get3(cdof + 6 * k + 3), ang = s.Get3(cdof + 6 * k);
                float vk = s[qvel + k];
                float j0 = V3.Dot(n, lin) + V3.Dot(ru0, ang);
                s[y0 + t] = j0;
                uf0 += j0 * vk;
                if (nrows == 3)
                {
                    float j1 = V3.Dot(t1, lin) + V3.Dot(ru1, ang);
                    float j2 = V3.Dot(t2, lin) + V3.Dot(ru2, ang);
                    s[y1 + t] = j1;
                    s[y2 + t] = j2;
                    uf1 += j1 * vk;
                    uf2 += j2 * vk;
                }
            }
            if (nrows == 3)
                TreeLdl.HalfSolveChain3(m, s, y0, deep);
            else
                TreeLdl.HalfSolveChain(m, s, y0, deep);
            // velocity pass: the gap may close within this step but not beyond; no push-out (that is the position pass's)
            SetRow(s, d, rows, deep, uf0, phi >= 0f ? -phi / h : 0f, phi, 3 * sl, nrows == 3 ? mf[d.SlotMuF + sl] : -1f);
            if (nrows == 3)
            {
                SetRow(s, d, rows + 1, deep, uf1, 0f, phi, 3 * sl + 1, -1f);
                SetRow(s, d, rows + 2, deep, uf2, 0f, phi, 3 * sl + 2, -1f);
            }
            if (nrows == 1)
            {
                s[lam + 1] = 0f;
                s[lam + 2] = 0f;
            }
            rows += nrows;
        }
        return LimitRows(m, s, rows);
    }

    /// <summary>The joint-limit rows of <see cref="BuildRows"/> (its own method: a small loop with its own registers), appended after row <paramref name="rows"/>; returns the new row count.</summary>
    private static int LimitRows<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int rows)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        TF mf = m.MF;
        TI mi = m.MI;
        int nv = d.Nv;
        float h = d.Timestep;
        for (int l = 0; l < d.NLimits; l++)
        {
            int dof = mi[d.LimitDofI + l];
            float q = s[d.SQpos + mi[d.LimitQposI + l]];
            float dlo = q - mf[d.LimitLoF + l], dhi = mf[d.LimitHiF + l] - q;
            float sign = dlo <= dhi ? 1f : -1f;
            float phi = MathF.Min(dlo, dhi) - mf[d.LimitMarginF + l];
            float vq = sign * s[d.SQvel + dof];
            int lam = d.SLambda + 3 * d.NSlots + l;
            // the impulse acts on sign * e_dof; it is kept signed between steps (so a switch to the other
            // end of the range starts from zero) and unsigned while solving
            float warm = s[lam] * sign;
            if (phi > d.Lookahead - 2f * h * vq)
            {
                s[lam] = 0f;
                continue;
            }
            s[lam] = warm > 0f ? warm : 0f;
            int y = d.SRowY + rows * nv;
            int chain = d.ChainDofI + mi[d.DofChainStartI + dof];
            int count = mi[d.DofChainCountI + dof];
            // by chain position: the dof is its chain's last entry
            for (int t = 0; t < count - 1; t++) s[y + t] = 0f;
            s[y + count - 1] = sign;
            FinishRow(m, s, rows, dof, vq, phi >= 0f ? -phi / h : 0f, phi, 3 * d.NSlots + l, -1f);
            rows++;
        }
        return rows;
    }

    /// <summary>
    /// The slot test of <see cref="BuildRows"/> in one tight pass (most slots are far from contact): writes every
    /// slot's signed distance to SSlotDist, zeroes the warm-start impulses of the slots that stay out of the
    /// problem, and lists the others (slot ids, increasing) at SSlotActive. Returns their count.
    /// </summary>
    private static int ScreenSlots<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        TF mf = m.MF;
        TI mi = m.MI;
        float twoH = 2f * d.Timestep, lookahead = d.Lookahead;
        int nslots = d.NSlots, slotBody = d.SlotBodyI, point = d.SlotPointF, normal = d.SlotNormalF, radiusF = d.SlotRadiusF;
        int offsetF = d.SlotOffsetF, marginF = d.SlotMarginF, slotDist = d.SSlotDist, lambda = d.SLambda, list = d.SSlotActive;
        int active = 0;
        int lastBody = -1;
        M33 r = default;
        V3 xb = default, c = default, w = default, v = default;
        for (int sl = 0; sl < nslots; sl++)
        {
            int b = mi[slotBody + sl];
            if (b != lastBody)
            {
                // slots of one body are consecutive (a capsule's two ends)
                lastBody = b;
                r = Kinematics.LoadMat(s, d.SXmat + 9 * b);
                xb = s.Get3(d.SXpos + 3 * b);
                c = s.Get3(d.SXpos + 3 * mi[d.BodyRootI + b]);
                w = s.Get3(d.SCvel + 6 * b);
                v = s.Get3(d.SCvel + 6 * b + 3);
            }
            V3 local = new(mf[point + 3 * sl], mf[point + 3 * sl + 1], mf[point + 3 * sl + 2]);
            V3 x = xb + r.Mul(local);
            V3 n = new(mf[normal + 3 * sl], mf[normal + 3 * sl + 1], mf[normal + 3 * sl + 2]);
            float dist = V3.Dot(n, x) - mf[offsetF + sl] - mf[radiusF + sl];
            s[slotDist + sl] = dist;
            float phi = dist - mf[marginF + sl];
            if (phi > lookahead)
            {
                // approach speed of the sphere centre with the step's starting velocity
                float vn = V3.Dot(n, v + V3.Cross(w, x - c));
                if (phi > lookahead - twoH * vn)
                {
                    int lam = lambda + 3 * sl;
                    s[lam] = 0f;
                    s[lam + 1] = 0f;
                    s[lam + 2] = 0f;
                    continue;
                }
            }
            s[list + active] = sl;
            active++;
        }
        return active;
    }

    /// <summary>Y = D^-1/2 L^-T J' in place (J is at the row's Y slot on entry, on the chain of <paramref name="dof"/>), then the row's data (<see cref="SetRow"/>).</summary>
    private static void FinishRow<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int r, int dof, float ufree, float target, float phi, int slot, float mu)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        TreeLdl.HalfSolveChain(m, s, m.D.SRowY + r * m.D.Nv, dof);
        SetRow(s, m.D, r, dof, ufree, target, phi, slot, mu);
    }

    /// <summary>Row r's chain (the dof whose chain holds its support), free velocity, target, gap, impulse slot and friction (-1: no friction rows follow).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SetRow<TF>(Scratch<TF> s, in SimDims d, int r, int dof, float ufree, float target, float phi, int slot, float mu)
        where TF : struct, IView<float>
    {
        s[d.SRowDof + r] = dof;
        s[d.SRowU + r] = ufree;
        s[d.SRowB + r] = target;
        s[d.SRowPhi + r] = phi;
        s[d.SRowSlot + r] = slot;
        s[d.SRowMu + r] = mu;
    }

    /// <summary>
    /// Projected Gauss-Seidel on the rows: updates the velocity at SQvel (which holds the free
    /// velocity on entry) and the impulses at SLambda. Works on the Delassus matrix A = Y Y'
    /// (packed lower triangle) and the row velocities u = J v, so a sweep costs O(rows^2).
    /// Returns the sweeps used; the summed normal impulse of the contacts goes to
    /// <paramref name="normalImpulse"/>, their count to <paramref name="contacts"/>.
    /// </summary>
    public static int Solve<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int rows, out float normalImpulse, out int contacts, out int pseudo)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        TI mi = m.MI;
        int nv = d.Nv;
        int contactRows = 3 * d.NSlots;
        // A = Y Y': a Y row is nonzero only on its chain (a path from the root) and stored by chain position, so
        // the product of two rows is summed over the chains' common prefix (the same positions in both), in
        // increasing dof order as a dense dot product would (the skipped terms are exact zeros)
        int rowY = d.SRowY, rowDof = d.SRowDof, common = d.DofCommonI;
        for (int r = 0; r < rows; r++)
        {
            int yr = rowY + r * nv;
            int tr = d.SRowA + r * (r + 1) / 2;
            int dr = (int)s[rowDof + r];
            int commonR = common + (dr >= 0 ? dr : 0) * nv;
            for (int c = 0; c <= r; c++)
            {
                int dc = (int)s[rowDof + c];
                int count = dr >= 0 && dc >= 0 ? mi[commonR + dc] : 0;
                int yc = rowY + c * nv;
                float dot = 0f;
                for (int t = 0; t < count; t++) dot += s[yr + t] * s[yc + t];
                s[tr + c] = dot;
            }
            float arr = s[tr + r];
            s[d.SRowInvA + r] = arr > 1e-12f ? 1f / arr : 0f;
        }
        // warm start: u += A lambda
        for (int c = 0; c < rows; c++)
        {
            float lam = s[d.SLambda + (int)s[d.SRowSlot + c]];
            if (lam != 0f) AddColumn(s, d.SRowA, d.SRowU, rows, c, lam);
        }
        int sweeps = 0;
        int lambda = d.SLambda, rowSlot = d.SRowSlot, rowInvA = d.SRowInvA, rowB = d.SRowB, rowU = d.SRowU, rowMu = d.SRowMu, rowA = d.SRowA;
        int iterations = d.Iterations;
        float tolerance = d.Tolerance;
        for (int it = 0; it < iterations; it++)
        {
            sweeps++;
            float change = 0f;
            int r = 0;
            while (r < rows)
            {
                int li = lambda + (int)s[rowSlot + r];
                float lamOld = s[li];
                float inv = s[rowInvA + r];
                float lamNew = MathF.Max(0f, lamOld + (s[rowB + r] - s[rowU + r]) * inv);
                float dl = lamNew - lamOld;
                if (dl != 0f)
                {
                    AddColumn(s, rowA, rowU, rows, r, dl);
                    s[li] = lamNew;
                    if (inv > 0f) change = MathF.Max(change, MathF.Abs(dl) * s[rowA + r * (r + 3) / 2]);
                }
                float mu = s[rowMu + r];
                if (mu >= 0f)
                {
                    // friction pair: Gauss-Seidel step on each tangent, then project onto the disc |lambda_t| <= mu lambda_n
                    int r1 = r + 1, r2 = r + 2;
                    float l1 = s[li + 1], l2 = s[li + 2];
                    if (lamNew == 0f && l1 == 0f && l2 == 0f)
                    {
                        // no normal impulse: the cone is a point and the friction impulses stay zero
                        r += 3;
                        continue;
                    }
                    float inv1 = s[rowInvA + r1], inv2 = s[rowInvA + r2];
                    float n1 = l1 - s[rowU + r1] * inv1;
                    float n2 = l2 - s[rowU + r2] * inv2;
                    float limit = mu * lamNew;
                    float mag2 = n1 * n1 + n2 * n2;
                    if (mag2 > limit * limit)
                    {
                        float scale = mag2 > 0f ? limit / MathF.Sqrt(mag2) : 0f;
                        n1 *= scale;
                        n2 *= scale;
                    }
                    float d1 = n1 - l1, d2 = n2 - l2;
                    if (d1 != 0f && d2 != 0f)
                    {
                        AddColumns(s, rowA, rowU, rows, r1, d1, d2);
                        if (inv1 > 0f) change = MathF.Max(change, MathF.Abs(d1) * s[rowA + r1 * (r1 + 3) / 2]);
                        if (inv2 > 0f) change = MathF.Max(change, MathF.Abs(d2) * s[rowA + r2 * (r2 + 3) / 2]);
                    }
                    else if (d1 != 0f)
                    {
                        AddColumn(s, rowA, rowU, rows, r1, d1);
                        if (inv1 > 0f) change = MathF.Max(change, MathF.Abs(d1) * s[rowA + r1 * (r1 + 3) / 2]);
                    }
                    else if (d2 != 0f)
                    {
                        AddColumn(s, rowA, rowU, rows, r2, d2);
                        if (inv2 > 0f) change = MathF.Max(change, MathF.Abs(d2) * s[rowA + r2 * (r2 + 3) / 2]);
                    }
                    s[li + 1] = n1;
                    s[li + 2] = n2;
                    r += 3;
                }
                else
                {
                    r += 1;
                }
            }
            // change = the largest |impulse change| x A_rr (the diagonal of the packed A, at r (r + 3) / 2): the row
            // velocity it caused
            if (change < tolerance) break;
        }
        // v = v_free + (M + h D)^-1 J' lambda = v_free + L^-1 D^-1/2 (Y' lambda); STau is free by now
        normalImpulse = 0f;
        contacts = 0;
        for (int k = 0; k < nv; k++) s[d.STau + k] = 0f;
        for (int r = 0; r < rows; r++)
        {
            int slot = (int)s[d.SRowSlot + r];
            float lam = s[d.SLambda + slot];
            if (lam != 0f) AddScaledChain(m, s, d.STau, d.SRowY + r * nv, lam, (int)s[d.SRowDof + r]);
            if (slot >= contactRows)
            {
                int l = slot - contactRows;
                float q = s[d.SQpos + mi[d.LimitQposI + l]];
                float dlo = q - m.MF[d.LimitLoF + l], dhi = m.MF[d.LimitHiF + l] - q;
                if (dlo > dhi) s[d.SLambda + slot] = -lam;
            }
            else if (slot % 3 == 0)
            {
                normalImpulse += lam;
                if (lam > 0f) contacts++;
            }
        }
        TreeLdl.HalfSolveT(m, s, d.STau);
        for (int k = 0; k < nv; k++) s[d.SQvel + k] += s[d.STau + k];
        pseudo = PositionPass(m, s, rows);
        return sweeps;
    }

    /// <summary>
    /// The position (split-impulse) pass: when a gap is below -Slop, pseudo impulses on the normal
    /// and limit rows (no friction, no warm start) ask for a pseudo velocity that removes the fraction
    /// Baumgarte of every violation in this step (at most MaxCorrection), without letting other gaps
    /// close past zero. The pseudo velocity (M + h D)^-1 J' lambda_p goes to SVpseudo and moves only
    /// the positions, so correcting a penetration adds no kinetic energy. Returns 1 when it ran.
    /// </summary>
    private static int PositionPass<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int rows)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        int nv = d.Nv;
        float h = d.Timestep;
        float worst = 0f;
        for (int r = 0; r < rows; r++) worst = MathF.Min(worst, s[d.SRowPhi + r]);
        if (worst >= -d.Slop) return 0;
        for (int r = 0; r < rows; r++)
        {
            float phi = s[d.SRowPhi + r];
            s[d.SRowU + r] = 0f;
            s[d.SRowLp + r] = 0f;
            s[d.SRowB + r] = phi < 0f ? MathF.Min(-d.Baumgarte * phi / h, d.MaxCorrection) : -phi / h;
        }
        for (int it = 0; it < d.Iterations; it++)
        {
            float change = 0f;
            int r = 0;
            while (r < rows)
            {
                float inv = s[d.SRowInvA + r];
                float lamOld = s[d.SRowLp + r];
                float lamNew = MathF.Max(0f, lamOld + (s[d.SRowB + r] - s[d.SRowU + r]) * inv);
                float dl = lamNew - lamOld;
                if (dl != 0f)
                {
                    AddColumn(s, d.SRowA, d.SRowU, rows, r, dl);
                    s[d.SRowLp + r] = lamNew;
                    if (inv > 0f) change = MathF.Max(change, MathF.Abs(dl) * s[d.SRowA + r * (r + 3) / 2]);
                }
                r += s[d.SRowMu + r] >= 0f ? 3 : 1;
            }
            if (change < d.Tolerance) break;
        }
        for (int k = 0; k < nv; k++) s[d.SVpseudo + k] = 0f;
        for (int r = 0; r < rows; r++)
        {
            float lam = s[d.SRowLp + r];
            if (lam != 0f) AddScaledChain(m, s, d.SVpseudo, d.SRowY + r * nv, lam, (int)s[d.SRowDof + r]);
        }
        TreeLdl.HalfSolveT(m, s, d.SVpseudo);
        return 1;
    }

    /// <summary>u += A[:, c] * a for the symmetric A stored as a packed lower triangle (row r at r (r + 1) / 2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddColumn<TF>(Scratch<TF> s, int a, int u, int rows, int c, float x) where TF : struct, IView<float>
    {
        int idx = a + c * (c + 1) / 2;
        for (int k = 0; k < c; k++) s[u + k] += s[idx + k] * x;
        // column c below the diagonal: element (k, c) is at k (k + 1) / 2 + c; the next row starts k + 1 further
        idx += c;
        for (int k = c; k < rows; k++)
        {
            s[u + k] += s[idx] * x;
            idx += k + 1;
        }
    }

    /// <summary>
    /// u += A[:, c] x, then u += A[:, c + 1] y (c + 1 &lt; rows), in one pass: each element gets the same two
    /// additions in the same order as AddColumn(c, x) followed by AddColumn(c + 1, y).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddColumns<TF>(Scratch<TF> s, int a, int u, int rows, int c, float x, float y) where TF : struct, IView<float>
    {
        int ic = a + c * (c + 1) / 2; // row c of the packed triangle
        int id = ic + c + 1;          // row c + 1
        for (int k = 0; k < c; k++) s[u + k] = s[u + k] + s[ic + k] * x + s[id + k] * y;
        s[u + c] = s[u + c] + s[ic + c] * x + s[id + c] * y;
        s[u + c + 1] = s[u + c + 1] + s[id + c] * x + s[id + c + 1] * y;
        // below: elements (k, c) and (k, c + 1) are adjacent in row k
        int idx = a + (c + 2) * (c + 3) / 2 + c;
        for (int k = c + 2; k < rows; k++)
        {
            s[u + k] = s[u + k] + s[idx] * x + s[idx + 1] * y;
            idx += k + 1;
        }
    }

    /// <summary>y += a x over the chain of <paramref name="dof"/> (x, a Y row stored by chain position, is zero elsewhere).</summary>
    private static void AddScaledChain<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int y, int x, float a, int dof)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        if (dof < 0) return;
        ref readonly SimDims d = ref m.D;
        TI mi = m.MI;
        int chain = d.ChainDofI + mi[d.DofChainStartI + dof];
        int count = mi[d.DofChainCountI + dof];
        for (int t = 0; t < count; t++)
        {
            s[y + mi[chain + t]] += a * s[x + t];
        }
    }
}
