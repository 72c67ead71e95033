using System.Xml.Linq;
using EpgFast.Backends;

namespace EpgFast.Models;

/// <summary>
/// Collects bodies, joints and geoms while the MJCF is read, then compiles the model as MuJoCo's
/// compiler does for this subset: masses and inertias from geoms, qpos/dof addresses, qpos0, the
/// dof tree, and the plane contact pairs that pass the collision filter.
/// </summary>
internal sealed class PhysicsModelBuilder
{
    private readonly List<(GeomModel Geom, double Density, double Mass, XElement At)> _geoms = [];
    private readonly List<XElement> _bodyElements = [null!];
    private MjcfLoader? _loader;              // for errors with file and line (set by Compile)
    private List<XElement> _geomAt = [];       // each compiled geom's element, in m.Geoms order

    public PhysicsModelBuilder(string source)
    {
        Source = source;
        Model = new PhysicsModel { Source = source };
        Model.Bodies.Add(new BodyModel { Name = "world", Parent = -1 });
    }

    public string Source { get; }
    public PhysicsModel Model { get; private set; }
    public string Name { get; set; } = "";
    public double Timestep { get; set; } = 0.002;
    public double[] Gravity { get; set; } = [0, 0, -9.81];
    public bool ContactEnabled { get; set; } = true;
    public bool LimitEnabled { get; set; } = true;
    public bool GravityEnabled { get; set; } = true;
    public ConeType Cone { get; set; } = ConeType.Pyramidal;
    public double Impratio { get; set; } = 1;
    public int Iterations { get; set; } = 100;
    public double Tolerance { get; set; } = 1e-8;

    public int AddBody(XElement at, BodyModel body)
    {
        Model.Bodies.Add(body);
        _bodyElements.Add(at);
        return Model.Bodies.Count - 1;
    }

    public void AddJoint(XElement at, JointModel joint)
    {
        Model.Joints.Add(joint);
        Model.Bodies[joint.Body].Joints.Add(Model.Joints.Count - 1);
    }

    public void AddGeom(XElement at, GeomModel geom, double density, double mass) => _geoms.Add((geom, density, mass, at));

    public PhysicsModel Compile(MjcfLoader loader)
    {
        var m = new PhysicsModel
        {
            Name = Name,
            Source = Source,
            Timestep = Timestep,
            Gravity = GravityEnabled ? Gravity : [0, 0, 0],
            ContactEnabled = ContactEnabled,
            LimitEnabled = LimitEnabled,
            Cone = Cone,
            Impratio = Impratio,
            Iterations = Iterations,
            Tolerance = Tolerance,
        };
        foreach (var b in Model.Bodies) m.Bodies.Add(b);
        foreach (var j in Model.Joints) m.Joints.Add(j);
        foreach (var a in Model.Actuators) m.Actuators.Add(a);
        m.IgnoredVisual.AddRange(Model.IgnoredVisual.Distinct());
        // geoms in MuJoCo's order: by body (bodies are in pre-order), then file order
        var geomsInOrder = _geoms.OrderBy(g => g.Geom.Body).ToList();
        foreach (var g in geomsInOrder) m.Geoms.Add(g.Geom);
        Model = m;

        // joints: check free joints, assign addresses (joints are already in body pre-order)
        int nq = 0, nv = 0;
        var qpos0 = new List<double>();
        foreach (var j in m.Joints)
        {
            var body = m.Bodies[j.Body];
            if (j.Type == JointType.Free)
            {
                if (body.Parent != 0) throw new EpgException($"{Path.GetFileName(Source)}: free joint '{j.Name}' is on body '{body.Name}', which is not a child of the world");
                if (body.Joints.Count != 1) throw new EpgException($"{Path.GetFileName(Source)}: body '{body.Name}' has a free joint and other joints");
                qpos0.AddRange(body.Pos);
                qpos0.AddRange(body.Quat);
            }
            else
            {
                qpos0.Add(j.Ref);
            }
            j.QposAdr = nq;
            j.DofAdr = nv;
            nq += j.Nq;
            nv += j.Nv;
        }
        m.Nq = nq;
        m.Nv = nv;
        m.Qpos0 = qpos0.ToArray();

        // dof tree (MuJoCo's dof_parentid)
        m.DofBody = new int[nv];
        m.DofJoint = new int[nv];
        m.DofParent = new int[nv];
        var lastDof = new int[m.Bodies.Count];
        lastDof[0] = -1;
        for (int b = 1; b < m.Bodies.Count; b++)
        {
            int last = lastDof[m.Bodies[b].Parent];
            foreach (int ji in m.Bodies[b].Joints)
            {
                var j = m.Joints[ji];
                for (int k = 0; k < j.Nv; k++)
                {
                    int d = j.DofAdr + k;
                    m.DofBody[d] = b;
                    m.DofJoint[d] = ji;
                    m.DofParent[d] = last;
                    last = d;
                }
            }
            lastDof[b] = last;
        }

        // masses and inertias from geoms
        foreach (var (g, density, mass, at) in _geoms)
        {
            if (g.Type == GeomType.Plane) continue;
            double r = g.Size[0];
            double volume = g.Type == GeomType.Sphere
                ? 4.0 / 3.0 * Math.PI * r * r * r
                : Math.PI * r * r * 2 * g.Size[1] + 4.0 / 3.0 * Math.PI * r * r * r;
            double rho = double.IsNaN(mass) ? density : mass / volume;
            if (rho < 0) throw loader.Error(at, "<geom> density/mass must not be negative");
            g.Mass = rho * volume;
        }
        var geomsOfBody = m.Geoms.Where(g => g.Type != GeomType.Plane).ToLookup(g => g.Body); // one pass, not one per body
        for (int b = 1; b < m.Bodies.Count; b++)
        {
            var body = m.Bodies[b];
            var geoms = geomsOfBody[b].ToList();
            double total = geoms.Sum(g => g.Mass);
            var com = new double[3];
            foreach (var g in geoms)
                for (int k = 0; k < 3; k++) com[k] += g.Mass * g.Pos[k];
            if (total > 0)
                for (int k = 0; k < 3; k++) com[k] /= total;
            var inertia = new double[6];
            foreach (var g in geoms)
            {
                var local = GeomInertia(g);
                var rotated = Rotations.RotateInertia(g.Quat, local);
                double dx = g.Pos[0] - com[0], dy = g.Pos[1] - com[1], dz = g.Pos[2] - com[2];
                double d2 = dx * dx + dy * dy + dz * dz;
                double[] parallel = [g.Mass * (d2 - dx * dx), g.Mass * (d2 - dy * dy), g.Mass * (d2 - dz * dz), -g.Mass * dx * dy, -g.Mass * dx * dz, -g.Mass * dy * dz];
                for (int k = 0; k < 6; k++) inertia[k] += rotated[k] + parallel[k];
            }
            body.Mass = total;
            body.Ipos = com;
            body.Inertia = inertia;
        }
        // moving bodies need mass (MuJoCo: "mass and inertia of moving bodies must be larger than mjMINVAL")
        var weld = Weld(m);
        // subtree masses in one reverse pass (bodies are in pre-order: a parent comes before its children)
        var subtree = new double[m.Bodies.Count];
        for (int b = m.Bodies.Count - 1; b >= 1; b--)
        {
            subtree[b] += m.Bodies[b].Mass;
            subtree[m.Bodies[b].Parent] += subtree[b];
        }
        for (int b = 1; b < m.Bodies.Count; b++)
        {
            if (weld[b] == 0) continue;
            if (m.Bodies[b].Joints.Count > 0 && subtree[b] <= 1e-15)
                throw loader.Error(_bodyElements[b], $"body{(m.Bodies[b].Name is { Length: > 0 } bn ? $" '{bn}'" : " (unnamed)")} moves but has no mass (give it a geom with density or mass)");
        }

        _loader = loader;
        _geomAt = geomsInOrder.Select(g => g.At).ToList();
        if (m.ContactEnabled) BuildContactPairs(m, weld);
        return m;
    }

    private static double[] GeomInertia(GeomModel g)
    {
        double r = g.Size[0], m = g.Mass;
        if (g.Type == GeomType.Sphere)
        {
            double i = 0.4 * m * r * r;
            return [i, i, i, 0, 0, 0];
        }
        // capsule: cylinder of height h plus two hemispheres (MuJoCo 2.2.2's exact formula)
        double h = 2 * g.Size[1];
        double vc = Math.PI * r * r * h, vs = 4.0 / 3.0 * Math.PI * r * r * r;
        double mc = m * vc / (vc + vs), ms = m * vs / (vc + vs);
        double ixx = mc * (3 * r * r + h * h) / 12 + ms * (2 * r * r / 5 + h * h / 4 + 3 * h * r / 8);
        double izz = mc * r * r / 2 + ms * 2 * r * r / 5;
        return [ixx, ixx, izz, 0, 0, 0];
    }

    /// <summary>weld: (nbody) the nearest ancestor-or-self with joints (0 for bodies welded to the world), as MuJoCo's body_weldid.</summary>
    private static int[] Weld(PhysicsModel m)
    {
        var weld = new int[m.Bodies.Count];
        for (int b = 1; b < m.Bodies.Count; b++)
            weld[b] = m.Bodies[b].Joints.Count > 0 ? b : weld[m.Bodies[b].Parent];
        return weld;
    }

    /// <summary>
    /// The geom pairs (i &lt; j, in order) whose contype/conaffinity bits match: per bit, the geoms
    /// that set it, so the work is proportional to the pairs that pass the filter, not to all pairs.
    /// </summary>
    private static IEnumerable<(int I, int J)> CandidatePairs(PhysicsModel m)
    {
        int n = m.Geoms.Count;
        var withType = new List<int>[32];    // geoms whose contype has bit k (ascending)
        var withAffinity = new List<int>[32]; // geoms whose conaffinity has bit k (ascending)
        for (int k = 0; k < 32; k++)
        {
            withType[k] = [];
            withAffinity[k] = [];
        }
        for (int g = 0; g < n; g++)
            for (int k = 0; k < 32; k++)
            {
                if ((m.Geoms[g].Contype >> k & 1) != 0) withType[k].Add(g);
                if ((m.Geoms[g].Conaffinity >> k & 1) != 0) withAffinity[k].Add(g);
            }
        var partners = new SortedSet<int>();
        for (int i = 0; i < n; i++)
        {
            partners.Clear();
            for (int k = 0; k < 32; k++)
            {
                if ((m.Geoms[i].Contype >> k & 1) != 0) AddAbove(withAffinity[k], i, partners);
                if ((m.Geoms[i].Conaffinity >> k & 1) != 0) AddAbove(withType[k], i, partners);
            }
            foreach (int j in partners) yield return (i, j);
        }
    }

    private static void AddAbove(List<int> ascending, int i, SortedSet<int> into)
    {
        int start = ascending.BinarySearch(i + 1);
        for (int t = start < 0 ? ~start : start; t < ascending.Count; t++) into.Add(ascending[t]);
    }

    /// <summary>"geom 'name' (sphere)" or, for an unnamed one, "unnamed sphere geom at line N".</summary>
    private static string Describe(GeomModel g, XElement at)
    {
        string type = g.Type.ToString().ToLowerInvariant();
        if (g.Name.Length > 0) return $"geom '{g.Name}' ({type})";
        int line = at is System.Xml.IXmlLineInfo li && li.HasLineInfo() ? li.LineNumber : 0;
        return line > 0 ? $"unnamed {type} geom at line {line}" : $"an unnamed {type} geom";
    }

    /// <summary>
    /// The contact pairs in MuJoCo's order (i &lt; j). Only pairs whose contype/conaffinity bits match
    /// are visited (<see cref="CandidatePairs"/>), so geoms with contype 0 or conaffinity 0 cost nothing.
    /// </summary>
    private void BuildContactPairs(PhysicsModel m, int[] weld)
    {
        foreach (var (i, j) in CandidatePairs(m))
        {
            var a = m.Geoms[i];
            var b = m.Geoms[j];
            if ((a.Contype & b.Conaffinity) == 0 && (b.Contype & a.Conaffinity) == 0) continue;
            int w1 = weld[a.Body], w2 = weld[b.Body];
            if (w1 == w2) continue;
            int p1 = weld[m.Bodies[w1].Parent < 0 ? 0 : m.Bodies[w1].Parent];
            int p2 = weld[m.Bodies[w2].Parent < 0 ? 0 : m.Bodies[w2].Parent];
            if (w1 != 0 && w2 != 0 && (w1 == p2 || w2 == p1)) continue; // MuJoCo's parent-child filter
            bool aPlane = a.Type == GeomType.Plane, bPlane = b.Type == GeomType.Plane;
            if (aPlane == bPlane)
                throw _loader!.Error(_geomAt[j], $"{Describe(a, _geomAt[i])} and {Describe(b, _geomAt[j])} can collide (contype/conaffinity), but only plane-sphere and plane-capsule contacts are supported: set contype/conaffinity so they cannot");
            int plane = aPlane ? i : j, other = aPlane ? j : i;
            m.ContactPairs.Add(Mix(plane, other, a, b));
        }
    }

    /// <summary>MuJoCo's mixing of two geoms' contact parameters (mj_collideGeoms, same priority).</summary>
    private static ContactPair Mix(int plane, int other, GeomModel a, GeomModel b)
    {
        double mix = (a.Solmix >= 1e-15, b.Solmix >= 1e-15) switch
        {
            (true, true) => a.Solmix / (a.Solmix + b.Solmix),
            (false, false) => 0.5,
            (false, true) => 0.0,
            _ => 1.0,
        };
        var solref = new double[2];
        for (int k = 0; k < 2; k++)
            solref[k] = a.Solref[0] > 0 && b.Solref[0] > 0 ? mix * a.Solref[k] + (1 - mix) * b.Solref[k] : Math.Min(a.Solref[k], b.Solref[k]);
        var solimp = new double[5];
        for (int k = 0; k < 5; k++) solimp[k] = mix * a.Solimp[k] + (1 - mix) * b.Solimp[k];
        var friction = new double[3];
        for (int k = 0; k < 3; k++) friction[k] = Math.Max(1e-5, Math.Max(a.Friction[k], b.Friction[k])); // mjMINMU
        return new ContactPair(plane, other, Math.Max(a.Margin, b.Margin), Math.Max(a.Gap, b.Gap), friction, Math.Max(a.Condim, b.Condim), solref, solimp);
    }
}
