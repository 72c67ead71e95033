using EpgFast.Kernels.Memory;

namespace EpgFast.Kernels.Physics;

/// <summary>
/// One physics step of one environment, MuJoCo 2.2.2's mj_step with the Euler integrator:
/// <code>
/// kinematics(q); bias = C(q, v) v + g(q); M = CRBA(q) + armature
/// f_smooth = gear * clamp(ctrl) - damping * v - bias;  qacc_smooth = M^-1 f_smooth (never formed)
/// qacc = argmin 0.5 (a - qacc_smooth)' M (a - qacc_smooth) + s(J a - aref)   (the soft constraints, see Constraints)
/// f = f_smooth + J' force;  v' = v + h (M + h D)^-1 f                         (joint damping D implicit, as mj_Euler)
/// q' = q (+) h v'                                                             (quaternions: q * exp(h w_local))
/// </code>
/// </summary>
public static class PhysicsStep
{
    /// <summary>
    /// Advances the state at SQpos/SQvel by one step under the controls of row <paramref name="env"/>
    /// of <paramref name="ctrl"/> (Envs x Nu). With <paramref name="diagnose"/> = 1 it writes the
    /// environment's diagnostics row (Envs x <see cref="SimDims.DiagSize"/>).
    /// </summary>
    public static void Run<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, TF ctrl, TF diag, int env, int diagnose)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        int nv = d.Nv;
        float h = d.Timestep;
        Forward(m, s, ctrl, env, out int rows, out int iterations, out float normalForce, out int contacts);
        float kinetic = diagnose != 0 ? RigidBodyDynamics.KineticEnergy(m, s) : 0f;

        // Euler with implicit damping: v' = v + h (M + h D)^-1 (f_smooth + J' force)
        TF mf = m.MF;
        TreeLdl.Copy(m, s, d.SM, d.SH);
        for (int i = 0; i < nv; i++) s[d.SH + i * nv + i] += h * mf[d.DofDampingF + i];
        TreeLdl.Factor(m, s, d.SH, d.SHDinv);
        TreeLdl.Solve(m, s, d.SH, d.SHDinv, d.STau);
        for (int i = 0; i < nv; i++) s[d.SQvel + i] += h * s[d.STau + i];

        if (diagnose != 0)
        {
            float pen = 0f;
            for (int sl = 0; sl < d.NSlots; sl++) pen = MathF.Max(pen, -s[d.SSlotDist + sl]);
            TF dg = diag;
            int o = env * SimDims.DiagSize;
            dg[o + SimDims.DiagNormalForce] = normalForce;
            dg[o + SimDims.DiagContacts] = contacts;
            dg[o + SimDims.DiagPenetration] = pen;
            dg[o + SimDims.DiagKinetic] = kinetic;
            dg[o + SimDims.DiagSweeps] = iterations;
            dg[o + SimDims.DiagRows] = rows;
        }

        Integrate(m, s);
    }

    /// <summary>
    /// MuJoCo's mj_forward for the state at SQpos/SQvel: the smooth dynamics, the constraint rows and, when there are
    /// rows, the constrained qacc (SQacc, also kept as the next step's warm start in SQaccWarm). Leaves M at SM,
    /// f_smooth + J' force at STau and each contact's normal force at SSlotForce.
    /// </summary>
    public static void Forward<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, TF ctrl, int env, out int rows, out int iterations, out float normalForce, out int contacts)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        TF mf = m.MF;
        TI mi = m.MI;
        int nv = d.Nv;

        Kinematics.Run(m, s);
        RigidBodyDynamics.Bias(m, s);
        RigidBodyDynamics.MassMatrix(m, s);

        // smooth force: passive damping, actuators, bias
        for (int i = 0; i < nv; i++) s[d.STau + i] = -s[d.SBias + i] - mf[d.DofDampingF + i] * s[d.SQvel + i];
        for (int u = 0; u < d.Nu; u++)
        {
            float c = ctrl[env * d.Nu + u];
            if (mi[d.ActLimitedI + u] != 0) c = MathF.Min(MathF.Max(c, mf[d.ActLoF + u]), mf[d.ActHiF + u]);
            if (float.IsNaN(c)) c = 0f; // NaN controls act as zero
            s[d.STau + mi[d.ActDofI + u]] += mf[d.ActGearF + u] * c;
        }

        // constraints
        rows = Constraints.BuildRows(m, s);
        iterations = 0;
        normalForce = 0f;
        contacts = 0;
        if (rows > 0)
        {
            iterations = Constraints.Solve(m, s, rows);
            normalForce = Constraints.ApplyForces(m, s, rows, out contacts);
        }
        else
        {
            for (int sl = 0; sl < d.NSlots; sl++) s[d.SSlotForce + sl] = 0f;
        }
        if (rows > 0)
        {
            for (int i = 0; i < nv; i++) s[d.SQaccWarm + i] = s[d.SQacc + i];
            s[d.SQaccWarm + nv] = 1f; // a warm start is there
        }
    }

    /// <summary>
    /// q' = q (+) h v (MuJoCo's mj_integratePos): positions and hinges add, quaternions rotate by
    /// exp(h w_local) and renormalise.
    /// </summary>
    public static void Integrate<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        TI mi = m.MI;
        float h = d.Timestep;
        for (int j = 0; j < d.Njnt; j++)
        {
            int qa = d.SQpos + mi[d.JntQposI + j];
            int dof = mi[d.JntDofI + j];
            int va = d.SQvel + dof;
            if (mi[d.JntTypeI + j] == Kinematics.JointFree)
            {
                for (int k = 0; k < 3; k++) s[qa + k] += h * s[va + k];
                V3 w = s.Get3(va + 3);
                float speed = MathF.Sqrt(V3.Dot(w, w));
                Q4 q = Q4.Normalize(new Q4(s[qa + 3], s[qa + 4], s[qa + 5], s[qa + 6]));
                if (speed > 0f)
                    q = Q4.Renormalize(Q4.Mul(q, Q4.AxisAngle(w * (1f / speed), speed * h))); // unit times unit
                s[qa + 3] = q.W;
                s[qa + 4] = q.X;
                s[qa + 5] = q.Y;
                s[qa + 6] = q.Z;
            }
            else
            {
                s[qa] += h * s[va];
            }
        }
    }
}
