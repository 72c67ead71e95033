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
    /// <summary>
    /// Factorises the tree-sparse matrix at scratch offset <paramref name="mat"/> (Nv x Nv, entries (i, j) with j = i or j
    /// an ancestor dof of i) in place; 1/D goes to <paramref name="dinv"/>.
    /// </summary>
    public static void Factor<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int mat, int dinv)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        TI mi = m.MI;
        int nv = d.Nv;
        int chains = d.ChainDofI, chainStart = d.DofChainStartI, chainCount = d.DofChainCountI;
        for (int k = nv - 1; k >= 0; k--)
        {
            int rowK = mat + k * nv;
            float inv = 1f / s[rowK + k];
            s[dinv + k] = inv;
            // k's chain is root ... parent(k), k: its ancestors are chain[n - 2], chain[n - 3], ..., chain[0]
            int chain = chains + mi[chainStart + k];
            int n = mi[chainCount + k];
            for (int a = n - 2; a >= 0; a--)
            {
                int i = mi[chain + a];
                int rowI = mat + i * nv;
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

    /// <summary>x = A^-1 x in place for the vector at scratch offset <paramref name="x"/> (Nv elements), with the factor of A from <see cref="Factor"/>.</summary>
    public static void Solve<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int mat, int dinv, int x)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        TI mi = m.MI;
        int nv = d.Nv;
        int chains = d.ChainDofI, chainStart = d.DofChainStartI, chainCount = d.DofChainCountI;
        // x = L'^-1 x
        for (int i = nv - 1; i >= 0; i--)
        {
            float xi = s[x + i];
            if (xi == 0f) continue;
            int row = mat + i * nv;
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
            int row = mat + i * nv;
            int chain = chains + mi[chainStart + i];
            for (int a = mi[chainCount + i] - 2; a >= 0; a--)
            {
                int j = mi[chain + a];
                xi -= s[row + j] * s[x + j];
            }
            s[x + i] = xi;
        }
    }

    /// <summary>Copies the tree-sparse entries of the matrix at <paramref name="from"/> to <paramref name="to"/> (both Nv x Nv).</summary>
    public static void Copy<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int from, int to)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        TI mi = m.MI;
        int nv = d.Nv;
        for (int i = 0; i < nv; i++)
        {
            int chain = d.ChainDofI + mi[d.DofChainStartI + i];
            int row = i * nv;
            for (int a = mi[d.DofChainCountI + i] - 1; a >= 0; a--)
            {
                int j = mi[chain + a];
                s[to + row + j] = s[from + row + j];
            }
        }
    }

    /// <summary>y = A x for the symmetric tree-sparse matrix at <paramref name="mat"/> (unfactorised; x and y Nv-vectors, distinct).</summary>
    public static void Multiply<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int mat, int x, int y)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        TI mi = m.MI;
        int nv = d.Nv;
        for (int i = 0; i < nv; i++) s[y + i] = s[mat + i * nv + i] * s[x + i];
        for (int i = 0; i < nv; i++)
        {
            int row = mat + i * nv;
            float xi = s[x + i];
            float yi = s[y + i];
            int chain = d.ChainDofI + mi[d.DofChainStartI + i];
            for (int a = mi[d.DofChainCountI + i] - 2; a >= 0; a--)
            {
                int j = mi[chain + a];
                float mij = s[row + j];
                yi += mij * s[x + j];
                s[y + j] += mij * xi;
            }
            s[y + i] = yi;
        }
    }
}
