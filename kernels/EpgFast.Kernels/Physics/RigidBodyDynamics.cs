using System.Runtime.CompilerServices;
using EpgFast.Kernels.Memory;

namespace EpgFast.Kernels.Physics;

/// <summary>
/// Joint-space dynamics of one environment from the kinematics: bias forces by recursive
/// Newton-Euler (MuJoCo's mj_rne with zero acceleration: gravity, Coriolis, centrifugal) and the
/// mass matrix by the composite rigid body algorithm (MuJoCo's mj_crb, armature on the diagonal).
/// All spatial quantities are at the tree's reference point (see <see cref="Kinematics"/>).
/// </summary>
public static class RigidBodyDynamics
{
    /// <summary>
    /// cvel, cacc (with gravity as a base acceleration), cfrc and bias = C(q, v) v + g(q), as
    /// MuJoCo's qfrc_bias.
    /// </summary>
    public static void Bias<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        TI mi = m.MI;
        for (int o = 1; o < d.Nbody; o++)
        {
            // level order (parents first; see Kinematics.Run)
            int b = mi[d.BodyOrderI + o];
            int parent = mi[d.BodyParentI + b];
            V3 w, v, aw, av;
            if (parent == 0)
            {
                w = new V3(0f, 0f, 0f);
                v = w;
                aw = w;
                av = new V3(-d.GravityX, -d.GravityY, -d.GravityZ);
            }
            else
            {
                w = s.Get3(d.SCvel + 6 * parent);
                v = s.Get3(d.SCvel + 6 * parent + 3);
                aw = s.Get3(d.SCacc + 6 * parent);
                av = s.Get3(d.SCacc + 6 * parent + 3);
            }
            int d0 = mi[d.BodyDofStartI + b], dn = mi[d.BodyDofCountI + b];
            // a free joint's three rotational axes all move with the velocity after its translation
            // (MuJoCo's mj_comVel): sum_k (w x a_k) qd_k = w x w = 0 for the body's own rotation
            int rotStart = dn > 0 && mi[d.JntTypeI + mi[d.BodyJntStartI + b]] == Kinematics.JointFree ? d0 + 3 : int.MaxValue;
            V3 w0 = w, v0 = v;
            for (int k = d0; k < d0 + dn; k++)
            {
                // cacc += (cvel x cdof) qd, then cvel += cdof qd
                V3 cw = s.Get3(d.SCdof + 6 * k), cv = s.Get3(d.SCdof + 6 * k + 3);
                float qd = s[d.SQvel + k];
                if (k == rotStart)
                {
                    w0 = w;
                    v0 = v;
                }
                V3 wc = k >= rotStart ? w0 : w, vc = k >= rotStart ? v0 : v;
                aw += V3.Cross(wc, cw) * qd;
                av += (V3.Cross(wc, cv) + V3.Cross(vc, cw)) * qd;
                w += cw * qd;
                v += cv * qd;
            }
            s.Set3(d.SCvel + 6 * b, w);
            s.Set3(d.SCvel + 6 * b + 3, v);
            s.Set3(d.SCacc + 6 * b, aw);
            s.Set3(d.SCacc + 6 * b + 3, av);
            // cfrc = I a + v x* (I v)
            int ci = d.SCinert + 10 * b;
            ApplyTwice(s, ci, aw, av, w, v, out V3 fn, out V3 fp, out V3 ln, out V3 lp);
            fn += V3.Cross(w, ln) + V3.Cross(v, lp);
            fp += V3.Cross(w, lp);
            s.Set3(d.SCfrc + 6 * b, fn);
            s.Set3(d.SCfrc + 6 * b + 3, fp);
        }
        // children before parents, reverse level order (each parent receives its children in decreasing
        // index order, as a reverse index walk would give)
        for (int o = d.Nbody - 1; o > 0; o--)
        {
            int b = mi[d.BodyOrderI + o];
            int parent = mi[d.BodyParentI + b];
            if (parent == 0) continue;
            for (int k = 0; k < 6; k++) s[d.SCfrc + 6 * parent + k] += s[d.SCfrc + 6 * b + k];
        }
        for (int k = 0; k < d.Nv; k++)
        {
            int b = mi[d.DofBodyI + k];
            s[d.SBias + k] = Dot6(s, d.SCdof + 6 * k, d.SCfrc + 6 * b);
        }
    }

    /// <summary>M (lower triangle, entries (i, j) with j an ancestor dof of i or j = i) by composite rigid bodies, armature added.</summary>
    public static void MassMatrix<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        TI mi = m.MI;
        TF mf = m.MF;
        for (int b = 1; b < d.Nbody; b++)
            for (int k = 0; k < 10; k++) s[d.SCcomp + 10 * b + k] = s[d.SCinert + 10 * b + k];
        for (int o = d.Nbody - 1; o > 0; o--)
        {
            int b = mi[d.BodyOrderI + o];
            int parent = mi[d.BodyParentI + b];
            if (parent == 0) continue;
            for (int k = 0; k < 10; k++) s[d.SCcomp + 10 * parent + k] += s[d.SCcomp + 10 * b + k];
        }
        int nv = d.Nv, sm = d.SM, cdof = d.SCdof, ccomp = d.SCcomp;
        int chains = d.ChainDofI, chainStart = d.DofChainStartI, chainCount = d.DofChainCountI, dofFree = d.DofFreeI;
        for (int i = 0; i < nv; i++)
        {
            int b = mi[d.DofBodyI + i];
            V3 cw = s.Get3(cdof + 6 * i), cv = s.Get3(cdof + 6 * i + 3);
            Apply(s, ccomp + 10 * b, cw, cv, out V3 fn, out V3 fp);
            int row = sm + i * nv;
            s[row + i] = V3.Dot(cw, fn) + V3.Dot(cv, fp) + mf[d.DofArmatureF + i];
            // the ancestors of i: its chain (root ... i) but i, nearest first
            int chain = chains + mi[chainStart + i];
            for (int a = mi[chainCount + i] - 2; a >= 0; a--)
            {
                int j = mi[chain + a];
                int cj = cdof + 6 * j;
                // a free joint's cdof is (0, e_k) for translation k and (axis, 0) for rotation: the dot product's
                // other terms are exact zeros, so the value is the same
                int kind = mi[dofFree + j];
                float mij;
                if (kind == 0) mij = fp.X;
                else if (kind == 1) mij = fp.Y;
                else if (kind == 2) mij = fp.Z;
                else if (kind == 3) mij = V3.Dot(s.Get3(cj), fn);
                else mij = V3.Dot(s.Get3(cj), fn) + V3.Dot(s.Get3(cj + 3), fp);
                s[row + j] = mij;
            }
        }
    }

    /// <summary>0.5 v' M v with the tree-sparse M (before factorisation).</summary>
    public static float KineticEnergy<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        TI mi = m.MI;
        int nv = d.Nv;
        float e = 0f;
        for (int i = 0; i < nv; i++)
        {
            float vi = s[d.SQvel + i];
            float row = 0.5f * s[d.SM + i * nv + i] * vi;
            for (int j = mi[d.DofParentI + i]; j >= 0; j = mi[d.DofParentI + j])
                row += s[d.SM + i * nv + j] * s[d.SQvel + j];
            e += row * vi;
        }
        return e;
    }

    /// <summary>Spatial inertia (m, h, I at c) times motion (w, v): p = m v + w x h, n = I w + h x v.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Apply<TF>(Scratch<TF> s, int ci, V3 w, V3 v, out V3 n, out V3 p) where TF : struct, IView<float>
    {
        float mass = s[ci];
        V3 h = s.Get3(ci + 1);
        float ixx = s[ci + 4], iyy = s[ci + 5], izz = s[ci + 6], ixy = s[ci + 7], ixz = s[ci + 8], iyz = s[ci + 9];
        p = v * mass + V3.Cross(w, h);
        n = new V3(ixx * w.X + ixy * w.Y + ixz * w.Z, ixy * w.X + iyy * w.Y + iyz * w.Z, ixz * w.X + iyz * w.Y + izz * w.Z) + V3.Cross(h, v);
    }

    /// <summary><see cref="Apply"/> of one spatial inertia to two motions (the inertia read once): (n1, p1) = I (w1, v1), (n2, p2) = I (w2, v2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ApplyTwice<TF>(Scratch<TF> s, int ci, V3 w1, V3 v1, V3 w2, V3 v2, out V3 n1, out V3 p1, out V3 n2, out V3 p2) where TF : struct, IView<float>
    {
        float mass = s[ci];
        V3 h = s.Get3(ci + 1);
        float ixx = s[ci + 4], iyy = s[ci + 5], izz = s[ci + 6], ixy = s[ci + 7], ixz = s[ci + 8], iyz = s[ci + 9];
        p1 = v1 * mass + V3.Cross(w1, h);
        n1 = new V3(ixx * w1.X + ixy * w1.Y + ixz * w1.Z, ixy * w1.X + iyy * w1.Y + iyz * w1.Z, ixz * w1.X + iyz * w1.Y + izz * w1.Z) + V3.Cross(h, v1);
        p2 = v2 * mass + V3.Cross(w2, h);
        n2 = new V3(ixx * w2.X + ixy * w2.Y + ixz * w2.Z, ixy * w2.X + iyy * w2.Y + iyz * w2.Z, ixz * w2.X + iyz * w2.Y + izz * w2.Z) + V3.Cross(h, v2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot6<TF>(Scratch<TF> s, int a, int b) where TF : struct, IView<float>
    {
        float r = 0f;
        for (int k = 0; k < 6; k++) r += s[a + k] * s[b + k];
        return r;
    }
}
