namespace EpgFast.MuJoCo;

/// <summary>
/// Byte offsets of the mjModel / mjData / mjContact fields the bindings read and write, valid for
/// MuJoCo 2.2.2 on 64-bit Linux only (layouts change between versions: <see cref="MuJoCoLibrary"/>
/// refuses any other version before a field is touched). The test MuJoCo/OffsetsTests compiles an
/// offsetof probe against /usr/include/mujoco and compares every entry of <see cref="All"/>.
/// </summary>
public static class MjLayout
{
    /// <summary>The only library version these offsets are for (mj_version()).</summary>
    public const int Version = 222;

    // mjData: scalars
    public const int DataNe = 40320;
    public const int DataNefc = 40328;
    public const int DataNcon = 40332;
    public const int DataTime = 40336;
    // mjData: pointers (double* unless noted)
    public const int DataQpos = 40376;
    public const int DataQvel = 40384;
    public const int DataAct = 40392;
    public const int DataQaccWarmstart = 40400;
    public const int DataCtrl = 40408;
    public const int DataQfrcApplied = 40416;
    public const int DataXfrcApplied = 40424;
    public const int DataQacc = 40448;
    public const int DataXpos = 40480;
    public const int DataXquat = 40488;
    public const int DataQM = 40720;
    /// <summary>mjContact* contact</summary>
    public const int DataContact = 40752;
    public const int DataQfrcBias = 40976;
    public const int DataQfrcPassive = 40984;
    public const int DataQfrcActuator = 41088;
    public const int DataQfrcConstraint = 41136;
    public const int DataCfrcExt = 41168;
    public const int SizeofData = 41176;

    // mjModel: sizes (int)
    public const int ModelNq = 0;
    public const int ModelNv = 4;
    public const int ModelNu = 8;
    public const int ModelNa = 12;
    public const int ModelNbody = 16;
    public const int ModelNjnt = 20;
    public const int ModelNgeom = 24;
    public const int ModelNM = 196;
    // mjModel.opt (mjOption)
    public const int ModelOptTimestep = 232;
    public const int ModelOptGravity = 280;
    public const int ModelOptIntegrator = 432;
    public const int ModelOptCone = 440;
    public const int ModelOptDisableflags = 464;
    // mjModel: pointers
    public const int ModelQpos0 = 1096;
    /// <summary>int* body_parentid</summary>
    public const int ModelBodyParentid = 1112;
    public const int ModelBodyMass = 1240;
    public const int ModelBodyInertia = 1256;
    public const int ModelBodyInvweight0 = 1264;
    /// <summary>int* jnt_type</summary>
    public const int ModelJntType = 1280;
    public const int ModelJntRange = 1368;
    public const int ModelDofArmature = 1456;
    public const int ModelDofDamping = 1464;
    public const int ModelDofInvweight0 = 1472;
    /// <summary>int* geom_type</summary>
    public const int ModelGeomType = 1488;
    /// <summary>int* geom_bodyid</summary>
    public const int ModelGeomBodyid = 1520;
    public const int ModelGeomSize = 1592;
    /// <summary>mjtByte* actuator_ctrllimited</summary>
    public const int ModelActuatorCtrllimited = 2744;
    public const int ModelActuatorCtrlrange = 2792;
    public const int ModelActuatorGear = 2816;
    public const int SizeofModel = 3280;

    // mjContact
    public const int ContactDist = 0;
    public const int ContactPos = 8;
    public const int ContactFrame = 32;
    public const int ContactGeom1 = 508;
    public const int ContactGeom2 = 512;
    public const int SizeofContact = 528;

    /// <summary>(C expression for offsetof/sizeof, offset the bindings use): every offset above, for the header probe test.</summary>
    internal static IReadOnlyList<(string Struct, string Field, int Offset)> All { get; } =
    [
        ("mjData", "ne", DataNe), ("mjData", "nefc", DataNefc), ("mjData", "ncon", DataNcon),
        ("mjData", "time", DataTime), ("mjData", "qpos", DataQpos), ("mjData", "qvel", DataQvel),
        ("mjData", "act", DataAct), ("mjData", "qacc_warmstart", DataQaccWarmstart), ("mjData", "ctrl", DataCtrl),
        ("mjData", "qfrc_applied", DataQfrcApplied), ("mjData", "xfrc_applied", DataXfrcApplied),
        ("mjData", "qacc", DataQacc), ("mjData", "xpos", DataXpos), ("mjData", "xquat", DataXquat),
        ("mjData", "qM", DataQM), ("mjData", "contact", DataContact), ("mjData", "qfrc_bias", DataQfrcBias),
        ("mjData", "qfrc_passive", DataQfrcPassive), ("mjData", "qfrc_actuator", DataQfrcActuator),
        ("mjData", "qfrc_constraint", DataQfrcConstraint), ("mjData", "cfrc_ext", DataCfrcExt),
        ("mjData", "", SizeofData),
        ("mjModel", "nq", ModelNq), ("mjModel", "nv", ModelNv), ("mjModel", "nu", ModelNu), ("mjModel", "na", ModelNa),
        ("mjModel", "nbody", ModelNbody), ("mjModel", "njnt", ModelNjnt), ("mjModel", "ngeom", ModelNgeom),
        ("mjModel", "nM", ModelNM), ("mjModel", "opt.timestep", ModelOptTimestep),
        ("mjModel", "opt.gravity", ModelOptGravity), ("mjModel", "opt.integrator", ModelOptIntegrator),
        ("mjModel", "opt.cone", ModelOptCone), ("mjModel", "opt.disableflags", ModelOptDisableflags),
        ("mjModel", "qpos0", ModelQpos0), ("mjModel", "body_parentid", ModelBodyParentid),
        ("mjModel", "body_mass", ModelBodyMass), ("mjModel", "body_inertia", ModelBodyInertia),
        ("mjModel", "body_invweight0", ModelBodyInvweight0), ("mjModel", "dof_invweight0", ModelDofInvweight0),
        ("mjModel", "jnt_type", ModelJntType), ("mjModel", "jnt_range", ModelJntRange),
        ("mjModel", "dof_armature", ModelDofArmature), ("mjModel", "dof_damping", ModelDofDamping),
        ("mjModel", "geom_type", ModelGeomType), ("mjModel", "geom_bodyid", ModelGeomBodyid),
        ("mjModel", "geom_size", ModelGeomSize), ("mjModel", "actuator_ctrllimited", ModelActuatorCtrllimited),
        ("mjModel", "actuator_ctrlrange", ModelActuatorCtrlrange), ("mjModel", "actuator_gear", ModelActuatorGear),
        ("mjModel", "", SizeofModel),
        ("mjContact", "dist", ContactDist), ("mjContact", "pos", ContactPos), ("mjContact", "frame", ContactFrame),
        ("mjContact", "geom1", ContactGeom1), ("mjContact", "geom2", ContactGeom2), ("mjContact", "", SizeofContact),
    ];
}
