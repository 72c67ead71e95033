using EpgFast.Kernels.Launch;
using EpgFast.Kernels.Memory;

namespace EpgFast.Kernels.Physics;

/// <summary>
/// Steps environments: one work item per environment. Loads flagged resets (qpos/qvel rows where
/// Reset[e] != 0 replace the environment's state, warm starts are cleared, the flag is cleared),
/// runs FrameSkip physics steps (<see cref="PhysicsStep"/>), then writes the state rows back to
/// Qpos/Qvel. FrameSkip = 0 only loads resets and writes back (IPhysicsBatch.Sync).
/// </summary>
public struct PhysicsStepKernel<TF, TI> : IKernel
    where TF : struct, IView<float>
    where TI : struct, IView<int>
{
    public SimModel<TF, TI> Model;
    /// <summary>scratch: (ScratchSize per environment, layout in <see cref="SimDims"/>), holds the authoritative state</summary>
    public TF Scratch;
    /// <summary>qpos: (Envs, Nq)</summary>
    public TF Qpos;
    /// <summary>qvel: (Envs, Nv)</summary>
    public TF Qvel;
    /// <summary>ctrl: (Envs, Nu)</summary>
    public TF Ctrl;
    /// <summary>reset: (Envs)</summary>
    public TI Reset;
    /// <summary>diag: (Envs, SimDims.DiagSize), written for the last physics step when Diagnose = 1</summary>
    public TF Diag;
    public int FrameSkip;
    public int Diagnose;

    public readonly void Execute(int index)
    {
        TF qpos = Qpos, qvel = Qvel;
        TI reset = Reset;
        SimDims d = Model.D;
        var s = new Scratch<TF>(Scratch, d, index);
        if (reset[index] != 0)
        {
            for (int k = 0; k < d.Nq; k++) s[d.SQpos + k] = qpos[index * d.Nq + k];
            for (int k = 0; k < d.Nv; k++) s[d.SQvel + k] = qvel[index * d.Nv + k];
            for (int k = 0; k <= d.Nv; k++) s[d.SQaccWarm + k] = 0f;
            reset[index] = 0;
        }
        for (int f = 0; f < FrameSkip; f++)
            PhysicsStep.Run(Model, s, Ctrl, Diag, index, Diagnose != 0 && f == FrameSkip - 1 ? 1 : 0);
        for (int k = 0; k < d.Nq; k++) qpos[index * d.Nq + k] = s[d.SQpos + k];
        for (int k = 0; k < d.Nv; k++) qvel[index * d.Nv + k] = s[d.SQvel + k];
    }
}

/// <summary>
/// The dynamics at given states, for validation: one work item per row of Qpos/Qvel/Ctrl writes the dense
/// joint-space mass matrix (armature included, as MuJoCo's mj_fullM), the bias forces (MuJoCo's qfrc_bias),
/// the constrained acceleration (MuJoCo's qacc after mj_forward, solved from a cold start) and each contact
/// slot's normal force. Uses its own scratch buffer (not a stepping batch's).
/// </summary>
public struct PhysicsInspectKernel<TF, TI> : IKernel
    where TF : struct, IView<float>
    where TI : struct, IView<int>
{
    public SimModel<TF, TI> Model;
    /// <summary>scratch: (ScratchSize per row)</summary>
    public TF Scratch;
    /// <summary>qpos: (Rows, Nq)</summary>
    public TF Qpos;
    /// <summary>qvel: (Rows, Nv)</summary>
    public TF Qvel;
    /// <summary>mass: (Rows, Nv, Nv)</summary>
    public TF Mass;
    /// <summary>bias: (Rows, Nv)</summary>
    public TF Bias;
    /// <summary>ctrl: (Rows, Nu)</summary>
    public TF Ctrl;
    /// <summary>qacc: (Rows, Nv)</summary>
    public TF Qacc;
    /// <summary>slotForce: (Rows, max(1, NSlots)), the normal force of each contact slot (0 out of contact)</summary>
    public TF SlotForce;

    public readonly void Execute(int index)
    {
        TF qpos = Qpos, qvel = Qvel, mass = Mass, bias = Bias, qacc = Qacc, slotForce = SlotForce;
        SimDims d = Model.D;
        TI mi = Model.MI;
        var s = new Scratch<TF>(Scratch, d, index);
        int nv = d.Nv;
        for (int k = 0; k < d.Nq; k++) s[d.SQpos + k] = qpos[index * d.Nq + k];
        for (int k = 0; k < nv; k++) s[d.SQvel + k] = qvel[index * nv + k];
        for (int k = 0; k <= nv; k++) s[d.SQaccWarm + k] = 0f;
        PhysicsStep.Forward(Model, s, Ctrl, index, out int rows, out _, out _, out _);
        if (rows == 0)
        {
            // qacc = M^-1 f_smooth
            for (int k = 0; k < nv; k++) s[d.SQacc + k] = s[d.STau + k];
            TreeLdl.Copy(Model, s, d.SM, d.SH);
            TreeLdl.Factor(Model, s, d.SH, d.SHDinv);
            TreeLdl.Solve(Model, s, d.SH, d.SHDinv, d.SQacc);
        }
        for (int k = 0; k < nv; k++) qacc[index * nv + k] = s[d.SQacc + k];
        int slots = d.NSlots > 0 ? d.NSlots : 1;
        for (int k = 0; k < d.NSlots; k++) slotForce[index * slots + k] = s[d.SSlotForce + k];
        int o = index * nv * nv;
        for (int k = 0; k < nv * nv; k++) mass[o + k] = 0f;
        for (int i = 0; i < nv; i++)
        {
            mass[o + i * nv + i] = s[d.SM + i * nv + i];
            for (int j = mi[d.DofParentI + i]; j >= 0; j = mi[d.DofParentI + j])
            {
                float v = s[d.SM + i * nv + j];
                mass[o + i * nv + j] = v;
                mass[o + j * nv + i] = v;
            }
            bias[index * nv + i] = s[d.SBias + i];
        }
    }
}
