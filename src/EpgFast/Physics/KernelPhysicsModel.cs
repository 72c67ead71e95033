using EpgFast.Backends;
using EpgFast.Kernels.Physics;
using EpgFast.Models;

namespace EpgFast.Physics;

/// <summary>Parameters of the kernel simulator's constraint solver (see <see cref="Constraints"/>).</summary>
public sealed record KernelSolverOptions
{
    /// <summary>Projected Gauss-Seidel sweeps per physics step (upper bound).</summary>
    public int Iterations { get; init; } = 30;

    /// <summary>Early exit when no sweep changes a row velocity by more than this (m/s or rad/s).</summary>
    public double Tolerance { get; init; } = 1e-5;

    /// <summary>Fraction of a penetration past the margin (or a limit overrun) the position pass corrects per step.</summary>
    public double Baumgarte { get; init; } = 0.2;

    /// <summary>Largest correcting pseudo velocity of the position pass (m/s or rad/s).</summary>
    public double MaxCorrection { get; init; } = 1.0;

    /// <summary>Violations up to this depth (m or rad) are left to the next steps (no position pass).</summary>
    public double Slop { get; init; } = 1e-4;

    /// <summary>Gap (m or rad) below which a constraint joins the solver, plus two steps of approach.</summary>
    public double Lookahead { get; init; } = 0.005;
}

/// <summary>
/// A <see cref="PhysicsModel"/> packed for the kernels: one float array, one int array and the
/// <see cref="SimDims"/> that locate everything in them and in the per-environment scratch.
/// </summary>
public sealed class KernelPhysicsModel
{
    private KernelPhysicsModel(PhysicsModel model, SimDims dims, float[] floats, int[] ints)
    {
        Model = model;
        Dims = dims;
        Floats = floats;
        Ints = ints;
    }

    public PhysicsModel Model { get; }

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

    /// <param name="m">The compiled model.</param>
    /// <param name="options">Constraint solver parameters (defaults when null).</param>
    /// <param name="timestep">Override of the model's timestep.</param>
    /// <param name="disableContactAndLimits">Drop contacts and joint limits, as &lt;flag contact="disable" limit="disable"/&gt;.</param>
    public static KernelPhysicsModel Build(PhysicsModel m, KernelSolverOptions? options = null, double? timestep = null, bool disableContactAndLimits = false)
    {
        options ??= new KernelSolverOptions();
        var f = new List<float>();
        var i = new List<int>();
        int F(IEnumerable<double> values)
        {
            int at = f.Count;
            f.AddRange(values.Select(v => (float)v));
            return at;
        }
        int I(IEnumerable<int> values)
        {
            int at = i.Count;
            i.AddRange(values);
            return at;
        }
        int nb = m.Bodies.Count;
        var d = new SimDims
        {
            Nbody = nb,
            Nq = m.Nq,
            Nv = m.Nv,
            Nu = m.Nu,
            Njnt = m.Joints.Count,
            Timestep = (float)(timestep ?? m.Timestep),
            GravityX = (float)m.Gravity[0],
            GravityY = (float)m.Gravity[1],
            GravityZ = (float)m.Gravity[2],
            Iterations = options.Iterations,
            Tolerance = (float)options.Tolerance,
            Baumgarte = (float)options.Baumgarte,
            MaxCorrection = (float)options.MaxCorrection,
            Slop = (float)options.Slop,
            Lookahead = (float)options.Lookahead,
        };

        // bodies
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
        d.BodyParentI = I(m.Bodies.Select(b => Math.Max(b.Parent, 0)));
        d.BodyRootI = I(root);
        d.BodyJntStartI = I(jntStart);
        d.BodyJntCountI = I(m.Bodies.Select(b => b.Joints.Count));
        d.BodyLastDofI = I(lastDof);
        d.BodyDofStartI = I(dofStart);
        d.BodyDofCountI = I(dofCount);
        // level order: breadth first from the world, children in index order
        var order = new List<int> { 0 };
        for (int at = 0; at < order.Count; at++)
            for (int b = 1; b < nb; b++)
                if (m.Bodies[b].Parent == order[at]) order.Add(b);
        if (order.Count != nb) throw new EpgException("the model's body tree is not connected to the world");
        d.BodyOrderI = I(order);
        d.BodyPosF = F(m.Bodies.SelectMany(b => b.Pos));
        d.BodyQuatF = F(m.Bodies.SelectMany(b => b.Quat));
        d.BodyMassF = F(m.Bodies.Select(b => b.Mass));
        d.BodyIposF = F(m.Bodies.SelectMany(b => b.Ipos));
        d.BodyInertiaF = F(m.Bodies.SelectMany(b => b.Inertia));

        // joints and dofs
        d.JntTypeI = I(m.Joints.Select(j => j.Type == JointType.Free ? Kinematics.JointFree : Kinematics.JointHinge));
        d.JntQposI = I(m.Joints.Select(j => j.QposAdr));
        d.JntDofI = I(m.Joints.Select(j => j.DofAdr));
        d.JntPosF = F(m.Joints.SelectMany(j => j.Pos));
        d.JntAxisF = F(m.Joints.SelectMany(j => j.Axis));
        d.DofBodyI = I(m.DofBody);
        d.DofParentI = I(m.DofParent);
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
        d.DofCommonI = I(common);
        d.DofFreeI = I(Enumerable.Range(0, m.Nv).Select(k =>
        {
            var joint = m.Joints[m.DofJoint[k]];
            if (joint.Type != JointType.Free) return -1;
            int local = k - joint.DofAdr;
            return local < 3 ? local : 3;
        }));
        d.DofChainStartI = I(chainStart);
        d.DofChainCountI = I(chainCount);
        d.ChainDofI = I(chain);
        d.DofArmatureF = F(m.DofJoint.Select(j => m.Joints[j].Armature));
        d.DofDampingF = F(m.DofJoint.Select(j => m.Joints[j].Damping));
        d.Qpos0F = F(m.Qpos0);

        // contact slots: one per sphere, two per capsule (its end spheres)
        var slotBody = new List<int>();
        var slotCondim = new List<int>();
        var slotPoint = new List<double>();
        var slotRadius = new List<double>();
        var slotMargin = new List<double>();
        var slotMu = new List<double>();
        var slotNormal = new List<double>();
        var slotOffset = new List<double>();
        foreach (var pair in disableContactAndLimits ? [] : m.ContactPairs)
        {
            var plane = m.Geoms[pair.Plane];
            var g = m.Geoms[pair.Geom];
            var normal = Rotations.Rotate(plane.Quat, [0, 0, 1]);
            double offset = normal[0] * plane.Pos[0] + normal[1] * plane.Pos[1] + normal[2] * plane.Pos[2];
            var points = new List<double[]>();
            if (g.Type == GeomType.Sphere)
            {
                points.Add(g.Pos);
            }
            else
            {
                var axis = Rotations.Rotate(g.Quat, [0, 0, g.Size[1]]);
                points.Add([g.Pos[0] + axis[0], g.Pos[1] + axis[1], g.Pos[2] + axis[2]]);
                points.Add([g.Pos[0] - axis[0], g.Pos[1] - axis[1], g.Pos[2] - axis[2]]);
            }
            foreach (var p in points)
            {
                slotBody.Add(g.Body);
                slotCondim.Add(pair.Condim);
                slotPoint.AddRange(p);
                slotRadius.Add(g.Size[0]);
                slotMargin.Add(pair.Margin);
                slotMu.Add(pair.Friction);
                slotNormal.AddRange(normal);
                slotOffset.Add(offset);
            }
        }
        d.NSlots = slotBody.Count;
        d.SlotBodyI = I(slotBody);
        d.SlotCondimI = I(slotCondim);
        d.SlotPointF = F(slotPoint);
        d.SlotRadiusF = F(slotRadius);
        d.SlotMarginF = F(slotMargin);
        d.SlotMuF = F(slotMu);
        d.SlotNormalF = F(slotNormal);
        d.SlotOffsetF = F(slotOffset);

        // joint limits
        var limited = m.LimitEnabled && !disableContactAndLimits ? m.Joints.Where(j => j.Type == JointType.Hinge && j.Limited).ToList() : [];
        d.NLimits = limited.Count;
        d.LimitDofI = I(limited.Select(j => j.DofAdr));
        d.LimitQposI = I(limited.Select(j => j.QposAdr));
        d.LimitLoF = F(limited.Select(j => j.Range[0]));
        d.LimitHiF = F(limited.Select(j => j.Range[1]));
        d.LimitMarginF = F(limited.Select(j => j.Margin));

        // actuators
        d.ActDofI = I(m.Actuators.Select(a => m.Joints[a.Joint].DofAdr));
        d.ActLimitedI = I(m.Actuators.Select(a => a.CtrlLimited ? 1 : 0));
        d.ActGearF = F(m.Actuators.Select(a => a.Gear));
        d.ActLoF = F(m.Actuators.Select(a => a.CtrlRange[0]));
        d.ActHiF = F(m.Actuators.Select(a => a.CtrlRange[1]));
        d.MaxRows = 3 * d.NSlots + d.NLimits;

        // per-environment scratch
        int size = 0;
        int S(int n)
        {
            int at = size;
            size += n;
            return at;
        }
        int nv = m.Nv;
        d.SQpos = S(m.Nq);
        d.SQvel = S(nv);
        d.SLambda = S(d.MaxRows);
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
        d.SDinv = S(nv);
        d.SDinvSqrt = S(nv);
        d.SBias = S(nv);
        d.STau = S(nv);
        d.SVpseudo = S(nv);
        d.SRowY = S(d.MaxRows * nv);
        d.SRowB = S(d.MaxRows);
        d.SRowInvA = S(d.MaxRows);
        d.SRowSlot = S(d.MaxRows);
        d.SRowDof = S(d.MaxRows);
        d.SRowMu = S(d.MaxRows);
        d.SRowU = S(d.MaxRows);
        d.SRowPhi = S(d.MaxRows);
        d.SRowLp = S(d.MaxRows);
        d.SRowA = S(d.MaxRows * (d.MaxRows + 1) / 2);
        d.SSlotDist = S(d.NSlots);
        d.SSlotActive = S(d.NSlots);
        d.ScratchSize = Math.Max(1, size);

        // the kernels index with ints: keep at least one element in every array
        if (f.Count == 0) f.Add(0);
        if (i.Count == 0) i.Add(0);
        return new KernelPhysicsModel(m, d, f.ToArray(), i.ToArray());
    }
}
