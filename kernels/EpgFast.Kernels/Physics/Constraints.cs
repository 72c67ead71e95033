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
/// (the gap may close within this step, not more: speculative contact) and
/// b_n = min(-Baumgarte phi / h, MaxCorrection) when phi &lt; 0 (push back out of the margin);
/// friction (condim 3): the two tangential impulses minimise the tangential slip velocity subject to
/// Coulomb's law |lambda_t| &lt;= mu lambda_n (a circular cone; mu = the pair's sliding friction).
/// Contacts act at the middle of the overlap, as MuJoCo's. Bodies therefore rest at the margin
/// (MuJoCo's soft contacts rest a fraction of a millimetre inside it).
/// Joint limits are the same one-sided row on the joint coordinate (gap = distance to the nearer end
/// of the range minus the joint's margin).
/// </para>
/// <para>
/// The problem is solved by projected Gauss-Seidel on rows J with W = (M + h D)^-1 J' (the same
/// matrix the implicit-damping Euler step uses), warm-started from the previous step's impulses of
/// the same contact slot, for at most Iterations sweeps.
/// </para>
/// </summary>
public static class Constraints
{
    /// <summary>Finds the active rows, fills J, W, targets; returns the row count. Writes each slot's distance to SSlotDist.</summary>
    public static int BuildRows<TF, TI>(in SimModel<TF, TI> m, in Scratch<TF> s)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        TF mf = m.MF;
        TI mi = m.MI;
        int nv = d.Nv;
        float h = d.Timestep;
        int rows = 0;
        for (int sl = 0; sl < d.NSlots; sl++)
        {
            int b = mi[d.SlotBodyI + sl];
            M33 r = Kinematics.LoadMat(s, d.SXmat + 9 * b);
            V3 local = new(mf[d.SlotPointF + 3 * sl], mf[d.SlotPointF + 3 * sl + 1], mf[d.SlotPointF + 3 * sl + 2]);
            V3 x = s.Get3(d.SXpos + 3 * b) + r.Mul(local);
            V3 n = new(mf[d.SlotNormalF + 3 * sl], mf[d.SlotNormalF + 3 * sl + 1], mf[d.SlotNormalF + 3 * sl + 2]);
            float radius = mf[d.SlotRadiusF + sl];
            float dist = V3.Dot(n, x) - mf[d.SlotOffsetF + sl] - radius;
            s[d.SSlotDist + sl] = dist;
            float phi = dist - mf[d.SlotMarginF + sl];
            int root = mi[d.BodyRootI + b];
            V3 c = s.Get3(d.SXpos + 3 * root);
            V3 vp = s.Get3(d.SCvel + 6 * b + 3) + V3.Cross(s.Get3(d.SCvel + 6 * b), x - c);
            float vn = V3.Dot(n, vp);
            int lam = d.SLambda + 3 * sl;
            if (phi > d.Lookahead + 2f * h * MathF.Max(0f, -vn))
            {
                s[lam] = 0f;
                s[lam + 1] = 0f;
                s[lam + 2] = 0f;
                continue;
            }
            int condim = mi[d.SlotCondimI + sl];
            V3 rc = x - n * (radius + 0.5f * dist) - c;
            // tangent frame
            V3 t1 = MathF.Abs(n.X) < 0.9f ? V3.Cross(n, new V3(1f, 0f, 0f)) : V3.Cross(n, new V3(0f, 1f, 0f));
            t1 = t1 * (1f / MathF.Sqrt(V3.Dot(t1, t1)));
            V3 t2 = V3.Cross(n, t1);
            int nrows = condim == 3 ? 3 : 1;
            for (int q = 0; q < nrows; q++)
            {
                V3 u = q == 0 ? n : q == 1 ? t1 : t2;
                V3 ru = V3.Cross(rc, u);
                int jr = d.SRowJ + (rows + q) * nv;
                for (int k = 0; k < nv; k++) s[jr + k] = 0f;
                for (int k = mi[d.BodyLastDofI + b]; k >= 0; k = mi[d.DofParentI + k])
                    s[jr + k] = V3.Dot(u, s.Get3(d.SCdof + 6 * k + 3)) + V3.Dot(ru, s.Get3(d.SCdof + 6 * k));
                float target = 0f;
                if (q == 0) target = phi >= 0f ? -phi / h : MathF.Min(-d.Baumgarte * phi / h, d.MaxCorrection);
                FinishRow(m, s, rows + q, target, 3 * sl + q, q == 0 ? mf[d.SlotMuF + sl] : 0f);
            }
            if (nrows == 1)
            {
                s[lam + 1] = 0f;
                s[lam + 2] = 0f;
            }
            rows += nrows;
        }
        for (int l = 0; l < d.NLimits; l++)
        {
            int dof = mi[d.LimitDofI + l];
            float q = s[d.SQpos + mi[d.LimitQposI + l]];
            float dlo = q - mf[d.LimitLoF + l], dhi = mf[d.LimitHiF + l] - q;
            float sign = dlo <= dhi ? 1f : -1f;
            float phi = MathF.Min(dlo, dhi) - mf[d.LimitMarginF + l];
            float vq = sign * s[d.SQvel + dof];
            int lam = d.SLambda + 3 * d.NSlots + l;
            // warm start is stored signed: a switch to the other end of the range starts from zero
            float warm = s[lam] * sign;
            if (phi > d.Lookahead + 2f * h * MathF.Max(0f, -vq))
            {
                s[lam] = 0f;
                continue;
            }
            s[lam] = warm > 0f ? warm : 0f;
            int jr = d.SRowJ + rows * nv;
            for (int k = 0; k < nv; k++) s[jr + k] = 0f;
            s[jr + dof] = sign;
            float target = phi >= 0f ? -phi / h : MathF.Min(-d.Baumgarte * phi / h, d.MaxCorrection);
            FinishRow(m, s, rows, target, 3 * d.NSlots + l, -1f);
            // the row's impulse acts on sign * e_dof; keep the working impulse unsigned, restore the sign on exit
            rows++;
        }
        return rows;
    }

    /// <summary>W = (M + h D)^-1 J', 1 / (J W), target, slot and friction of row r.</summary>
    private static void FinishRow<TF, TI>(in SimModel<TF, TI> m, in Scratch<TF> s, int r, float target, int slot, float mu)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        int nv = d.Nv;
        int jr = d.SRowJ + r * nv, wr = d.SRowW + r * nv;
        for (int k = 0; k < nv; k++) s[wr + k] = s[jr + k];
        TreeLdl.Solve(m, s, wr);
        float a = 0f;
        for (int k = 0; k < nv; k++) a += s[jr + k] * s[wr + k];
        s[d.SRowInvA + r] = a > 1e-12f ? 1f / a : 0f;
        s[d.SRowB + r] = target;
        s[d.SRowSlot + r] = slot;
        s[d.SRowMu + r] = mu;
    }

    /// <summary>
    /// Projected Gauss-Seidel on the rows: updates the velocity at SQvel (which holds the free
    /// velocity on entry) and the impulses at SLambda. Returns the sweeps used; the summed normal
    /// impulse of the contacts goes to <paramref name="normalImpulse"/>, their count to <paramref name="contacts"/>.
    /// </summary>
    public static int Solve<TF, TI>(in SimModel<TF, TI> m, in Scratch<TF> s, int rows, out float normalImpulse, out int contacts)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        TI mi = m.MI;
        int nv = d.Nv;
        int contactRows = 3 * d.NSlots;
        // warm start: v += W lambda
        for (int r = 0; r < rows; r++)
        {
            float lam = s[d.SLambda + (int)s[d.SRowSlot + r]];
            if (lam != 0f) AddScaled(s, d.SQvel, d.SRowW + r * nv, lam, nv);
        }
        int sweeps = 0;
        for (int it = 0; it < d.Iterations; it++)
        {
            sweeps++;
            float change = 0f;
            int r = 0;
            while (r < rows)
            {
                int slot = (int)s[d.SRowSlot + r];
                int li = d.SLambda + slot;
                float lamOld = s[li];
                float u = Dot(s, d.SRowJ + r * nv, d.SQvel, nv);
                float lamNew = MathF.Max(0f, lamOld + (s[d.SRowB + r] - u) * s[d.SRowInvA + r]);
                float dl = lamNew - lamOld;
                if (dl != 0f)
                {
                    AddScaled(s, d.SQvel, d.SRowW + r * nv, dl, nv);
                    s[li] = lamNew;
                    float inv = s[d.SRowInvA + r];
                    float dv = inv > 0f ? MathF.Abs(dl) / inv : 0f;
                    change = MathF.Max(change, dv);
                }
                if (slot < contactRows && mi[d.SlotCondimI + slot / 3] == 3)
                {
                    // friction pair: Gauss-Seidel step on each tangent, then project onto the disc |lambda_t| <= mu lambda_n
                    int r1 = r + 1, r2 = r + 2;
                    float l1 = s[li + 1], l2 = s[li + 2];
                    float u1 = Dot(s, d.SRowJ + r1 * nv, d.SQvel, nv);
                    float u2 = Dot(s, d.SRowJ + r2 * nv, d.SQvel, nv);
                    float n1 = l1 - u1 * s[d.SRowInvA + r1];
                    float n2 = l2 - u2 * s[d.SRowInvA + r2];
                    float limit = s[d.SRowMu + r] * lamNew;
                    float mag2 = n1 * n1 + n2 * n2;
                    if (mag2 > limit * limit)
                    {
                        float scale = mag2 > 0f ? limit / MathF.Sqrt(mag2) : 0f;
                        n1 *= scale;
                        n2 *= scale;
                    }
                    float d1 = n1 - l1, d2 = n2 - l2;
                    if (d1 != 0f)
                    {
                        AddScaled(s, d.SQvel, d.SRowW + r1 * nv, d1, nv);
                        float inv = s[d.SRowInvA + r1];
                        if (inv > 0f) change = MathF.Max(change, MathF.Abs(d1) / inv);
                    }
                    if (d2 != 0f)
                    {
                        AddScaled(s, d.SQvel, d.SRowW + r2 * nv, d2, nv);
                        float inv = s[d.SRowInvA + r2];
                        if (inv > 0f) change = MathF.Max(change, MathF.Abs(d2) / inv);
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
            if (change < d.Tolerance) break;
        }
        normalImpulse = 0f;
        contacts = 0;
        for (int r = 0; r < rows; r++)
        {
            int slot = (int)s[d.SRowSlot + r];
            if (slot >= contactRows)
            {
                // limit impulses are kept signed between steps (see BuildRows)
                int l = slot - contactRows;
                float q = s[d.SQpos + mi[d.LimitQposI + l]];
                float dlo = q - m.MF[d.LimitLoF + l], dhi = m.MF[d.LimitHiF + l] - q;
                if (dlo > dhi) s[d.SLambda + slot] = -s[d.SLambda + slot];
            }
            else if (slot % 3 == 0)
            {
                float ln = s[d.SLambda + slot];
                normalImpulse += ln;
                if (ln > 0f) contacts++;
            }
        }
        return sweeps;
    }

    private static float Dot<TF>(in Scratch<TF> s, int a, int b, int n) where TF : struct, IView<float>
    {
        float r = 0f;
        for (int k = 0; k < n; k++) r += s[a + k] * s[b + k];
        return r;
    }

    private static void AddScaled<TF>(in Scratch<TF> s, int y, int x, float a, int n) where TF : struct, IView<float>
    {
        for (int k = 0; k < n; k++) s[y + k] += a * s[x + k];
    }
}
