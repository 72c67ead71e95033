using static EpgFast.MuJoCo.MuJoCoLibrary;

namespace EpgFast.MuJoCo;

/// <summary>MuJoCo's integrators (mjtIntegrator).</summary>
public enum MjIntegrator
{
    /// <summary>Semi-implicit Euler, MuJoCo's default (the kernel simulator matches this one).</summary>
    Euler = 0,
    /// <summary>4th-order Runge-Kutta (Gym's Ant setting; ~3.7x the cost per step).</summary>
    Rk4 = 1,
    /// <summary>Implicit in velocity.</summary>
    Implicit = 2,
}

/// <summary>MuJoCo object types used with <see cref="MjModel.NameToId"/> (mjtObj).</summary>
public enum MjObject
{
    Body = 1,
    Joint = 3,
    Geom = 5,
    Actuator = 18,
}

/// <summary>
/// A compiled MuJoCo model (mjModel*), loaded from MJCF. Read-only while data objects step it
/// from several threads; options (timestep, integrator, disable flags) may be changed before
/// stepping. Arrays are copied out as managed arrays (shapes in the comments).
/// </summary>
public sealed unsafe class MjModel : IDisposable
{
    /// <summary>mjDSBL_LIMIT: disables joint and tendon limit constraints.</summary>
    public const int DisableLimit = 1 << 3;

    /// <summary>mjDSBL_CONTACT: disables contact constraints.</summary>
    public const int DisableContact = 1 << 4;

    private nint _ptr;

    private MjModel(nint ptr, string path)
    {
        _ptr = ptr;
        Path = path;
    }

    /// <summary>
    /// Loads and compiles an MJCF file. A missing file or an XML/compile error is a
    /// <see cref="MuJoCoException"/> naming the file and MuJoCo's message.
    /// </summary>
    public static MjModel Load(string path)
    {
        EnsureLoaded();
        string full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new MuJoCoException($"model file {path} not found");
        var name = Utf8Z(full);
        var error = new byte[1000];
        nint m;
        fixed (byte* n = name)
        fixed (byte* e = error)
            m = mj_loadXML(n, 0, e, error.Length);
        if (m == 0)
        {
            int len = Array.IndexOf(error, (byte)0);
            string msg = System.Text.Encoding.UTF8.GetString(error, 0, len < 0 ? error.Length : len);
            msg = string.Join(" ", msg.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            throw new MuJoCoException($"{path}: MuJoCo could not load the model: {(msg.Length == 0 ? "unknown error" : msg)}");
        }
        return new MjModel(m, path);
    }

    /// <summary>The file the model came from.</summary>
    public string Path { get; }

    /// <summary>The mjModel* pointer.</summary>
    public nint Handle => _ptr != 0 ? _ptr : throw new ObjectDisposedException(nameof(MjModel));

    public int Nq => Read<int>(Handle, MjLayout.ModelNq);
    public int Nv => Read<int>(Handle, MjLayout.ModelNv);
    public int Nu => Read<int>(Handle, MjLayout.ModelNu);
    public int Na => Read<int>(Handle, MjLayout.ModelNa);
    public int Nbody => Read<int>(Handle, MjLayout.ModelNbody);
    public int Njnt => Read<int>(Handle, MjLayout.ModelNjnt);
    public int Ngeom => Read<int>(Handle, MjLayout.ModelNgeom);

    /// <summary>Physics timestep (opt.timestep), seconds.</summary>
    public double Timestep
    {
        get => Read<double>(Handle, MjLayout.ModelOptTimestep);
        set => Write(Handle, MjLayout.ModelOptTimestep, value);
    }

    public MjIntegrator Integrator
    {
        get => (MjIntegrator)Read<int>(Handle, MjLayout.ModelOptIntegrator);
        set => Write(Handle, MjLayout.ModelOptIntegrator, (int)value);
    }

    /// <summary>opt.cone: 0 pyramidal (default), 1 elliptic.</summary>
    public int Cone
    {
        get => Read<int>(Handle, MjLayout.ModelOptCone);
        set => Write(Handle, MjLayout.ModelOptCone, value);
    }

    /// <summary>opt.disableflags (mjtDisableBit, e.g. <see cref="DisableContact"/> | <see cref="DisableLimit"/>).</summary>
    public int DisableFlags
    {
        get => Read<int>(Handle, MjLayout.ModelOptDisableflags);
        set => Write(Handle, MjLayout.ModelOptDisableflags, value);
    }

    /// <summary>gravity: (3)</summary>
    public double[] Gravity => CopyDoubles(Handle + MjLayout.ModelOptGravity, 3);

    /// <summary>qpos0: (nq)</summary>
    public double[] Qpos0 => CopyDoubles(Read<nint>(Handle, MjLayout.ModelQpos0), Nq);

    /// <summary>body_mass: (nbody), body 0 is the world.</summary>
    public double[] BodyMass => CopyDoubles(Read<nint>(Handle, MjLayout.ModelBodyMass), Nbody);

    /// <summary>body_inertia: (nbody, 3), diagonal inertia in the inertial frame.</summary>
    public double[] BodyInertia => CopyDoubles(Read<nint>(Handle, MjLayout.ModelBodyInertia), Nbody * 3);

    /// <summary>body_invweight0: (nbody, 2), mean inverse inertia of the body at qpos0 (translation, rotation), for the constraint model's diagonal approximation.</summary>
    public double[] BodyInvweight0 => CopyDoubles(Read<nint>(Handle, MjLayout.ModelBodyInvweight0), Nbody * 2);

    /// <summary>dof_invweight0: (nv), the diagonal of M^-1 at qpos0 (averaged over a free or ball joint's translations and rotations).</summary>
    public double[] DofInvweight0 => CopyDoubles(Read<nint>(Handle, MjLayout.ModelDofInvweight0), Nv);

    /// <summary>body_parentid: (nbody)</summary>
    public int[] BodyParent => CopyInts(Read<nint>(Handle, MjLayout.ModelBodyParentid), Nbody);

    /// <summary>jnt_type: (njnt), 0 free, 1 ball, 2 slide, 3 hinge.</summary>
    public int[] JointType => CopyInts(Read<nint>(Handle, MjLayout.ModelJntType), Njnt);

    /// <summary>jnt_range: (njnt, 2), radians for hinges.</summary>
    public double[] JointRange => CopyDoubles(Read<nint>(Handle, MjLayout.ModelJntRange), Njnt * 2);

    /// <summary>dof_armature: (nv)</summary>
    public double[] DofArmature => CopyDoubles(Read<nint>(Handle, MjLayout.ModelDofArmature), Nv);

    /// <summary>dof_damping: (nv)</summary>
    public double[] DofDamping => CopyDoubles(Read<nint>(Handle, MjLayout.ModelDofDamping), Nv);

    /// <summary>geom_type: (ngeom), 0 plane, 2 sphere, 3 capsule, ...</summary>
    public int[] GeomType => CopyInts(Read<nint>(Handle, MjLayout.ModelGeomType), Ngeom);

    /// <summary>geom_bodyid: (ngeom)</summary>
    public int[] GeomBody => CopyInts(Read<nint>(Handle, MjLayout.ModelGeomBodyid), Ngeom);

    /// <summary>geom_size: (ngeom, 3)</summary>
    public double[] GeomSize => CopyDoubles(Read<nint>(Handle, MjLayout.ModelGeomSize), Ngeom * 3);

    /// <summary>actuator_ctrllimited: (nu), 1 where ctrl is clamped to the range.</summary>
    public byte[] ActuatorCtrlLimited
    {
        get
        {
            var p = (byte*)Read<nint>(Handle, MjLayout.ModelActuatorCtrllimited);
            return new ReadOnlySpan<byte>(p, Nu).ToArray();
        }
    }

    /// <summary>actuator_ctrlrange: (nu, 2)</summary>
    public double[] ActuatorCtrlRange => CopyDoubles(Read<nint>(Handle, MjLayout.ModelActuatorCtrlrange), Nu * 2);

    /// <summary>actuator_gear: (nu, 6)</summary>
    public double[] ActuatorGear => CopyDoubles(Read<nint>(Handle, MjLayout.ModelActuatorGear), Nu * 6);

    /// <summary>The id of a named object, or -1.</summary>
    public int NameToId(MjObject type, string name)
    {
        var n = Utf8Z(name);
        fixed (byte* p = n)
            return mj_name2id(Handle, (int)type, p);
    }

    /// <summary>A new mjData for this model (in its qpos0 state).</summary>
    public MjData MakeData() => new(this);

    private static double[] CopyDoubles(nint p, int n) => new ReadOnlySpan<double>((void*)p, n).ToArray();

    private static int[] CopyInts(nint p, int n) => new ReadOnlySpan<int>((void*)p, n).ToArray();

    public void Dispose()
    {
        if (_ptr != 0)
        {
            mj_deleteModel(_ptr);
            _ptr = 0;
        }
    }
}
