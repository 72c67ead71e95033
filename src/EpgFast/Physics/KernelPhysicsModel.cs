using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Physics;
using EpgFast.Models;

namespace EpgFast.Physics;

/// <summary>Overrides of the model's constraint-solver options (&lt;option iterations, tolerance&gt;; see <see cref="Constraints"/>).</summary>
public sealed record KernelSolverOptions
{
    /// <summary>Newton iterations per physics step (upper bound); null: the model's.</summary>
    public int? Iterations { get; init; }

    /// <summary>Stop when the scaled cost improvement or gradient is below this; null: the model's.</summary>
    public double? Tolerance { get; init; }
}

/// <summary>
/// A <see cref="PhysicsModel"/> packed for the kernels: one float array, one int array and the
/// <see cref="SimDims"/> that locate everything in them and in the per-environment scratch.
/// </summary>
public sealed class KernelPhysicsModel
{
    private KernelPhysicsModel(PhysicsModel model, SimDims dims, float[] floats, int[] ints, int[] slotGeom)
    {
        SlotGeom = slotGeom;
        Model = model;
        Dims = dims;
        Floats = floats;
        Ints = ints;
    }

    public PhysicsModel Model { get; }

    /// <summary>slotGeom: (NSlots) the sphere or capsule geom of each contact slot (a capsule's + end first, then its - end).</summary>
    public int[] SlotGeom { get; }

    /// <summary>Sizes and offsets; Envs and the scratch strides are set by <see cref="ForBatch"/>.</summary>
    public SimDims Dims { get; }

    /// <summary>mf: model floats</summary>
    public float[] Floats { get; }

    /// <summary>mi: model ints</summary>
    public int[] Ints { get; }

    /// <summary>The dims for a batch: structure of arrays per warp of 32 environments (GPU) or one block per environment (CPU).</summary>
    public SimDims ForBatch(int envs, bool structureOfArrays)
    {
        var d = Dims;
        d.Envs = envs;
        d.ScratchShift = structureOfArrays ? 5 : 0;
        return d;
    }

    /// <summary>
    /// Packs a compiled model into the kernels' two arrays and their offsets (<see cref="SimDims"/>): the solver
    /// settings, then bodies, joints and dofs, contact slots, joint limits and actuators, the per-environment scratch
    /// layout, and last the constraint rows' diagonal approximation (from the inverse weights at qpos0).
    /// </summary>
    /// <param name="m">The compiled model.</param>
    /// <param name="options">Constraint solver parameters (defaults when null).</param>
    /// <param name="timestep">Override of the model's timestep.</param>
    /// <param name="disableContactAndLimits">Drop contacts and joint limits, as &lt;flag contact="disable" limit="disable"/&gt;.</param>
    public static KernelPhysicsModel Build(PhysicsModel m, KernelSolverOptions? options = null, double? timestep = null, bool disableContactAndLimits = false)
    {
        options ??= new KernelSolverOptions();
        var d = new SimDims
        {
            Nbody = m.Bodies.Count,
            Nq = m.Nq,
            Nv = m.Nv,
            Nu = m.Nu,
            Njnt = m.Joints.Count,
            Timestep = (float)(timestep ?? m.Timestep),
            GravityX = (float)m.Gravity[0],
            GravityY = (float)m.Gravity[1],
            GravityZ = (float)m.Gravity[2],
            Cone = m.Cone == ConeType.Elliptic ? SimDims.ConeElliptic : SimDims.ConePyramidal,
            Iterations = options.Iterations ?? m.Iterations,
            Tolerance = (float)(options.Tolerance ?? m.Tolerance),
            FrictionRScale = (float)(1 / m.Impratio),
        };
        if (d.Iterations < 1) throw new EpgException($"solver iterations must be at least 1 (got {d.Iterations})");
        var pack = new Packer();
        PackBodies(m, ref d, pack);
        PackDofs(m, ref d, pack);
        var slots = PackContactSlots(m, ref d, pack, disableContactAndLimits);
        var limited = PackLimits(m, ref d, pack, disableContactAndLimits);
        PackActuators(m, ref d, pack);
        d.MaxRows = d.RowsPerSlot * d.NSlots + 2 * d.NLimits;
        LayOutScratch(m, ref d);
        var (floats, ints) = pack.ToArrays();
        FillDiagonals(m, ref d, floats, ints, slots, limited);
        return new KernelPhysicsModel(m, d, floats, ints, slots.Select(x => x.Pair.Geom).ToArray());
    }

    /// <summary>The model arrays being packed: each call appends a tensor and returns its offset.</summary>
    private sealed class Packer
    {
        private readonly List<float> _f = [];
        private readonly List<int> _i = [];

        /// <summary>Appends float values (rounded from double); returns their offset in mf.</summary>
        public int F(IEnumerable<double> values)
        {
            int at = _f.Count;
            _f.AddRange(values.Select(v => (float)v));
            return at;
        }

        /// <summary>Appends int values; returns their offset in mi.</summary>
        public int I(IEnumerable<int> values)
        {
            int at = _i.Count;
            _i.AddRange(values);
            return at;
        }

        /// <summary>mf and mi; the kernels index with ints, so every array keeps at least one element.</summary>
        public (float[] Floats, int[] Ints) ToArrays()
        {
            if (_f.Count == 0) _f.Add(0);
            if (_i.Count == 0) _i.Add(0);
            return (_f.ToArray(), _i.ToArray());
        }
    }

    /// <summary>A contact slot: one sphere of a contact pair (a sphere geom, or an end of a capsule) against its plane.</summary>
    private sealed record Slot(ContactPair Pair, double[] Point, double[] Axis, double[] Normal, double Offset);

    /// <summary>The body tree: parents, roots, each body's joints and dofs, the level order, and the bodies' frames and inertia.</summary>
    private static void PackBodies(PhysicsModel m, ref SimDims d, Packer pack)
    {
        int nb = m.Bodies.Count;
        var root = new int[nb];
        var lastDof = new int[nb];
        var dofStart = new int[nb];
        var dofCount = new int[nb];
        var jntStart = new int[nb];
        lastDof[0] = -1;
        for (int b = 1; b < nb; b++)
        {
            var body = m.Bodies[b];
            root[b] = body.Parent == 0 ? b : root[body.Parent];
            dofStart[b] = body.Joints.Count > 0 ? m.Joints[body.Joints[0]].DofAdr : 0;
            dofCount[b] = body.Joints.Sum(j => m.Joints[j].Nv);
            jntStart[b] = body.Joints.Count > 0 ? body.Joints[0] : 0;
            lastDof[b] = dofCount[b] > 0 ? dofStart[b] + dofCount[b] - 1 : lastDof[body.Parent];
        }
        d.BodyParentI = pack.I(m.Bodies.Select(b => Math.Max(b.Parent, 0)));
        d.BodyRootI = pack.I(root);
        d.BodyJntStartI = pack.I(jntStart);
        d.BodyJntCountI = pack.I(m.Bodies.Select(b => b.Joints.Count));
        d.BodyLastDofI = pack.I(lastDof);
        d.BodyDofStartI = pack.I(dofStart);
        d.BodyDofCountI = pack.I(dofCount);
        // level order: breadth first from the world, children in index order
        var order = new List<int> { 0 };
        for (int at = 0; at < order.Count; at++)
            for (int b = 1; b < nb; b++)
                if (m.Bodies[b].Parent == order[at]) order.Add(b);
        if (order.Count != nb) throw new EpgException("the model's body tree is not connected to the world");
        d.BodyOrderI = pack.I(order);
        d.BodyPosF = pack.F(m.Bodies.SelectMany(b => b.Pos));
        d.BodyQuatF = pack.F(m.Bodies.SelectMany(b => b.Quat));
        d.BodyMassF = pack.F(m.Bodies.Select(b => b.Mass));
        d.BodyIposF = pack.F(m.Bodies.SelectMany(b => b.Ipos));
        d.BodyInertiaF = pack.F(m.Bodies.SelectMany(b => b.Inertia));
    }

    /// <summary>Joints and dofs: types and addresses, each dof's ancestor chain and the chains' common prefixes, armature, damping, qpos0.</summary>
    private static void PackDofs(PhysicsModel m, ref SimDims d, Packer pack)
    {
        d.JntTypeI = pack.I(m.Joints.Select(j => j.Type == JointType.Free ? Kinematics.JointFree : Kinematics.JointHinge));
        d.JntQposI = pack.I(m.Joints.Select(j => j.QposAdr));
        d.JntDofI = pack.I(m.Joints.Select(j => j.DofAdr));
        d.JntPosF = pack.F(m.Joints.SelectMany(j => j.Pos));
        d.JntAxisF = pack.F(m.Joints.SelectMany(j => j.Axis));
        d.DofBodyI = pack.I(m.DofBody);
        d.DofParentI = pack.I(m.DofParent);
        // each dof's chain: its ancestors and itself, root first (a path: chain[t]'s parent is chain[t - 1])
        var chainStart = new int[m.Nv];
        var chainCount = new int[m.Nv];
        var chain = new List<int>();
        for (int k = 0; k < m.Nv; k++)
        {
            var path = new List<int>();
            for (int j = k; j >= 0; j = m.DofParent[j]) path.Add(j);
            path.Reverse();
            chainStart[k] = chain.Count;
            chainCount[k] = path.Count;
            chain.AddRange(path);
        }
        // common[a * nv + b]: the length of the chains' common prefix (the shared ancestors, a or b included)
        var common = new int[m.Nv * m.Nv];
        for (int a = 0; a < m.Nv; a++)
            for (int b = 0; b < m.Nv; b++)
            {
                int n = 0;
                while (n < chainCount[a] && n < chainCount[b] && chain[chainStart[a] + n] == chain[chainStart[b] + n]) n++;
                common[a * m.Nv + b] = n;
            }
        d.DofCommonI = pack.I(common);
        d.DofFreeI = pack.I(Enumerable.Range(0, m.Nv).Select(k =>
        {
            var joint = m.Joints[m.DofJoint[k]];
            if (joint.Type != JointType.Free) return -1;
            int local = k - joint.DofAdr;
            return local < 3 ? local : 3;
        }));
        d.DofChainStartI = pack.I(chainStart);
        d.DofChainCountI = pack.I(chainCount);
        d.ChainDofI = pack.I(chain);
        d.DofArmatureF = pack.F(m.DofJoint.Select(j => m.Joints[j].Armature));
        d.DofDampingF = pack.F(m.DofJoint.Select(j => m.Joints[j].Damping));
        d.Qpos0F = pack.F(m.Qpos0);
    }

    /// <summary>
    /// Contact slots: one per sphere, two per capsule (its end spheres, the + end first, as MuJoCo's plane-capsule), with
    /// their geometry, margin and gap, friction, solimp, K and B, and the cone's friction term. Their diagonal
    /// approximation is left at zero for <see cref="FillDiagonals"/>.
    /// </summary>
    private static List<Slot> PackContactSlots(PhysicsModel m, ref SimDims d, Packer pack, bool disable)
    {
        double h = d.Timestep;
        var slots = new List<Slot>();
        foreach (var pair in disable ? [] : m.ContactPairs)
        {
            var plane = m.Geoms[pair.Plane];
            var g = m.Geoms[pair.Geom];
            var normal = Rotations.Rotate(plane.Quat, [0, 0, 1]);
            double offset = normal[0] * plane.Pos[0] + normal[1] * plane.Pos[1] + normal[2] * plane.Pos[2];
            if (g.Type == GeomType.Sphere)
            {
                slots.Add(new Slot(pair, g.Pos, new double[3], normal, offset));
                continue;
            }
            var axis = Rotations.Rotate(g.Quat, [0, 0, 1]);
            foreach (int sign in (int[])[1, -1])
                slots.Add(new Slot(pair, [g.Pos[0] + sign * g.Size[1] * axis[0], g.Pos[1] + sign * g.Size[1] * axis[1], g.Pos[2] + sign * g.Size[1] * axis[2]], axis, normal, offset));
        }
        int cone = d.Cone;
        d.NSlots = slots.Count;
        d.SlotBodyI = pack.I(slots.Select(x => m.Geoms[x.Pair.Geom].Body));
        d.SlotCondimI = pack.I(slots.Select(x => x.Pair.Condim));
        d.SlotPointF = pack.F(slots.SelectMany(x => x.Point));
        d.SlotAxisF = pack.F(slots.SelectMany(x => x.Axis));
        d.SlotRadiusF = pack.F(slots.Select(x => m.Geoms[x.Pair.Geom].Size[0]));
        d.SlotMarginF = pack.F(slots.Select(x => x.Pair.Margin));
        d.SlotIncludeF = pack.F(slots.Select(x => x.Pair.Margin - x.Pair.Gap));
        d.SlotNormalF = pack.F(slots.SelectMany(x => x.Normal));
        d.SlotOffsetF = pack.F(slots.Select(x => x.Offset));
        d.SlotMuF = pack.F(slots.Select(x => x.Pair.Friction[0]));
        d.SlotSolimpF = pack.F(slots.SelectMany(x => x.Pair.Solimp));
        d.SlotKF = pack.F(slots.Select(x => Stiffness(x.Pair.Solref, x.Pair.Solimp, h)));
        d.SlotBF = pack.F(slots.Select(x => Damping(x.Pair.Solref, x.Pair.Solimp, h)));
        d.SlotConeF = pack.F(slots.Select(x => cone == SimDims.ConePyramidal
            ? 2 * x.Pair.Friction[0] * x.Pair.Friction[0] / m.Impratio
            : x.Pair.Friction[0] / Math.Sqrt(m.Impratio)));
        d.SlotDiagF = pack.F(new double[slots.Count]); // body_invweight0: filled in by FillDiagonals, once M at qpos0 is known
        d.RowsPerSlot = slots.Count == 0 ? 0 : slots.Max(x => x.Pair.Condim == 1 ? 1 : cone == SimDims.ConePyramidal ? 4 : 3);
        return slots;
    }

    /// <summary>Limited hinges: range, margin, solimp, K and B (their diagonal approximation left for <see cref="FillDiagonals"/>).</summary>
    private static List<JointModel> PackLimits(PhysicsModel m, ref SimDims d, Packer pack, bool disable)
    {
        double h = d.Timestep;
        var limited = m.LimitEnabled && !disable ? m.Joints.Where(j => j.Type == JointType.Hinge && j.Limited).ToList() : [];
        d.NLimits = limited.Count;
        d.LimitDofI = pack.I(limited.Select(j => j.DofAdr));
        d.LimitQposI = pack.I(limited.Select(j => j.QposAdr));
        d.LimitLoF = pack.F(limited.Select(j => j.Range[0]));
        d.LimitHiF = pack.F(limited.Select(j => j.Range[1]));
        d.LimitMarginF = pack.F(limited.Select(j => j.Margin));
        d.LimitSolimpF = pack.F(limited.SelectMany(j => j.SolimpLimit));
        d.LimitKF = pack.F(limited.Select(j => Stiffness(j.SolrefLimit, j.SolimpLimit, h)));
        d.LimitBF = pack.F(limited.Select(j => Damping(j.SolrefLimit, j.SolimpLimit, h)));
        d.LimitDiagF = pack.F(new double[limited.Count]); // dof_invweight0: filled in by FillDiagonals
        return limited;
    }

    /// <summary>Motors: the dof each drives, gear and control range.</summary>
    private static void PackActuators(PhysicsModel m, ref SimDims d, Packer pack)
    {
        d.ActDofI = pack.I(m.Actuators.Select(a => m.Joints[a.Joint].DofAdr));
        d.ActLimitedI = pack.I(m.Actuators.Select(a => a.CtrlLimited ? 1 : 0));
        d.ActGearF = pack.F(m.Actuators.Select(a => a.Gear));
        d.ActLoF = pack.F(m.Actuators.Select(a => a.CtrlRange[0]));
        d.ActHiF = pack.F(m.Actuators.Select(a => a.CtrlRange[1]));
    }

    /// <summary>The per-environment scratch: the offset of every state and working array (sizes in the comments of <see cref="SimDims"/>).</summary>
    private static void LayOutScratch(PhysicsModel m, ref SimDims d)
    {
        int size = 0;
        int S(int n)
        {
            int at = size;
            size += n;
            return at;
        }
        int nv = m.Nv, nb = m.Bodies.Count;
        d.SQpos = S(m.Nq);
        d.SQvel = S(nv);
        d.SQaccWarm = S(nv + 1);
        d.SXpos = S(3 * nb);
        d.SXquat = S(4 * nb);
        d.SXmat = S(9 * nb);
        d.SCinert = S(10 * nb);
        d.SCcomp = S(10 * nb);
        d.SCvel = S(6 * nb);
        d.SCacc = S(6 * nb);
        d.SCfrc = S(6 * nb);
        d.SCdof = S(6 * nv);
        d.SM = S(nv * nv);
        d.SH = S(nv * nv);
        d.SHDinv = S(nv);
        d.SBias = S(nv);
        d.STau = S(nv);
        d.SQacc = S(nv);
        d.SGrad = S(nv);
        d.SDir = S(nv);
        d.SMDir = S(nv);
        d.SMRes = S(nv);
        d.SRowJ = S(d.MaxRows * nv);
        d.SRowDof = S(d.MaxRows);
        d.SRowFirst = S(d.MaxRows);
        d.SRowAref = S(d.MaxRows);
        d.SRowD = S(d.MaxRows);
        d.SRowJar = S(d.MaxRows);
        d.SRowJp = S(d.MaxRows);
        d.SRowKind = S(d.MaxRows);
        d.SRowMu = S(d.MaxRows);
        d.SRowSlot = S(d.MaxRows);
        d.SSlotDist = S(d.NSlots);
        d.SSlotForce = S(d.NSlots);
        d.ScratchSize = Math.Max(1, size);
    }

    /// <summary>
    /// The inverse weights at qpos0 (<see cref="InvWeights"/>, as mj_setConst), then each slot's and limit's diagonal
    /// approximation, MuJoCo's diagApprox: a slot's first row gets body_invweight0 (translation) of the geom's body (the
    /// plane is static: 0), times 1 + mu^2 for a pyramid edge; a limit gets its dof's dof_invweight0.
    /// </summary>
    private static void FillDiagonals(PhysicsModel m, ref SimDims d, float[] floats, int[] ints, List<Slot> slots, List<JointModel> limited)
    {
        var inv = InvWeights(m, d, floats, ints);
        d.SolverScale = (float)inv.Scale;
        for (int k = 0; k < slots.Count; k++)
        {
            double tran = inv.BodyTran[m.Geoms[slots[k].Pair.Geom].Body];
            double mu = slots[k].Pair.Friction[0];
            floats[d.SlotDiagF + k] = (float)(d.Cone == SimDims.ConePyramidal && slots[k].Pair.Condim == 3 ? tran + mu * mu * tran : tran);
        }
        for (int k = 0; k < limited.Count; k++) floats[d.LimitDiagF + k] = (float)inv.Dof[limited[k].DofAdr];
    }

    /// <summary>
    /// MuJoCo's aref stiffness K of a solref/solimp pair: standard form (time constant, damping ratio), with the time
    /// constant at least two timesteps (MuJoCo's refsafe): 1 / (dmax^2 timeconst^2 dampratio^2); direct form: -solref[0] / dmax^2.
    /// </summary>
    private static double Stiffness(double[] solref, double[] solimp, double timestep)
    {
        double dmax = solimp[1];
        if (solref[0] <= 0) return -solref[0] / Math.Max(1e-15, dmax * dmax);
        double tc = Math.Max(solref[0], 2 * timestep);
        return 1 / Math.Max(1e-15, dmax * dmax * tc * tc * solref[1] * solref[1]);
    }

    /// <summary>MuJoCo's aref damping B: standard form 2 / (dmax timeconst) (refsafe time constant); direct form -solref[1] / dmax.</summary>
    private static double Damping(double[] solref, double[] solimp, double timestep)
    {
        double dmax = solimp[1];
        if (solref[1] <= 0) return -solref[1] / Math.Max(1e-15, dmax);
        double tc = Math.Max(solref[0], 2 * timestep);
        return 2 / Math.Max(1e-15, dmax * tc);
    }

    /// <summary>
    /// MuJoCo's mj_setConst quantities at qpos0: body_invweight0 (translation part: a third of the trace of
    /// J M^-1 J' for the Jacobian of the body's centre of mass; the rotation part stands in when it is zero),
    /// dof_invweight0 (the diagonal of M^-1, averaged over a free joint's translations and over its rotations) and
    /// the solver's scale 1 / (mean diagonal of M * max(1, nv)). M, the frames and cdof come from the simulator's
    /// own kernels run once on the CPU.
    /// </summary>
    private static unsafe (double[] BodyTran, double[] Dof, double Scale) InvWeights(PhysicsModel m, SimDims d, float[] floats, int[] ints)
    {
        int nv = m.Nv, nb = m.Bodies.Count;
        var scratch = new float[d.ScratchSize];
        for (int k = 0; k < m.Nq; k++) scratch[d.SQpos + k] = (float)m.Qpos0[k];
        fixed (float* pf = floats, ps = scratch)
        fixed (int* pi = ints)
        {
            var sm = new SimModel<CpuView<float>, CpuView<int>> { MF = new CpuView<float>(pf, floats.Length), MI = new CpuView<int>(pi, ints.Length), D = d };
            var s = new Scratch<CpuView<float>>(new CpuView<float>(ps, scratch.Length), d, 0);
            Kinematics.Run(sm, s);
            RigidBodyDynamics.MassMatrix(sm, s);
        }
        var full = new double[nv, nv];
        for (int i = 0; i < nv; i++)
        {
            full[i, i] = scratch[d.SM + i * nv + i];
            for (int j = m.DofParent[i]; j >= 0; j = m.DofParent[j])
            {
                full[i, j] = scratch[d.SM + i * nv + j];
                full[j, i] = full[i, j];
            }
        }
        var minv = Invert(full);
        double trace = 0;
        for (int i = 0; i < nv; i++) trace += full[i, i];
        double scale = nv > 0 ? 1 / (trace / nv * Math.Max(1, nv)) : 1;

        var dof = new double[nv];
        foreach (var j in m.Joints)
        {
            if (j.Type == JointType.Free)
            {
                for (int part = 0; part < 2; part++)
                {
                    int a = j.DofAdr + 3 * part;
                    double mean = (minv[a, a] + minv[a + 1, a + 1] + minv[a + 2, a + 2]) / 3;
                    for (int k = 0; k < 3; k++) dof[a + k] = mean;
                }
            }
            else
            {
                dof[j.DofAdr] = minv[j.DofAdr, j.DofAdr];
            }
        }

        var tran = new double[nb];
        for (int b = 1; b < nb; b++)
        {
            // the body's dofs and their ancestors: the chain of its deepest dof
            int deep = -1;
            for (int c = b; c > 0 && deep < 0; c = m.Bodies[c].Parent)
                for (int k = nv - 1; k >= 0 && deep < 0; k--)
                    if (m.DofBody[k] == c) deep = k;
            if (deep < 0) continue; // welded to the world
            var body = m.Bodies[b];
            double[] xpos = [scratch[d.SXpos + 3 * b], scratch[d.SXpos + 3 * b + 1], scratch[d.SXpos + 3 * b + 2]];
            var xmat = new double[9];
            for (int k = 0; k < 9; k++) xmat[k] = scratch[d.SXmat + 9 * b + k];
            int root = b;
            while (m.Bodies[root].Parent > 0) root = m.Bodies[root].Parent;
            var com = new double[3];
            for (int r = 0; r < 3; r++)
                com[r] = xpos[r] + xmat[3 * r] * body.Ipos[0] + xmat[3 * r + 1] * body.Ipos[1] + xmat[3 * r + 2] * body.Ipos[2]
                    - scratch[d.SXpos + 3 * root + r];
            var jp = new double[3, nv];
            var jr = new double[3, nv];
            for (int k = deep; k >= 0; k = m.DofParent[k])
            {
                double[] w = [scratch[d.SCdof + 6 * k], scratch[d.SCdof + 6 * k + 1], scratch[d.SCdof + 6 * k + 2]];
                double[] v = [scratch[d.SCdof + 6 * k + 3], scratch[d.SCdof + 6 * k + 4], scratch[d.SCdof + 6 * k + 5]];
                // velocity of the com point: v + w x com (com relative to the tree's reference point)
                jp[0, k] = v[0] + w[1] * com[2] - w[2] * com[1];
                jp[1, k] = v[1] + w[2] * com[0] - w[0] * com[2];
                jp[2, k] = v[2] + w[0] * com[1] - w[1] * com[0];
                for (int r = 0; r < 3; r++) jr[r, k] = w[r];
            }
            double t = 0, rot = 0;
            for (int r = 0; r < 3; r++)
                for (int a = 0; a < nv; a++)
                    for (int c = 0; c < nv; c++)
                    {
                        t += jp[r, a] * minv[a, c] * jp[r, c];
                        rot += jr[r, a] * minv[a, c] * jr[r, c];
                    }
            t /= 3;
            rot /= 3;
            tran[b] = t < 1e-15 && rot > 1e-15 ? rot : t;
        }
        return (tran, dof, scale);
    }

    /// <summary>The inverse of a symmetric positive definite matrix (Gauss-Jordan with partial pivoting, float64).</summary>
    private static double[,] Invert(double[,] a)
    {
        int n = a.GetLength(0);
        var w = (double[,])a.Clone();
        var inv = new double[n, n];
        for (int i = 0; i < n; i++) inv[i, i] = 1;
        for (int c = 0; c < n; c++)
        {
            int p = c;
            for (int r = c + 1; r < n; r++)
                if (Math.Abs(w[r, c]) > Math.Abs(w[p, c])) p = r;
            if (Math.Abs(w[p, c]) < 1e-300) throw new EpgException("the mass matrix at qpos0 is singular");
            for (int k = 0; k < n; k++)
            {
                (w[c, k], w[p, k]) = (w[p, k], w[c, k]);
                (inv[c, k], inv[p, k]) = (inv[p, k], inv[c, k]);
            }
            double piv = 1 / w[c, c];
            for (int k = 0; k < n; k++)
            {
                w[c, k] *= piv;
                inv[c, k] *= piv;
            }
            for (int r = 0; r < n; r++)
            {
                if (r == c || w[r, c] == 0) continue;
                double f = w[r, c];
                for (int k = 0; k < n; k++)
                {
                    w[r, k] -= f * w[c, k];
                    inv[r, k] -= f * inv[c, k];
                }
            }
        }
        return inv;
    }
}
