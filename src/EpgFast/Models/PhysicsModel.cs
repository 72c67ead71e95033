namespace EpgFast.Models;

/// <summary>Joint types of the supported subset.</summary>
public enum JointType
{
    /// <summary>6 dofs: world-frame translation of the body origin, then body-frame angular velocity; qpos = position (3) + quaternion (4).</summary>
    Free = 0,
    /// <summary>1 dof: rotation about an axis through an anchor, both fixed in the body.</summary>
    Hinge = 3,
}

/// <summary>Geom types of the supported subset.</summary>
public enum GeomType
{
    Plane = 0,
    Sphere = 2,
    Capsule = 3,
}

/// <summary>A body. Body 0 is the world. Frames are relative to the parent body (MuJoCo's local coordinates).</summary>
public sealed class BodyModel
{
    public required string Name { get; init; }
    public int Parent { get; init; }
    /// <summary>pos: (3), position in the parent's frame</summary>
    public double[] Pos { get; init; } = new double[3];
    /// <summary>quat: (4) w x y z, orientation in the parent's frame</summary>
    public double[] Quat { get; init; } = [1, 0, 0, 0];
    public double Mass { get; set; }
    /// <summary>ipos: (3), centre of mass in the body frame</summary>
    public double[] Ipos { get; set; } = new double[3];
    /// <summary>inertia: (6) xx yy zz xy xz yz about the centre of mass, in the body frame</summary>
    public double[] Inertia { get; set; } = new double[6];
    /// <summary>Joints of this body, in file order (indices into <see cref="PhysicsModel.Joints"/>).</summary>
    public List<int> Joints { get; } = [];
}

/// <summary>A joint (free or hinge).</summary>
public sealed class JointModel
{
    public required string Name { get; init; }
    public JointType Type { get; init; }
    public int Body { get; init; }
    /// <summary>pos: (3), anchor in the body frame</summary>
    public double[] Pos { get; init; } = new double[3];
    /// <summary>axis: (3), unit axis in the body frame (hinge)</summary>
    public double[] Axis { get; init; } = [0, 0, 1];
    public bool Limited { get; init; }
    /// <summary>range: (2) radians (hinge)</summary>
    public double[] Range { get; init; } = new double[2];
    public double Armature { get; init; }
    public double Damping { get; init; }
    /// <summary>Limit margin: the limit acts when the distance to it is below the margin.</summary>
    public double Margin { get; init; }
    /// <summary>solreflimit: (2) the limit's time constant and damping ratio (or, both negative, stiffness and damping)</summary>
    public double[] SolrefLimit { get; init; } = SolverDefaults.Solref;
    /// <summary>solimplimit: (5) the limit's impedance d0, dwidth, width, midpoint, power</summary>
    public double[] SolimpLimit { get; init; } = SolverDefaults.Solimp;
    /// <summary>qpos0 of a hinge (radians).</summary>
    public double Ref { get; init; }
    public int QposAdr { get; set; }
    public int DofAdr { get; set; }
    public int Nq => Type == JointType.Free ? 7 : 1;
    public int Nv => Type == JointType.Free ? 6 : 1;
}

/// <summary>A geom (collision shape that also carries mass when inertia comes from geoms).</summary>
public sealed class GeomModel
{
    public required string Name { get; init; }
    public GeomType Type { get; init; }
    public int Body { get; init; }
    /// <summary>size: (3), MuJoCo's meaning per type (sphere: radius; capsule: radius, half-length)</summary>
    public double[] Size { get; init; } = new double[3];
    /// <summary>pos: (3), in the body frame</summary>
    public double[] Pos { get; init; } = new double[3];
    /// <summary>quat: (4), in the body frame (a capsule's axis is its local z)</summary>
    public double[] Quat { get; init; } = [1, 0, 0, 0];
    /// <summary>friction: (3) sliding, torsional, rolling (only sliding acts with condim 3)</summary>
    public double[] Friction { get; init; } = [1, 0.005, 0.0001];
    public double Margin { get; init; }
    /// <summary>Contacts closer than Margin are detected; only those closer than Margin - Gap act.</summary>
    public double Gap { get; init; }
    /// <summary>solref: (2) contact time constant and damping ratio (or, both negative, stiffness and damping)</summary>
    public double[] Solref { get; init; } = SolverDefaults.Solref;
    /// <summary>solimp: (5) contact impedance d0, dwidth, width, midpoint, power</summary>
    public double[] Solimp { get; init; } = SolverDefaults.Solimp;
    /// <summary>Weight of this geom's solref/solimp when a pair mixes them.</summary>
    public double Solmix { get; init; } = 1;
    public int Condim { get; init; } = 3;
    public int Contype { get; init; } = 1;
    public int Conaffinity { get; init; } = 1;
    public double Mass { get; set; }
}

/// <summary>A motor actuator on a hinge joint: qfrc[dof] += gear * clamp(ctrl, ctrlrange).</summary>
public sealed class ActuatorModel
{
    public required string Name { get; init; }
    public int Joint { get; init; }
    public double Gear { get; init; } = 1;
    public bool CtrlLimited { get; init; }
    /// <summary>ctrlrange: (2)</summary>
    public double[] CtrlRange { get; init; } = new double[2];
}

/// <summary>
/// A plane-geom contact pair that passes MuJoCo's collision filter (contype/conaffinity, same-body and
/// parent-child exclusion), with MuJoCo's mixing of the two geoms' parameters: margin, gap, condim and each
/// friction coefficient the maximum of the two; solref and solimp mixed by solmix (solref the minimum of each
/// entry when either is in the direct, negative form).
/// </summary>
/// <param name="Plane">the plane geom</param>
/// <param name="Geom">the sphere or capsule geom</param>
/// <param name="Margin">contacts closer than this are detected</param>
/// <param name="Gap">contacts act when closer than Margin - Gap</param>
/// <param name="Friction">friction: (3) sliding, torsional, rolling</param>
/// <param name="Condim">1 (frictionless) or 3 (sliding friction)</param>
/// <param name="Solref">solref: (2)</param>
/// <param name="Solimp">solimp: (5)</param>
public sealed record ContactPair(int Plane, int Geom, double Margin, double Gap, double[] Friction, int Condim, double[] Solref, double[] Solimp);

/// <summary>The friction cone of contacts with condim 3 (MuJoCo's &lt;option cone&gt;).</summary>
public enum ConeType
{
    /// <summary>MuJoCo's default: each friction direction becomes two rows on the edges of a pyramid.</summary>
    Pyramidal,
    /// <summary>The circular cone |f_t| &lt;= mu f_n.</summary>
    Elliptic,
}

/// <summary>MuJoCo 2.2.2's default solver parameters (mj_defaultSolRefImp, mj_defaultOption).</summary>
public static class SolverDefaults
{
    /// <summary>solref: (2) time constant 0.02 s, damping ratio 1</summary>
    public static double[] Solref => [0.02, 1];
    /// <summary>solimp: (5) d0 0.9, dwidth 0.95, width 0.001, midpoint 0.5, power 2</summary>
    public static double[] Solimp => [0.9, 0.95, 0.001, 0.5, 2];
}

/// <summary>A compiled model of the supported MJCF subset (float64, host side).</summary>
public sealed class PhysicsModel
{
    public string Name { get; init; } = "";
    /// <summary>The file the model came from (for messages).</summary>
    public string Source { get; init; } = "";
    public double Timestep { get; init; } = 0.002;
    /// <summary>gravity: (3), already zero when gravity is disabled by a flag</summary>
    public double[] Gravity { get; init; } = [0, 0, -9.81];
    public bool ContactEnabled { get; init; } = true;
    public bool LimitEnabled { get; init; } = true;
    /// <summary>&lt;option cone&gt;</summary>
    public ConeType Cone { get; init; } = ConeType.Pyramidal;
    /// <summary>&lt;option impratio&gt;: ratio of frictional to normal constraint impedance</summary>
    public double Impratio { get; init; } = 1;
    /// <summary>&lt;option iterations&gt;: the constraint solver's iteration cap</summary>
    public int Iterations { get; init; } = 100;
    /// <summary>&lt;option tolerance&gt;: the constraint solver stops when the scaled cost improvement or gradient is below it</summary>
    public double Tolerance { get; init; } = 1e-8;
    public List<BodyModel> Bodies { get; } = [];
    public List<JointModel> Joints { get; } = [];
    public List<GeomModel> Geoms { get; } = [];
    public List<ActuatorModel> Actuators { get; } = [];
    /// <summary>Plane contacts the engine checks each step (empty when contacts are disabled).</summary>
    public List<ContactPair> ContactPairs { get; } = [];
    /// <summary>Visual-only elements and attributes the loader skipped on purpose (lights, cameras, colours, ...).</summary>
    public List<string> IgnoredVisual { get; } = [];
    public int Nq { get; set; }
    public int Nv { get; set; }
    public int Nu => Actuators.Count;
    /// <summary>qpos0: (Nq)</summary>
    public double[] Qpos0 { get; set; } = [];

    /// <summary>dofBody: (Nv) body each dof moves</summary>
    public int[] DofBody { get; set; } = [];
    /// <summary>dofJoint: (Nv)</summary>
    public int[] DofJoint { get; set; } = [];
    /// <summary>dofParent: (Nv) the previous dof on the path to the world (-1 at the root), as MuJoCo's dof_parentid</summary>
    public int[] DofParent { get; set; } = [];

    public double TotalMass => Bodies.Sum(b => b.Mass);

    public int BodyIndex(string name)
    {
        int i = Bodies.FindIndex(b => b.Name == name);
        if (i < 0) throw new ArgumentException($"no body named '{name}'");
        return i;
    }
}
