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
    /// <summary>Contact slots: one per (plane, sphere) pair, two per (plane, capsule) pair (its end spheres), as MuJoCo's plane collisions.</summary>
    public int NSlots;
    /// <summary>Limited hinge dofs (up to two limit rows each: one per side of the range within the margin).</summary>
    public int NLimits;
    /// <summary>Constraint rows that can be active at once: RowsPerSlot * NSlots + 2 * NLimits.</summary>
    public int MaxRows;
    /// <summary>Rows of one contact: condim 3 gives 4 with the pyramidal cone (two per friction direction), 3 with the elliptic; condim 1 gives 1.</summary>
    public int RowsPerSlot;

    // ---- physics and solver parameters ----
    public float Timestep;
    public float GravityX, GravityY, GravityZ;
    /// <summary>The friction cone: <see cref="ConePyramidal"/> or <see cref="ConeElliptic"/> (MuJoCo's &lt;option cone&gt;).</summary>
    public int Cone;
    public const int ConePyramidal = 0;
    public const int ConeElliptic = 1;
    /// <summary>Newton iterations of the constraint solver per physics step (upper bound; &lt;option iterations&gt;).</summary>
    public int Iterations;
    /// <summary>The solver stops when the scaled cost improvement or gradient falls below this (&lt;option tolerance&gt;).</summary>
    public float Tolerance;
    /// <summary>MuJoCo's scale of cost and gradient in the stopping test: 1 / (mean diagonal of M at qpos0 * max(1, Nv)).</summary>
    public float SolverScale;

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
    /// <summary>Per slot: its geom's body, condim (1 or 3).</summary>
    public int SlotBodyI, SlotCondimI;
    /// <summary>Per limit: its dof and qpos address.</summary>
    public int LimitDofI, LimitQposI;
    public int ActDofI, ActLimitedI;

    // ---- model floats (MF) ----
    public int BodyPosF, BodyQuatF, BodyMassF, BodyIposF, BodyInertiaF;
    public int JntPosF, JntAxisF;
    public int DofArmatureF, DofDampingF;
    public int Qpos0F;
    /// <summary>
    /// Per slot: the sphere centre in the body frame (3), the capsule's unit axis in the body frame (3; zero for a
    /// sphere: MuJoCo aligns a capsule contact's first tangent with it), radius, detection margin, the margin that
    /// acts (margin - gap), the plane's unit normal (3) and offset (normal . point on plane), the sliding friction.
    /// </summary>
    public int SlotPointF, SlotAxisF, SlotRadiusF, SlotMarginF, SlotIncludeF, SlotNormalF, SlotOffsetF, SlotMuF;
    /// <summary>
    /// Per slot, the soft-constraint parameters: solimp (5, clamped as MuJoCo), the stiffness K and damping B of
    /// aref = -B v - K imp (pos - margin), and MuJoCo's diagonal approximation of A for the slot's first row
    /// (body_invweight0's translation, times 1 + mu^2 for a pyramid edge).
    /// </summary>
    public int SlotSolimpF, SlotKF, SlotBF, SlotDiagF;
    /// <summary>Per limit: the range (lo, hi), margin, solimp (5), K, B and the diagonal approximation (dof_invweight0).</summary>
    public int LimitLoF, LimitHiF, LimitMarginF, LimitSolimpF, LimitKF, LimitBF, LimitDiagF;
    /// <summary>Per slot: with the pyramidal cone, R of the edges over R of the first edge's own (2 mu^2 / impratio); with the elliptic, the regularised cone's mu (mu / sqrt(impratio)).</summary>
    public int SlotConeF;
    /// <summary>The elliptic cone's R of the friction rows over R of the normal row (1 / impratio).</summary>
    public float FrictionRScale;
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
    /// <summary>Persistent state: qpos (Nq), qvel (Nv), the constraint solver's warm start (the last constrained step's qacc, Nv, then 1 when it is there, 0 after a reset).</summary>
    public int SQpos, SQvel, SQaccWarm;
    /// <summary>Per body: xpos (3), xquat (4), xmat (9, row-major), cinert (10), composite inertia (10), cvel (6), cacc (6), cfrc (6).</summary>
    public int SXpos, SXquat, SXmat, SCinert, SCcomp, SCvel, SCacc, SCfrc;
    /// <summary>Per dof: cdof (6: angular, linear at the tree's reference point).</summary>
    public int SCdof;
    /// <summary>Joint-space mass matrix M, nv x nv (lower triangle, tree-sparse), kept for the whole step.</summary>
    public int SM;
    /// <summary>A tree-sparse nv x nv work matrix (M, the Newton Hessian M + J' D J, M + h D) factorised in place as L'DL; its 1/D.</summary>
    public int SH, SHDinv;
    /// <summary>Per dof vectors: bias, smooth force (then plus J' force, then Euler's acceleration), qacc, gradient, search direction, M times the direction, M (qacc - qacc_smooth).</summary>
    public int SBias, STau, SQacc, SGrad, SDir, SMDir, SMRes;
    /// <summary>
    /// Constraint rows: J by chain position (MaxRows x Nv: element t is the entry of the t-th dof of the chain of
    /// the row's dof, root first; J is zero elsewhere), the row's dof (-1: none), aref, D = 1 / R, J qacc - aref,
    /// J times the search direction, kind (<see cref="RowOneSided"/>, <see cref="RowEllipticNormal"/>,
    /// <see cref="RowEllipticFriction"/>), friction (elliptic rows: the normal row holds the cone's mu, a friction
    /// row its coefficient), the contact slot (-1: a joint limit).
    /// </summary>
    public int SRowJ, SRowDof, SRowFirst, SRowAref, SRowD, SRowJar, SRowJp, SRowKind, SRowMu, SRowSlot;
    public const int RowOneSided = 0;
    public const int RowEllipticNormal = 1;
    public const int RowEllipticFriction = 2;
    /// <summary>Per contact slot: the signed distance of its sphere to the plane (m), and the contact's normal force (N; 0 out of contact).</summary>
    public int SSlotDist, SSlotForce;

    /// <summary>Diagnostics written per environment (Diag buffer: Envs x DiagSize).</summary>
    public const int DiagSize = 6;
    /// <summary>Diag columns: summed contact normal force of the last physics step (N; MuJoCo's constraint force along the normals).</summary>
    public const int DiagNormalForce = 0;
    /// <summary>Diag columns: contacts with a positive normal force in the last physics step.</summary>
    public const int DiagContacts = 1;
    /// <summary>Diag columns: deepest penetration of a geom into a plane (m, positive inside; max over slots and 0) at the start of the last physics step.</summary>
    public const int DiagPenetration = 2;
    /// <summary>Diag columns: kinetic energy 0.5 v' M v at the start of the last physics step.</summary>
    public const int DiagKinetic = 3;
    /// <summary>Diag columns: Newton iterations of the constraint solver in the last physics step.</summary>
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
