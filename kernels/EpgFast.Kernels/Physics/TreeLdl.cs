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
        int nv = d.Nv, sm = d.SM, dinv = d.SDinv, dinvSqrt = d.SDinvSqrt;
        int chains = d.ChainDofI, chainStart = d.DofChainStartI, chainCount = d.DofChainCountI;
        for (int k = nv - 1; k >= 0; k--)
        {
            int rowK = sm + k * nv;
            float dk = s[rowK + k];
            float inv = 1f / dk;
            s[dinv + k] = inv;
            s[dinvSqrt + k] = MathF.Sqrt(inv);
            // k's chain is root ... parent(k), k: its ancestors are chain[n - 2], chain[n - 3], ..., chain[0]
            int chain = chains + mi[chainStart + k];
            int n = mi[chainCount + k];
            for (int a = n - 2; a >= 0; a--)
            {
                int i = mi[chain + a];
                int rowI = sm + i * nv;
                float t = s[rowK + i] * inv;
                // M(i, j) -= t * M(k, j) for j = i and the ancestors of i
                for (int b = a; b >= 0; b--)
                {
                    int j = mi[chain + b];
                    s[rowI + j] -= t * s[rowK + j];
                }
                s[rowK + i] = t;
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
        int nv = d.Nv, sm = d.SM, dinv = d.SDinv;
        int chains = d.ChainDofI, chainStart = d.DofChainStartI, chainCount = d.DofChainCountI;
        // x = L'^-1 x
        for (int i = nv - 1; i >= 0; i--)
        {
            float xi = s[x + i];
            if (xi == 0f) continue;
            int row = sm + i * nv;
            int chain = chains + mi[chainStart + i];
            for (int a = mi[chainCount + i] - 2; a >= 0; a--)
            {
                int j = mi[chain + a];
                s[x + j] -= s[row + j] * xi;
            }
        }
        // x = D^-1 x
        for (int i = 0; i < nv; i++) s[x + i] *= s[dinv + i];
        // x = L^-1 x
        for (int i = 0; i < nv; i++)
        {
            float xi = s[x + i];
            int row = sm + i * nv;
            int chain = chains + mi[chainStart + i];
            for (int a = mi[chainCount + i] - 2; a >= 0; a--)
            {
                int j = mi[chain + a];
                xi -= s[row + j] * s[x + j];
            }
            s[x + i] = xi;
        }
    }

    /// <summary>
    /// x = D^-1/2 L^-T x in place (half of <see cref="Solve"/>: M^-1 = B' B with B = D^-1/2 L^-T) for a vector
    /// that is zero outside the chain of <paramref name="dof"/> (its ancestors and itself): L^-T keeps that
    /// support, so the vector is stored by chain position (x + t holds the entry of dof chain[t], root
    /// first; Count(dof) floats). dof = -1: an empty chain, nothing to do.
    /// </summary>
    public static void HalfSolveChain<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int x, int dof)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        if (dof < 0) return;
        ref readonly SimDims d = ref m.D;
        TI mi = m.MI;
        int nv = d.Nv, sm = d.SM;
        int chain = d.ChainDofI + mi[d.DofChainStartI + dof];
        int count = mi[d.DofChainCountI + dof];
        // the chain is a path: the ancestors of chain[t] are chain[t - 1], ..., chain[0]
        for (int t = count - 1; t > 0; t--)
        {
            float xi = s[x + t];
            if (xi == 0f) continue;
            int row = sm + mi[chain + t] * nv;
            for (int u = t - 1; u >= 0; u--)
                s[x + u] -= s[row + mi[chain + u]] * xi;
        }
        int dinv = d.SDinvSqrt;
        for (int t = 0; t < count; t++) s[x + t] *= s[dinv + mi[chain + t]];
    }

    /// <summary>
    /// <see cref="HalfSolveChain"/> of three consecutive chain-position vectors (x, x + Nv, x + 2 Nv) on one
    /// chain: each factor entry is read once for the three. Each vector gets the same operations in the same
    /// order as its own HalfSolveChain (a zero entry is skipped there; here it subtracts an exact zero product).
    /// </summary>
    public static void HalfSolveChain3<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int x, int dof)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        if (dof < 0) return;
        ref readonly SimDims d = ref m.D;
        TI mi = m.MI;
        int nv = d.Nv, sm = d.SM;
        int x1 = x + nv, x2 = x1 + nv;
        int chain = d.ChainDofI + mi[d.DofChainStartI + dof];
        int count = mi[d.DofChainCountI + dof];
        for (int t = count - 1; t > 0; t--)
        {
            float a0 = s[x + t], a1 = s[x1 + t], a2 = s[x2 + t];
            int row = sm + mi[chain + t] * nv;
            for (int u = t - 1; u >= 0; u--)
            {
                float l = s[row + mi[chain + u]];
                s[x + u] -= l * a0;
                s[x1 + u] -= l * a1;
                s[x2 + u] -= l * a2;
            }
        }
        int dinv = d.SDinvSqrt;
        for (int t = 0; t < count; t++)
        {
            float di = s[dinv + mi[chain + t]];
            s[x + t] *= di;
            s[x1 + t] *= di;
            s[x2 + t] *= di;
        }
    }

    /// <summary>x = L^-1 D^-1/2 x in place (B' x, the other half of <see cref="Solve"/>).</summary>
    public static void HalfSolveT<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int x)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        TI mi = m.MI;
        int nv = d.Nv, sm = d.SM, dinvSqrt = d.SDinvSqrt;
        int chains = d.ChainDofI, chainStart = d.DofChainStartI, chainCount = d.DofChainCountI;
        for (int i = 0; i < nv; i++)
        {
            float xi = s[x + i] * s[dinvSqrt + i];
            int row = sm + i * nv;
            int chain = chains + mi[chainStart + i];
            for (int a = mi[chainCount + i] - 2; a >= 0; a--)
            {
                int j = mi[chain + a];
                xi -= s[row + j] * s[x + j];
            }
            s[x + i] = xi;
        }
    }
}
