using static EpgFast.MuJoCo.MuJoCoLibrary;

namespace EpgFast.MuJoCo;

/// <summary>One contact of the current state (mjContact fields and the force mj_contactForce gives).</summary>
public readonly record struct MjContactInfo(
    double Dist, double PosX, double PosY, double PosZ, double NormalX, double NormalY, double NormalZ,
    int Geom1, int Geom2, double NormalForce);

/// <summary>
/// Simulation state of one world (mjData*) for a shared <see cref="MjModel"/>. The spans alias
/// MuJoCo's own double arrays (zero copy); they are valid until the data is disposed. One data
/// object must be stepped by one thread at a time; different data objects may step in parallel.
/// </summary>
public sealed unsafe class MjData : IDisposable
{
    private readonly MjModel _model;
    private nint _ptr;

    internal MjData(MjModel model)
    {
        _model = model;
        _ptr = mj_makeData(model.Handle);
        if (_ptr == 0) throw new MuJoCoException($"{model.Path}: mj_makeData failed (out of memory?)");
    }

    public MjModel Model => _model;

    /// <summary>The mjData* pointer.</summary>
    public nint Handle => _ptr != 0 ? _ptr : throw new ObjectDisposedException(nameof(MjData));

    /// <summary>Simulation time, seconds.</summary>
    public double Time
    {
        get => Read<double>(Handle, MjLayout.DataTime);
        set => Write(Handle, MjLayout.DataTime, value);
    }

    /// <summary>Number of detected contacts in the current state.</summary>
    public int Ncon => Read<int>(Handle, MjLayout.DataNcon);

    /// <summary>Number of scalar constraints in the current state.</summary>
    public int Nefc => Read<int>(Handle, MjLayout.DataNefc);

    /// <summary>qpos: (nq)</summary>
    public Span<double> Qpos => Doubles(MjLayout.DataQpos, _model.Nq);

    /// <summary>qvel: (nv)</summary>
    public Span<double> Qvel => Doubles(MjLayout.DataQvel, _model.Nv);

    /// <summary>ctrl: (nu); MuJoCo clamps to ctrlrange when the actuator is ctrllimited.</summary>
    public Span<double> Ctrl => Doubles(MjLayout.DataCtrl, _model.Nu);

    /// <summary>act: (na)</summary>
    public Span<double> Act => Doubles(MjLayout.DataAct, _model.Na);

    /// <summary>qacc_warmstart: (nv), the constraint solver's warm start.</summary>
    public Span<double> QaccWarmstart => Doubles(MjLayout.DataQaccWarmstart, _model.Nv);

    /// <summary>qfrc_applied: (nv)</summary>
    public Span<double> QfrcApplied => Doubles(MjLayout.DataQfrcApplied, _model.Nv);

    /// <summary>xfrc_applied: (nbody, 6)</summary>
    public Span<double> XfrcApplied => Doubles(MjLayout.DataXfrcApplied, _model.Nbody * 6);

    /// <summary>qacc: (nv)</summary>
    public Span<double> Qacc => Doubles(MjLayout.DataQacc, _model.Nv);

    /// <summary>xpos: (nbody, 3), body frame positions (of the last forward pass).</summary>
    public Span<double> Xpos => Doubles(MjLayout.DataXpos, _model.Nbody * 3);

    /// <summary>xquat: (nbody, 4)</summary>
    public Span<double> Xquat => Doubles(MjLayout.DataXquat, _model.Nbody * 4);

    /// <summary>qfrc_bias: (nv), C(qpos, qvel): gravity, Coriolis and centrifugal forces.</summary>
    public Span<double> QfrcBias => Doubles(MjLayout.DataQfrcBias, _model.Nv);

    /// <summary>qfrc_passive: (nv), damping and springs.</summary>
    public Span<double> QfrcPassive => Doubles(MjLayout.DataQfrcPassive, _model.Nv);

    /// <summary>qfrc_actuator: (nv)</summary>
    public Span<double> QfrcActuator => Doubles(MjLayout.DataQfrcActuator, _model.Nv);

    /// <summary>qfrc_constraint: (nv)</summary>
    public Span<double> QfrcConstraint => Doubles(MjLayout.DataQfrcConstraint, _model.Nv);

    /// <summary>cfrc_ext: (nbody, 6), com-based external forces (filled by mj_rnePostConstraint, e.g. after a step).</summary>
    public Span<double> CfrcExt => Doubles(MjLayout.DataCfrcExt, _model.Nbody * 6);

    /// <summary>One physics step (mj_step) with the model's integrator.</summary>
    public void Step() => mj_step(_model.Handle, Handle);

    /// <summary>Forward dynamics without integrating (mj_forward): fills positions, forces, qacc.</summary>
    public void Forward() => mj_forward(_model.Handle, Handle);

    /// <summary>mj_resetData: qpos0, zero velocity, time 0 and every other field cleared.</summary>
    public void Reset() => mj_resetData(_model.Handle, Handle);

    /// <summary>The dense joint-space mass matrix (mj_fullM of qM; valid after <see cref="Forward"/>). m: (nv, nv), row-major.</summary>
    public double[] FullMassMatrix()
    {
        int nv = _model.Nv;
        var m = new double[nv * nv];
        fixed (double* p = m)
            mj_fullM(_model.Handle, p, (double*)Read<nint>(Handle, MjLayout.DataQM));
        return m;
    }

    /// <summary>Contact <paramref name="i"/> of the current state, with its normal force (mj_contactForce, contact frame).</summary>
    public MjContactInfo Contact(int i)
    {
        if ((uint)i >= (uint)Ncon) throw new ArgumentOutOfRangeException(nameof(i));
        nint c = Read<nint>(Handle, MjLayout.DataContact) + i * MjLayout.SizeofContact;
        double* f = stackalloc double[6];
        mj_contactForce(_model.Handle, Handle, i, f);
        double* pos = (double*)(c + MjLayout.ContactPos);
        double* frame = (double*)(c + MjLayout.ContactFrame);
        return new MjContactInfo(Read<double>(c, MjLayout.ContactDist), pos[0], pos[1], pos[2],
            frame[0], frame[1], frame[2], Read<int>(c, MjLayout.ContactGeom1), Read<int>(c, MjLayout.ContactGeom2), f[0]);
    }

    /// <summary>
    /// Loads a state the way the batched runner resets an environment: qpos and qvel given, time,
    /// act, warm start and applied forces zeroed (ctrl left as it is). Deterministic: the same
    /// state and controls then give the same trajectory.
    /// </summary>
    public void SetState(ReadOnlySpan<double> qpos, ReadOnlySpan<double> qvel)
    {
        qpos.CopyTo(Qpos);
        qvel.CopyTo(Qvel);
        ClearHistory();
    }

    /// <summary>Zeroes time, act, the solver warm start and the applied forces.</summary>
    public void ClearHistory()
    {
        Time = 0;
        Act.Clear();
        QaccWarmstart.Clear();
        QfrcApplied.Clear();
        XfrcApplied.Clear();
    }

    private Span<double> Doubles(int offset, int n) => new((void*)Read<nint>(Handle, offset), n);

    public void Dispose()
    {
        if (_ptr != 0)
        {
            mj_deleteData(_ptr);
            _ptr = 0;
        }
    }
}
