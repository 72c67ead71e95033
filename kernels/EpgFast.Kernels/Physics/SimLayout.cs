using System.Runtime.CompilerServices;
using EpgFast.Kernels.Memory;

namespace EpgFast.Kernels.Physics;

/// <summary>
/// Sizes, solver parameters and array offsets of a compiled model for the kernel simulator. Built
/// on the host (EpgFast.Physics.KernelPhysicsModel) and passed by value to the kernels. The model
/// lives in two read-only device buffers: floats (MF) and ints (MI); the fields ending in F / I are
/// offsets into them. Per-environment scratch (including the persistent state) lives in one float
/// buffer in blocks of L = 2^ScratchShift environments: element k of environment e is at
/// (e / L) * ScratchSize * L + (k * L) + (e mod L). On a GPU L = 32 (a warp's environments read
/// element k from one 128-byte line: structure of arrays per warp); on the CPU L = 1 (one
/// contiguous block per environment). Offsets starting with S are such k's.
/// </summary>
public struct SimDims
{
    // ---- sizes ----
    public int Envs;
    /// <summary>Bodies including the world (body 0).</summary>
    public int Nbody;
    public int Nq;
    public int Nv;
    public int Nu;
    public int Njnt;
    /// <summary>Contact slots: one per (plane, sphere) pair, two per (plane, capsule) pair (its end spheres).</summary>
    public int NSlots;
    /// <summary>Limited hinge dofs (one limit row each, at the nearer end of its range).</summary>
    public int NLimits;
    /// <summary>Constraint rows that can be active at once: 3 * NSlots + NLimits.</summary>
    public int MaxRows;

    // ---- physics and solver parameters ----
    public float Timestep;
    public float GravityX, GravityY, GravityZ;
    /// <summary>Projected Gauss-Seidel sweeps per physics step (upper bound).</summary>
    public int Iterations;
    /// <summary>Sweeps stop early when no impulse changes a row velocity by more than this (m/s or rad/s).</summary>
    public float Tolerance;
    /// <summary>Fraction of a constraint violation (penetration past the margin, limit overrun) the position pass removes per step.</summary>
    public float Baumgarte;
    /// <summary>Largest correcting pseudo velocity of the position pass (m/s or rad/s).</summary>
    public float MaxCorrection;
    /// <summary>Violations up to this depth (m or rad) are left alone (no position pass).</summary>
    public float Slop;
    /// <summary>A constraint enters the solver when its gap is below Lookahead plus two steps of approach.</summary>
    public float Lookahead;

    // ---- model ints (MI) ----
    public int BodyParentI, BodyRootI, BodyJntStartI, BodyJntCountI, BodyLastDofI, BodyDofStartI, BodyDofCountI;
    /// <summary>The bodies in level order (breadth first, children in index order; Nbody entries, the world first): parents come before children.</summary>
    public int BodyOrderI;
    public int JntTypeI, JntQposI, JntDofI;
    public int DofBodyI, DofParentI;
    /// <summary>Per dof: where its chain (its ancestor dofs and itself, root first; a path in the dof tree) starts in ChainDofI, and its length.</summary>
    public int DofChainStartI, DofChainCountI, ChainDofI;
    /// <summary>Per dof: 0, 1, 2 for a free joint's translation along world x, y, z (cdof = (0, e_k)); 3 for its rotations (cdof = (axis, 0)); -1 otherwise.</summary>
    public int DofFreeI;
    /// <summary>Per pair of dofs (Nv x Nv): the length of their chains' common prefix (their common ancestors, either included).</summary>
    public int DofCommonI;
    public int SlotBodyI, SlotCondimI;
    public int LimitDofI, LimitQposI;
    public int ActDofI, ActLimitedI;

    // ---- model floats (MF) ----
    public int BodyPosF, BodyQuatF, BodyMassF, BodyIposF, BodyInertiaF;
    public int JntPosF, JntAxisF;
    public int DofArmatureF, DofDampingF;
    public int Qpos0F;
    public int SlotPointF, SlotRadiusF, SlotMarginF, SlotMuF, SlotNormalF, SlotOffsetF;
    public int LimitLoF, LimitHiF, LimitMarginF;
    public int ActGearF, ActLoF, ActHiF;

    // ---- per-environment scratch ----
    public int ScratchSize;
    /// <summary>log2 of the environments interleaved per scratch block (5 on a GPU, 0 on the CPU).</summary>
    public int ScratchShift;

    /// <summary>Scratch buffer length for <paramref name="envs"/> environments.</summary>
    public readonly long ScratchLength(int envs)
    {
        long lanes = 1L << ScratchShift;
        return (envs + lanes - 1) / lanes * lanes * ScratchSize;
    }
    /// <summary>Persistent state: qpos (Nq), qvel (Nv), warm-start impulses (3 NSlots + NLimits).</summary>
    public int SQpos, SQvel, SLambda;
    /// <summary>Per body: xpos (3), xquat (4), xmat (9, row-major), cinert (10), composite inertia (10), cvel (6), cacc (6), cfrc (6).</summary>
    public int SXpos, SXquat, SXmat, SCinert, SCcomp, SCvel, SCacc, SCfrc;
    /// <summary>Per dof: cdof (6: angular, linear at the tree's reference point).</summary>
    public int SCdof;
    /// <summary>Joint-space mass matrix, nv x nv (lower triangle, tree-sparse), then its L'DL factor in place.</summary>
    public int SM;
    /// <summary>Per dof: inverse of D in M = L' D L, and its square root.</summary>
    public int SDinv, SDinvSqrt;
    /// <summary>Per dof vectors: bias, smooth force (then free acceleration), the position pass's pseudo velocity.</summary>
    public int SBias, STau, SVpseudo;
    /// <summary>Constraint rows: Y = D^-1/2 L^-T J' (MaxRows x Nv), target velocity, 1/A_rr, slot id, friction (-1: none), row velocity.</summary>
    public int SRowY, SRowB, SRowInvA, SRowSlot, SRowMu, SRowU;
    /// <summary>
    /// Constraint rows: the deepest dof whose chain holds every dof the row's Jacobian touches (-1: none). Y is
    /// nonzero only on that chain (L^-T keeps a chain's support), so a Y row holds only those entries, by chain
    /// position (element t is the entry of the chain's t-th dof, root first).
    /// </summary>
    public int SRowDof;
    /// <summary>Constraint rows: the gap phi (m or rad, negative when violated), the position pass's pseudo impulse.</summary>
    public int SRowPhi, SRowLp;
    /// <summary>Delassus matrix A = Y Y' of the active rows, packed lower triangle (MaxRows (MaxRows + 1) / 2).</summary>
    public int SRowA;
    /// <summary>Per contact slot: the contact's signed distance (for the diagnostics).</summary>
    public int SSlotDist;
    /// <summary>The contact slots that enter this step's problem, as slot ids in increasing order (NSlots; the count is BuildRows' own).</summary>
    public int SSlotActive;

    /// <summary>Diagnostics written per environment (Diag buffer: Envs x DiagSize).</summary>
    public const int DiagSize = 6;
    /// <summary>Diag columns: summed contact normal force of the last physics step (N).</summary>
    public const int DiagNormalForce = 0;
    /// <summary>Diag columns: contacts with a positive normal impulse in the last physics step.</summary>
    public const int DiagContacts = 1;
    /// <summary>Diag columns: deepest penetration of a geom into a plane (m, positive inside; max over slots) at the start of the last physics step.</summary>
    public const int DiagPenetration = 2;
    /// <summary>Diag columns: kinetic energy 0.5 v' M v at the start of the last physics step.</summary>
    public const int DiagKinetic = 3;
    /// <summary>Diag columns: PGS sweeps used in the last physics step.</summary>
    public const int DiagSweeps = 4;
    /// <summary>Diag columns: constraint rows in the last physics step.</summary>
    public const int DiagRows = 5;
}

/// <summary>The model buffers a kernel reads: floats, ints and the dims.</summary>
public struct SimModel<TF, TI>
    where TF : struct, IView<float>
    where TI : struct, IView<int>
{
    /// <summary>mf: model floats (layout in <see cref="SimDims"/>)</summary>
    public TF MF;
    /// <summary>mi: model ints (layout in <see cref="SimDims"/>)</summary>
    public TI MI;
    public SimDims D;
}

/// <summary>
/// The scratch layout each view type uses: log2 of the environments interleaved per block (see
/// <see cref="SimDims"/>): 0 for <see cref="CpuView{T}"/> (one contiguous block per environment), 5
/// for device views (a warp's 32 environments read element k from one 128-byte line). A static
/// readonly value of the view type, so the CPU JIT folds it (k &lt;&lt; 0 is k: no shift per scratch
/// access) and ILGPU reads it as a constant. SimDims.ScratchShift must equal it (the launchers check).
/// </summary>
public static class ScratchLanes<TF> where TF : struct, IView<float>
{
    public static readonly int Shift = typeof(TF) == typeof(CpuView<float>) ? 0 : 5;
}

/// <summary>One environment's slice of the scratch buffer: element k is at Base + (k &lt;&lt; Shift) (see <see cref="SimDims"/>, <see cref="ScratchLanes{TF}"/>).</summary>
public readonly struct Scratch<TF> where TF : struct, IView<float>
{
    private readonly TF _buf;
    private readonly int _base;

    public Scratch(TF buf, in SimDims d, int env)
    {
        _buf = buf;
        int shift = ScratchLanes<TF>.Shift;
        int lanes = 1 << shift;
        _base = (env >> shift) * (d.ScratchSize << shift) + (env & (lanes - 1));
    }

    public float this[int k]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _buf[_base + (k << ScratchLanes<TF>.Shift)];
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        set
        {
            TF b = _buf;
            b[_base + (k << ScratchLanes<TF>.Shift)] = value;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public V3 Get3(int k) => new(this[k], this[k + 1], this[k + 2]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Set3(int k, V3 v)
    {
        this[k] = v.X;
        this[k + 1] = v.Y;
        this[k + 2] = v.Z;
    }
}
