using System.Globalization;
using System.Xml;
using System.Xml.Linq;
using EpgFast.Backends;

namespace EpgFast.Models;

/// <summary>
/// Loads the MJCF subset the kernel simulator supports into a <see cref="PhysicsModel"/>:
/// compiler (angle, coordinate="local", inertiafromgeom, eulerseq, autolimits), option (timestep,
/// gravity, integrator="Euler", flag contact/limit/gravity), default classes (joint, geom, motor),
/// worldbody/body, joint (free, hinge), freejoint, geom (plane, sphere, capsule) and actuator/motor.
/// Purely visual items (light, camera, asset, visual, rgba, material, ...) are skipped and listed in
/// <see cref="PhysicsModel.IgnoredVisual"/>. Anything else is an <see cref="EpgException"/> naming the
/// file, line, element and attribute.
/// </summary>
public sealed class MjcfLoader
{
    // Attributes each element accepts (physics), per element kind; "class"/"name" handled separately.
    private static readonly Dictionary<string, HashSet<string>> Supported = new()
    {
        ["compiler"] = ["angle", "coordinate", "inertiafromgeom", "eulerseq", "autolimits"],
        ["option"] = ["timestep", "gravity", "integrator", "cone", "impratio", "iterations", "tolerance", "solver"],
        ["flag"] = ["contact", "limit", "gravity"],
        ["body"] = ["pos", "quat", "euler", "axisangle", "zaxis", "xyaxes", "childclass"],
        ["joint"] = ["type", "pos", "axis", "range", "limited", "armature", "damping", "margin", "ref", "stiffness", "frictionloss", "solreflimit", "solimplimit"],
        ["freejoint"] = [],
        ["geom"] = ["type", "size", "pos", "quat", "euler", "axisangle", "zaxis", "xyaxes", "fromto", "density", "mass", "friction", "margin", "gap", "condim", "contype", "conaffinity", "solref", "solimp", "solmix"],
        ["motor"] = ["joint", "gear", "ctrlrange", "ctrllimited", "forcelimited"],
    };

    // Visual-only attributes skipped on any element.
    private static readonly HashSet<string> VisualAttributes = ["rgba", "material", "group", "user", "texture"];

    // Visual-only elements skipped wherever they appear.
    private static readonly HashSet<string> VisualElements = ["light", "camera", "site", "asset", "visual", "statistic", "custom"];

    private readonly string _file;
    private readonly PhysicsModel _model;
    private readonly Dictionary<string, DefaultClass> _classes = new();
    private readonly Dictionary<(string Kind, string Name), int> _names = new() { [("body", "world")] = 0 };
    private bool _degrees = true;
    private string _eulerSeq = "xyz";
    private bool _autoLimits;

    private sealed class DefaultClass(string name, DefaultClass? parent)
    {
        public string Name { get; } = name;
        public DefaultClass? Parent { get; } = parent;
        public Dictionary<string, XElement> Elements { get; } = new();
    }

    private MjcfLoader(string file, PhysicsModel model)
    {
        _file = file;
        _model = model;
    }

    /// <summary>Loads and compiles an MJCF file.</summary>
    public static PhysicsModel Load(string path)
    {
        if (!File.Exists(path)) throw new EpgException($"model file '{path}' not found");
        return LoadXml(File.ReadAllText(path), path);
    }

    /// <summary>Loads and compiles MJCF text (<paramref name="name"/> is used in messages).</summary>
    public static PhysicsModel LoadXml(string xml, string name = "model.xml")
    {
        XDocument doc;
        try
        {
            doc = XDocument.Parse(BlankComments(xml), LoadOptions.SetLineInfo);
        }
        catch (XmlException e)
        {
            throw new EpgException($"{Path.GetFileName(name)}: not well-formed XML: {e.Message}");
        }
        return Parse(doc, name);
    }

    /// <summary>
    /// Replaces comments by spaces (newlines kept, so line numbers stay right). MuJoCo's XML parser
    /// accepts "--" inside comments, which strict XML forbids; the same files must load here.
    /// </summary>
    private static string BlankComments(string xml)
    {
        var sb = new System.Text.StringBuilder(xml.Length);
        int i = 0;
        while (i < xml.Length)
        {
            int start = xml.IndexOf("<!--", i, StringComparison.Ordinal);
            if (start < 0)
            {
                sb.Append(xml, i, xml.Length - i);
                break;
            }
            int end = xml.IndexOf("-->", start + 4, StringComparison.Ordinal);
            if (end < 0) throw new XmlException("unterminated comment");
            sb.Append(xml, i, start - i);
            for (int k = start; k < end + 3; k++) sb.Append(xml[k] == '\n' ? '\n' : ' ');
            i = end + 3;
        }
        return sb.ToString();
    }

    private static PhysicsModel Parse(XDocument doc, string path)
    {
        var root = doc.Root!;
        var model = new PhysicsModelBuilder(path);
        var loader = new MjcfLoader(Path.GetFileName(path), model.Model);
        if (root.Name.LocalName != "mujoco")
            throw loader.Error(root, $"the root element is <{root.Name.LocalName}>, expected <mujoco>");
        loader.ParseRoot(root, model);
        return model.Compile(loader);
    }

    internal EpgException Error(XObject at, string message)
    {
        int line = at is IXmlLineInfo li && li.HasLineInfo() ? li.LineNumber : 0;
        string where = line > 0 ? $"{_file}:{line}" : _file;
        return new EpgException($"{where}: {message}");
    }

    /// <summary>Refuses a name used twice for one kind of element (body, joint, geom, actuator), as MuJoCo's compiler does.</summary>
    private void Named(XElement e, string kind)
    {
        if (Str(e, "name") is not { Length: > 0 } name) return;
        int line = e is IXmlLineInfo li && li.HasLineInfo() ? li.LineNumber : 0;
        if (_names.TryGetValue((kind, name), out int first))
            throw Error(e, $"repeated name '{name}' in {kind} ({(first > 0 ? $"first on line {first}" : "reserved")}); MuJoCo refuses repeated names");
        _names[(kind, name)] = line;
    }

    private EpgException Outside(XElement e, string attribute) =>
        Error(e, $"<{e.Name.LocalName}> attribute '{attribute}' is outside the supported MJCF subset (supported: {string.Join(", ", Supported[e.Name.LocalName].Order())})");

    private void ParseRoot(XElement root, PhysicsModelBuilder b)
    {
        foreach (var a in root.Attributes())
            if (a.Name.LocalName != "model") throw Error(root, $"<mujoco> attribute '{a.Name.LocalName}' is outside the supported MJCF subset");
        b.Name = (string?)root.Attribute("model") ?? "";
        // compiler first: it changes how angles are read everywhere else
        foreach (var c in root.Elements("compiler")) ParseCompiler(c, b);
        _classes["main"] = new DefaultClass("main", null);
        foreach (var e in root.Elements())
        {
            string n = e.Name.LocalName;
            switch (n)
            {
                case "compiler":
                    break;
                case "option":
                    ParseOption(e, b);
                    break;
                case "default":
                    ParseDefault(e, _classes["main"], top: true);
                    break;
                case "worldbody":
                    break;
                case "actuator":
                    break;
                default:
                    if (VisualElements.Contains(n))
                    {
                        b.Model.IgnoredVisual.Add($"<{n}>");
                        break;
                    }
                    throw Error(e, $"element <{n}> is outside the supported MJCF subset (supported: compiler, option, default, worldbody, actuator)");
            }
        }
        foreach (var w in root.Elements("worldbody")) ParseBodyContents(w, 0, "main", b);
        foreach (var act in root.Elements("actuator")) ParseActuators(act, b);
    }

    private void CheckAttributes(XElement e, string kind, params string[] extra)
    {
        var ok = Supported[kind];
        foreach (var a in e.Attributes())
        {
            string n = a.Name.LocalName;
            if (ok.Contains(n) || extra.Contains(n)) continue;
            if (VisualAttributes.Contains(n))
            {
                _model.IgnoredVisual.Add($"{kind}@{n}");
                continue;
            }
            throw Outside(e, n);
        }
    }

    private void ParseCompiler(XElement e, PhysicsModelBuilder b)
    {
        CheckAttributes(e, "compiler");
        foreach (var child in e.Elements()) throw Error(child, $"<compiler> has no child elements in the supported subset (found <{child.Name.LocalName}>)");
        string angle = Str(e, "angle") ?? "degree";
        _degrees = angle switch
        {
            "degree" => true,
            "radian" => false,
            _ => throw Error(e, $"<compiler> attribute 'angle' must be degree or radian, not '{angle}'"),
        };
        string coord = Str(e, "coordinate") ?? "local";
        if (coord != "local") throw Error(e, $"<compiler> attribute 'coordinate' must be local (global coordinates are outside the subset), not '{coord}'");
        string ifg = Str(e, "inertiafromgeom") ?? "auto";
        if (ifg is not ("true" or "auto"))
            throw Error(e, $"<compiler> attribute 'inertiafromgeom' must be true or auto (<inertial> is outside the subset), not '{ifg}'");
        _eulerSeq = Str(e, "eulerseq") ?? "xyz";
        if (_eulerSeq.Length != 3 || _eulerSeq.Any(c => "xyzXYZ".IndexOf(c) < 0))
            throw Error(e, $"<compiler> attribute 'eulerseq' must be three of x, y, z, X, Y, Z, not '{_eulerSeq}'");
        _autoLimits = Bool(e, "autolimits") ?? false;
    }

    private void ParseOption(XElement e, PhysicsModelBuilder b)
    {
        CheckAttributes(e, "option");
        if (Str(e, "timestep") is not null) b.Timestep = Num(e, "timestep");
        if (Str(e, "gravity") is not null) b.Gravity = Vec(e, "gravity", 3);
        string integ = Str(e, "integrator") ?? "Euler";
        if (integ != "Euler")
            throw Error(e, $"<option> attribute 'integrator' is '{integ}': the kernel simulator integrates with Euler (semi-implicit, implicit joint damping) only");
        if (b.Timestep <= 0) throw Error(e, "<option> attribute 'timestep' must be positive");
        string cone = Str(e, "cone") ?? "pyramidal";
        b.Cone = cone switch
        {
            "pyramidal" => ConeType.Pyramidal,
            "elliptic" => ConeType.Elliptic,
            _ => throw Error(e, $"<option> attribute 'cone' must be pyramidal or elliptic, not '{cone}'"),
        };
        // the constrained problem is strictly convex: every solver that converges finds MuJoCo's forces, and the
        // kernel simulator always solves it with Newton's method
        string solver = Str(e, "solver") ?? "Newton";
        if (solver is not ("Newton" or "CG" or "PGS"))
            throw Error(e, $"<option> attribute 'solver' must be Newton, CG or PGS, not '{solver}'");
        if (Str(e, "impratio") is not null) b.Impratio = Num(e, "impratio");
        if (!(b.Impratio > 0)) throw Error(e, "<option> attribute 'impratio' must be positive");
        if (Str(e, "iterations") is not null)
        {
            double it = Num(e, "iterations");
            if (it < 1 || it > 100000 || it != Math.Floor(it)) throw Error(e, "<option> attribute 'iterations' must be an integer from 1 to 100000");
            b.Iterations = (int)it;
        }
        if (Str(e, "tolerance") is not null) b.Tolerance = Num(e, "tolerance");
        if (b.Tolerance < 0) throw Error(e, "<option> attribute 'tolerance' must not be negative");
        foreach (var f in e.Elements())
        {
            if (f.Name.LocalName != "flag") throw Error(f, $"<option> child <{f.Name.LocalName}> is outside the supported MJCF subset (supported: flag)");
            CheckAttributes(f, "flag");
            bool Enabled(string name)
            {
                string v = Str(f, name) ?? "enable";
                return v switch
                {
                    "enable" => true,
                    "disable" => false,
                    _ => throw Error(f, $"<flag> attribute '{name}' must be enable or disable, not '{v}'"),
                };
            }
            b.ContactEnabled = Enabled("contact");
            b.LimitEnabled = Enabled("limit");
            b.GravityEnabled = Enabled("gravity");
        }
    }

    private void ParseDefault(XElement e, DefaultClass parent, bool top)
    {
        foreach (var a in e.Attributes())
            if (a.Name.LocalName != "class") throw Error(e, $"<default> attribute '{a.Name.LocalName}' is outside the supported MJCF subset (supported: class)");
        string? name = Str(e, "class");
        DefaultClass cls;
        if (top && (name is null || name == "main"))
        {
            cls = parent;
        }
        else
        {
            if (name is null) throw Error(e, "a nested <default> needs a 'class' attribute");
            if (_classes.ContainsKey(name)) throw Error(e, $"default class '{name}' is defined twice");
            cls = new DefaultClass(name, parent);
            _classes[name] = cls;
        }
        foreach (var c in e.Elements())
        {
            string n = c.Name.LocalName;
            if (n == "default")
            {
                ParseDefault(c, cls, top: false);
                continue;
            }
            if (VisualElements.Contains(n))
            {
                _model.IgnoredVisual.Add($"default <{n}>");
                continue;
            }
            if (n is not ("joint" or "geom" or "motor"))
                throw Error(c, $"<default> child <{n}> is outside the supported MJCF subset (supported: joint, geom, motor, default)");
            foreach (var a in c.Attributes())
            {
                string an = a.Name.LocalName;
                if (an == "name" || an == "class") throw Error(c, $"<{n}> inside <default> cannot have '{an}'");
            }
            CheckAttributes(c, n);
            if (cls.Elements.ContainsKey(n)) throw Error(c, $"<default> class '{cls.Name}' has two <{n}> elements");
            cls.Elements[n] = c;
        }
    }

    /// <summary>An attribute of an element, falling back through its default class chain.</summary>
    private (string? Value, XElement Where) Attr(XElement e, string kind, string cls, string name)
    {
        var a = e.Attribute(name);
        if (a is not null) return (a.Value, e);
        for (var c = _classes[cls]; c is not null; c = c.Parent)
            if (c.Elements.TryGetValue(kind, out var d) && d.Attribute(name) is { } da)
                return (da.Value, d);
        return (null, e);
    }

    private string ClassOf(XElement e, string inherited)
    {
        string? c = Str(e, "class");
        if (c is null) return inherited;
        if (!_classes.ContainsKey(c)) throw Error(e, $"<{e.Name.LocalName}> class '{c}' is not defined in <default>");
        return c;
    }

    private void ParseBodyContents(XElement body, int bodyIndex, string childClass, PhysicsModelBuilder b)
    {
        // joints and geoms first, child bodies after: MuJoCo numbers joints and geoms by body
        foreach (var c in body.Elements())
        {
            string n = c.Name.LocalName;
            switch (n)
            {
                case "body":
                    break;
                case "joint":
                    if (bodyIndex == 0) throw Error(c, "a <joint> cannot be in <worldbody>");
                    ParseJoint(c, bodyIndex, ClassOf(c, childClass), b);
                    break;
                case "freejoint":
                    if (bodyIndex == 0) throw Error(c, "a <freejoint> cannot be in <worldbody>");
                    CheckAttributes(c, "freejoint", "name");
                    Named(c, "joint");
                    b.AddJoint(c, new JointModel { Name = Str(c, "name") ?? "", Type = JointType.Free, Body = bodyIndex });
                    break;
                case "geom":
                    ParseGeom(c, bodyIndex, ClassOf(c, childClass), b);
                    break;
                default:
                    if (VisualElements.Contains(n))
                    {
                        _model.IgnoredVisual.Add($"<{n}>");
                        break;
                    }
                    throw Error(c, $"<{body.Name.LocalName}> child <{n}> is outside the supported MJCF subset (supported: body, joint, freejoint, geom)");
            }
        }
        foreach (var c in body.Elements("body"))
            ParseBody(c, bodyIndex, childClass, b);
    }

    private void ParseBody(XElement e, int parent, string inheritedClass, PhysicsModelBuilder b)
    {
        CheckAttributes(e, "body", "name");
        Named(e, "body");
        string childClass = inheritedClass;
        if (Str(e, "childclass") is { } cc)
        {
            if (!_classes.ContainsKey(cc)) throw Error(e, $"<body> childclass '{cc}' is not defined in <default>");
            childClass = cc;
        }
        var pos = Str(e, "pos") is null ? new double[3] : Vec(e, "pos", 3);
        var quat = Orientation(e, null, "body");
        int index = b.AddBody(e, new BodyModel { Name = Str(e, "name") ?? "", Parent = parent, Pos = pos, Quat = quat });
        ParseBodyContents(e, index, childClass, b);
    }

    private double[] Orientation(XElement e, string? cls, string kind)
    {
        string[] keys = ["quat", "euler", "axisangle", "zaxis", "xyaxes"];
        var given = new List<(string Key, string Value, XElement Where)>();
        foreach (var k in keys)
        {
            var (v, where) = cls is null ? (Str(e, k), e) : Attr(e, kind, cls, k);
            if (v is not null) given.Add((k, v, where));
        }
        // an explicit orientation on the element wins over one from its default class
        var own = given.Where(g => g.Where == e).ToList();
        if (own.Count > 1) throw Error(e, $"<{kind}> has more than one orientation ({string.Join(", ", own.Select(g => g.Key))})");
        var pick = own.Count == 1 ? own[0] : given.Count > 0 ? given[0] : default;
        if (pick.Key is null) return [1, 0, 0, 0];
        var v2 = ParseNumbers(pick.Where, pick.Key, pick.Value);
        double Angle(double x) => _degrees ? x * Math.PI / 180 : x;
        switch (pick.Key)
        {
            case "quat":
                Need(pick.Where, pick.Key, v2, 4);
                return Rotations.Normalize(v2);
            case "euler":
                Need(pick.Where, pick.Key, v2, 3);
                return Rotations.FromEuler([Angle(v2[0]), Angle(v2[1]), Angle(v2[2])], _eulerSeq);
            case "axisangle":
                Need(pick.Where, pick.Key, v2, 4);
                return Rotations.AxisAngle([v2[0], v2[1], v2[2]], Angle(v2[3]));
            case "zaxis":
                Need(pick.Where, pick.Key, v2, 3);
                return Rotations.FromZAxis(v2);
            default:
                Need(pick.Where, pick.Key, v2, 6);
                return Rotations.FromXYAxes([v2[0], v2[1], v2[2]], [v2[3], v2[4], v2[5]]);
        }
    }

    private void Need(XElement e, string name, double[] v, int n)
    {
        if (v.Length != n) throw Error(e, $"<{e.Name.LocalName}> attribute '{name}' needs {n} numbers, got {v.Length}");
    }

    private void ParseJoint(XElement e, int body, string cls, PhysicsModelBuilder b)
    {
        CheckAttributes(e, "joint", "name", "class");
        Named(e, "joint");
        string S(string n) => Attr(e, "joint", cls, n).Value!;
        bool Has(string n) => Attr(e, "joint", cls, n).Value is not null;
        double D(string n, double dflt) => Has(n) ? NumAt(Attr(e, "joint", cls, n), n) : dflt;
        string type = Has("type") ? S("type") : "hinge";
        var jt = type switch
        {
            "free" => JointType.Free,
            "hinge" => JointType.Hinge,
            _ => throw Error(e, $"<joint> type '{type}' is outside the supported subset (free, hinge)"),
        };
        if (D("stiffness", 0) != 0) throw Error(e, "<joint> attribute 'stiffness' (joint springs) must be 0 in the supported subset");
        if (D("frictionloss", 0) != 0) throw Error(e, "<joint> attribute 'frictionloss' must be 0 in the supported subset");
        var pos = Has("pos") ? VecAt(Attr(e, "joint", cls, "pos"), "pos", 3) : new double[3];
        var axis = Has("axis") ? VecAt(Attr(e, "joint", cls, "axis"), "axis", 3) : [0, 0, 1];
        bool hasRange = Has("range");
        var range = hasRange ? VecAt(Attr(e, "joint", cls, "range"), "range", 2) : new double[2];
        string lim = Has("limited") ? S("limited") : "auto";
        bool limited = lim switch
        {
            "true" => true,
            "false" => false,
            "auto" when _autoLimits => hasRange,
            "auto" when hasRange => throw Error(e, "<joint> has 'range' but not 'limited': set limited=\"true\" or \"false\", or <compiler autolimits=\"true\"/> (as MuJoCo 2.2.2 requires)"),
            "auto" => false,
            _ => throw Error(e, $"<joint> attribute 'limited' must be true, false or auto, not '{lim}'"),
        };
        if (jt == JointType.Free && limited) throw Error(e, "a free joint cannot be limited");
        if (jt == JointType.Free && (pos[0] != 0 || pos[1] != 0 || pos[2] != 0))
            throw Error(e, "a free joint's 'pos' must be 0 0 0 in the supported subset");
        double scale = _degrees ? Math.PI / 180 : 1;
        if (limited && range[0] >= range[1]) throw Error(e, $"<joint> range [{range[0]}, {range[1]}] is empty");
        b.AddJoint(e, new JointModel
        {
            Name = Str(e, "name") ?? "",
            Type = jt,
            Body = body,
            Pos = pos,
            Axis = jt == JointType.Hinge ? NormalizeAt(e, axis, "axis") : [0, 0, 1],
            Limited = limited,
            Range = [range[0] * scale, range[1] * scale],
            Armature = D("armature", 0),
            Damping = D("damping", 0),
            Margin = D("margin", 0),
            SolrefLimit = Solref(e, "joint", cls, "solreflimit"),
            SolimpLimit = Solimp(e, "joint", cls, "solimplimit"),
            Ref = D("ref", 0) * scale,
        });
    }

    /// <summary>A solref attribute (2 numbers; MuJoCo's default where absent). Both positive: time constant and damping ratio; both non-positive: direct stiffness and damping.</summary>
    private double[] Solref(XElement e, string kind, string cls, string name)
    {
        var (v, where) = Attr(e, kind, cls, name);
        if (v is null) return SolverDefaults.Solref;
        var r = ParseNumbers(where, name, v);
        if (r.Length != 2) throw Error(where, $"<{kind}> attribute '{name}' needs 2 numbers, got {r.Length}");
        if ((r[0] > 0) != (r[1] > 0)) throw Error(where, $"<{kind}> attribute '{name}' mixes the standard (positive) and direct (negative) forms");
        return r;
    }

    /// <summary>
    /// A solimp attribute (3 to 5 numbers), clamped as MuJoCo's getsolparam clamps it. As in MuJoCo, numbers left out
    /// keep the value the default classes give (then MuJoCo's defaults).
    /// </summary>
    private double[] Solimp(XElement e, string kind, string cls, string name)
    {
        var r = Layered(e, kind, cls, name, SolverDefaults.Solimp, 3);
        foreach (int k in (int[])[0, 1, 3]) r[k] = Math.Clamp(r[k], 0.0001, 0.9999); // mjMINIMP, mjMAXIMP
        r[2] = Math.Max(0, r[2]);
        r[4] = Math.Max(1, r[4]);
        return r;
    }

    /// <summary>
    /// An array attribute that may give fewer numbers than it has (at least <paramref name="min"/>): MuJoCo's
    /// built-in values, overwritten by each default class from the outermost to the element's own, then by the
    /// element, each only in the leading numbers it gives.
    /// </summary>
    private double[] Layered(XElement e, string kind, string cls, string name, double[] builtin, int min)
    {
        var chain = new List<XElement>();
        if (e.Attribute(name) is not null) chain.Add(e);
        for (var c = _classes[cls]; c is not null; c = c.Parent)
            if (c.Elements.TryGetValue(kind, out var d) && d.Attribute(name) is not null)
                chain.Add(d);
        var r = (double[])builtin.Clone();
        for (int i = chain.Count - 1; i >= 0; i--)
        {
            var v = ParseNumbers(chain[i], name, chain[i].Attribute(name)!.Value);
            if (v.Length < min || v.Length > r.Length)
                throw Error(chain[i], $"<{kind}> attribute '{name}' needs {(min == r.Length ? $"{min}" : $"{min} to {r.Length}")} numbers, got {v.Length}");
            Array.Copy(v, r, v.Length);
        }
        return r;
    }

    private double[] NormalizeAt(XElement e, double[] v, string name)
    {
        double n = Math.Sqrt(v.Sum(x => x * x));
        if (n < 1e-12) throw Error(e, $"<{e.Name.LocalName}> attribute '{name}' is a zero vector");
        return v.Select(x => x / n).ToArray();
    }

    private void ParseGeom(XElement e, int body, string cls, PhysicsModelBuilder b)
    {
        CheckAttributes(e, "geom", "name", "class");
        Named(e, "geom");
        bool Has(string n) => Attr(e, "geom", cls, n).Value is not null;
        double D(string n, double dflt) => Has(n) ? NumAt(Attr(e, "geom", cls, n), n) : dflt;
        int I(string n, int dflt) => Has(n) ? IntAt(Attr(e, "geom", cls, n), n) : dflt;
        string type = Has("type") ? Attr(e, "geom", cls, "type").Value! : "sphere";
        var gt = type switch
        {
            "plane" => GeomType.Plane,
            "sphere" => GeomType.Sphere,
            "capsule" => GeomType.Capsule,
            _ => throw Error(e, $"<geom> type '{type}' is outside the supported subset (plane, sphere, capsule)"),
        };
        var size = new double[3];
        if (Has("size"))
        {
            var (sv, sw) = Attr(e, "geom", cls, "size");
            var s = ParseNumbers(sw, "size", sv!);
            if (s.Length is < 1 or > 3) throw Error(sw, "<geom> attribute 'size' needs 1 to 3 numbers");
            Array.Copy(s, size, s.Length);
        }
        var pos = Has("pos") ? VecAt(Attr(e, "geom", cls, "pos"), "pos", 3) : new double[3];
        var quat = Orientation(e, cls, "geom");
        if (Has("fromto"))
        {
            if (gt != GeomType.Capsule) throw Error(e, "<geom> attribute 'fromto' is supported for capsules only");
            if (e.Attribute("pos") is not null || new[] { "quat", "euler", "axisangle", "zaxis", "xyaxes" }.Any(k => e.Attribute(k) is not null))
                throw Error(e, "<geom> with 'fromto' cannot also have 'pos' or an orientation");
            var ft = VecAt(Attr(e, "geom", cls, "fromto"), "fromto", 6);
            // the capsule's z axis points from 'to' to 'from', as MuJoCo's compiler sets it (so its + end, the first
            // of its two plane contacts, is the 'from' end)
            double[] d = [ft[0] - ft[3], ft[1] - ft[4], ft[2] - ft[5]];
            double len = Math.Sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
            if (len < 1e-12) throw Error(e, "<geom> 'fromto' has zero length");
            pos = [(ft[0] + ft[3]) / 2, (ft[1] + ft[4]) / 2, (ft[2] + ft[5]) / 2];
            quat = Rotations.FromZAxis(d);
            size[1] = len / 2;
        }
        if (gt == GeomType.Sphere && size[0] <= 0) throw Error(e, "<geom> sphere needs a positive radius (size)");
        if (gt == GeomType.Capsule && (size[0] <= 0 || size[1] <= 0)) throw Error(e, "<geom> capsule needs a positive radius and half-length (size, or fromto)");
        if (gt == GeomType.Plane && body != 0) throw Error(e, "<geom> planes must be in <worldbody> (static) in the supported subset");
        var friction = Layered(e, "geom", cls, "friction", [1, 0.005, 0.0001], 1);
        double margin = D("margin", 0), gap = D("gap", 0);
        if (margin < 0 || gap < 0) throw Error(e, "<geom> attributes 'margin' and 'gap' must not be negative");
        double solmix = D("solmix", 1);
        if (solmix < 0) throw Error(e, "<geom> attribute 'solmix' must not be negative");
        int condim = I("condim", 3);
        if (condim is not (1 or 3)) throw Error(e, $"<geom> condim {condim} is outside the supported subset (1: frictionless, 3: sliding friction)");
        double density = D("density", 1000);
        double mass = Has("mass") ? D("mass", 0) : double.NaN;
        var g = new GeomModel
        {
            Name = Str(e, "name") ?? "",
            Type = gt,
            Body = body,
            Size = size,
            Pos = pos,
            Quat = quat,
            Friction = friction,
            Margin = margin,
            Gap = gap,
            Solref = Solref(e, "geom", cls, "solref"),
            Solimp = Solimp(e, "geom", cls, "solimp"),
            Solmix = solmix,
            Condim = condim,
            Contype = I("contype", 1),
            Conaffinity = I("conaffinity", 1),
        };
        b.AddGeom(e, g, density, mass);
    }

    private void ParseActuators(XElement act, PhysicsModelBuilder b)
    {
        foreach (var a in act.Attributes()) throw Error(act, $"<actuator> attribute '{a.Name.LocalName}' is outside the supported MJCF subset");
        foreach (var e in act.Elements())
        {
            if (e.Name.LocalName != "motor")
                throw Error(e, $"<actuator> child <{e.Name.LocalName}> is outside the supported MJCF subset (supported: motor)");
            CheckAttributes(e, "motor", "name", "class");
            Named(e, "actuator");
            string cls = ClassOf(e, "main");
            bool Has(string n) => Attr(e, "motor", cls, n).Value is not null;
            string? jointName = Attr(e, "motor", cls, "joint").Value;
            if (jointName is null) throw Error(e, "<motor> needs a 'joint' (tendon, site and body transmissions are outside the subset)");
            int j = b.Model.Joints.FindIndex(x => x.Name == jointName);
            if (j < 0) throw Error(e, $"<motor> joint '{jointName}' does not exist");
            if (b.Model.Joints[j].Type != JointType.Hinge) throw Error(e, $"<motor> joint '{jointName}' is not a hinge (motors on free joints are outside the subset)");
            double gear = 1;
            if (Has("gear"))
            {
                var (gv, gw) = Attr(e, "motor", cls, "gear");
                var g = ParseNumbers(gw, "gear", gv!);
                if (g.Length is < 1 or > 6) throw Error(gw, "<motor> attribute 'gear' needs 1 to 6 numbers");
                if (g.Skip(1).Any(x => x != 0)) throw Error(gw, "<motor> on a hinge: only the first 'gear' component may be non-zero");
                gear = g[0];
            }
            bool hasRange = Has("ctrlrange");
            var range = hasRange ? VecAt(Attr(e, "motor", cls, "ctrlrange"), "ctrlrange", 2) : new double[2];
            string lim = Attr(e, "motor", cls, "ctrllimited").Value ?? "auto";
            bool limited = lim switch
            {
                "true" => true,
                "false" => false,
                "auto" when _autoLimits => hasRange,
                "auto" when hasRange => throw Error(e, "<motor> has 'ctrlrange' but not 'ctrllimited': set ctrllimited=\"true\" or \"false\", or <compiler autolimits=\"true\"/> (as MuJoCo 2.2.2 requires)"),
                "auto" => false,
                _ => throw Error(e, $"<motor> attribute 'ctrllimited' must be true, false or auto, not '{lim}'"),
            };
            if (limited && range[0] >= range[1]) throw Error(e, $"<motor> ctrlrange [{range[0]}, {range[1]}] is empty");
            string fl = Attr(e, "motor", cls, "forcelimited").Value ?? "false";
            if (fl != "false") throw Error(e, "<motor> force limits are outside the supported subset (forcelimited must be false)");
            b.Model.Actuators.Add(new ActuatorModel { Name = Str(e, "name") ?? "", Joint = j, Gear = gear, CtrlLimited = limited, CtrlRange = range });
        }
    }

    // ---- attribute parsing ----

    private static string? Str(XElement e, string name) => (string?)e.Attribute(name);

    private bool? Bool(XElement e, string name)
    {
        string? v = Str(e, name);
        return v switch
        {
            null => null,
            "true" => true,
            "false" => false,
            _ => throw Error(e, $"<{e.Name.LocalName}> attribute '{name}' must be true or false, not '{v}'"),
        };
    }

    private double[] ParseNumbers(XElement e, string name, string text)
    {
        var parts = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var r = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out r[i]) || !double.IsFinite(r[i]))
                throw Error(e, $"<{e.Name.LocalName}> attribute '{name}': '{parts[i]}' is not a number");
        return r;
    }

    private double Num(XElement e, string name) => Vec(e, name, 1)[0];

    private double[] Vec(XElement e, string name, int n)
    {
        var v = ParseNumbers(e, name, Str(e, name)!);
        Need(e, name, v, n);
        return v;
    }

    private double NumAt((string? Value, XElement Where) a, string name) => VecAt(a, name, 1)[0];

    private double[] VecAt((string? Value, XElement Where) a, string name, int n)
    {
        var v = ParseNumbers(a.Where, name, a.Value!);
        Need(a.Where, name, v, n);
        return v;
    }

    private int IntAt((string? Value, XElement Where) a, string name)
    {
        if (!int.TryParse(a.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
            throw Error(a.Where, $"<{a.Where.Name.LocalName}> attribute '{name}': '{a.Value}' is not an integer");
        return v;
    }
}
