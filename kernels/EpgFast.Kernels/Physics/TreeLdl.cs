using EpgFast.Kernels.Memory;

namespace EpgFast.Kernels.Physics;

/// <summary>
/// The tree-sparse factorisation M = L' D L of a joint-space matrix (MuJoCo's mj_factorI /
/// mj_solveLD): L is unit lower triangular with the sparsity of the dof tree (entry (i, j) only
/// where j is an ancestor of i), so factorising from the leaves up creates no fill-in. The factor
/// overwrites the lower triangle at SM; 1/D goes to SDinv.
/// </summary>
public static class TreeLdl
{
    /// <summary>Factorises the matrix at SM in place.</summary>
    public static void Factor<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        TI mi = m.MI;
        int nv = d.Nv;
        for (int k = nv - 1; k >= 0; k--)
        {
            float dk = s[d.SM + k * nv + k];
            float inv = 1f / dk;
            s[d.SDinv + k] = inv;
            s[d.SDinvSqrt + k] = MathF.Sqrt(inv);
            for (int i = mi[d.DofParentI + k]; i >= 0; i = mi[d.DofParentI + i])
            {
                float mki = s[d.SM + k * nv + i];
                float t = mki * inv;
                // M(i, j) -= t * M(k, j) for j = i and the ancestors of i
                for (int j = i; j >= 0; j = mi[d.DofParentI + j])
                    s[d.SM + i * nv + j] -= t * s[d.SM + k * nv + j];
                s[d.SM + k * nv + i] = t;
            }
        }
    }

    /// <summary>x = M^-1 x in place for the vector at scratch offset <paramref name="x"/> (Nv elements), with the factor from <see cref="Factor"/>.</summary>
    public static void Solve<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int x)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        TI mi = m.MI;
        int nv = d.Nv;
        // x = L'^-1 x
        for (int i = nv - 1; i >= 0; i--)
        {
            float xi = s[x + i];
            if (xi == 0f) continue;
            for (int j = mi[d.DofParentI + i]; j >= 0; j = mi[d.DofParentI + j])
                s[x + j] -= s[d.SM + i * nv + j] * xi;
        }
        // x = D^-1 x
        for (int i = 0; i < nv; i++) s[x + i] *= s[d.SDinv + i];
        // x = L^-1 x
        for (int i = 0; i < nv; i++)
        {
            float xi = s[x + i];
            for (int j = mi[d.DofParentI + i]; j >= 0; j = mi[d.DofParentI + j])
                xi -= s[d.SM + i * nv + j] * s[x + j];
            s[x + i] = xi;
        }
    }

    /// <summary>x = D^-1/2 L^-T x in place (half of <see cref="Solve"/>: M^-1 = B' B with B = D^-1/2 L^-T).</summary>
    public static void HalfSolve<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int x)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        TI mi = m.MI;
        int nv = d.Nv;
        for (int i = nv - 1; i >= 0; i--)
        {
            float xi = s[x + i];
            if (xi == 0f) continue;
            for (int j = mi[d.DofParentI + i]; j >= 0; j = mi[d.DofParentI + j])
                s[x + j] -= s[d.SM + i * nv + j] * xi;
        }
        for (int i = 0; i < nv; i++) s[x + i] *= s[d.SDinvSqrt + i];
    }

    /// <summary>x = L^-1 D^-1/2 x in place (B' x, the other half of <see cref="Solve"/>).</summary>
    public static void HalfSolveT<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int x)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        TI mi = m.MI;
        int nv = d.Nv;
        for (int i = 0; i < nv; i++)
        {
            float xi = s[x + i] * s[d.SDinvSqrt + i];
            for (int j = mi[d.DofParentI + i]; j >= 0; j = mi[d.DofParentI + j])
                xi -= s[d.SM + i * nv + j] * s[x + j];
            s[x + i] = xi;
        }
    }
}
