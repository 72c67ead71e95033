using EpgFast.Kernels.Memory;

namespace EpgFast.Kernels.Physics;

/// <summary>
/// One physics step of one environment, MuJoCo's Euler integrator with the constraint model of
/// <see cref="Constraints"/>:
/// <code>
/// kinematics(q); bias = C(q, v) v + g(q); M = CRBA(q) + armature
/// tau = gear * clamp(ctrl) - damping * v - bias
/// v_free = v + h (M + h D)^-1 tau                      (joint damping D implicit, as mj_Euler)
/// v' = v_free + (M + h D)^-1 J' lambda                 (lambda from the constraint rows)
/// q' = q (+) h v'                                       (quaternions: q * exp(h w_local))
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
        TF mf = m.MF;
        TI mi = m.MI;
        int nv = d.Nv;
        float h = d.Timestep;

        Kinematics.Run(m, s);
        RigidBodyDynamics.Bias(m, s);
        RigidBodyDynamics.MassMatrix(m, s);
        float kinetic = diagnose != 0 ? RigidBodyDynamics.KineticEnergy(m, s) : 0f;

        // smooth force and implicit damping
        for (int i = 0; i < nv; i++)
        {
            float damping = mf[d.DofDampingF + i];
            s[d.SM + i * nv + i] += h * damping;
            s[d.STau + i] = -s[d.SBias + i] - damping * s[d.SQvel + i];
        }
        for (int u = 0; u < d.Nu; u++)
        {
            float c = ctrl[env * d.Nu + u];
            if (mi[d.ActLimitedI + u] != 0) c = MathF.Min(MathF.Max(c, mf[d.ActLoF + u]), mf[d.ActHiF + u]);
            if (float.IsNaN(c)) c = 0f; // NaN controls act as zero
            s[d.STau + mi[d.ActDofI + u]] += mf[d.ActGearF + u] * c;
        }
        TreeLdl.Factor(m, s);
        TreeLdl.Solve(m, s, d.STau);
        for (int i = 0; i < nv; i++) s[d.SQvel + i] += h * s[d.STau + i];

        // constraints
        int rows = Constraints.BuildRows(m, s);
        float normalImpulse = 0f;
        int contacts = 0, sweeps = 0, pseudo = 0;
        if (rows > 0) sweeps = Constraints.Solve(m, s, rows, out normalImpulse, out contacts, out pseudo);

        if (diagnose != 0)
        {
            float pen = 0f;
            for (int sl = 0; sl < d.NSlots; sl++) pen = MathF.Max(pen, -s[d.SSlotDist + sl]);
            TF dg = diag;
            int o = env * SimDims.DiagSize;
            dg[o + SimDims.DiagNormalForce] = normalImpulse / h;
            dg[o + SimDims.DiagContacts] = contacts;
            dg[o + SimDims.DiagPenetration] = pen;
            dg[o + SimDims.DiagKinetic] = kinetic;
            dg[o + SimDims.DiagSweeps] = sweeps;
            dg[o + SimDims.DiagRows] = rows;
        }

        Integrate(m, s, pseudo);
    }

    /// <summary>
    /// q' = q (+) h v (MuJoCo's mj_integratePos): positions and hinges add, quaternions rotate by
    /// exp(h w_local) and renormalise. With <paramref name="pseudo"/> = 1 the constraint position
    /// pass's pseudo velocity (SVpseudo) is added to v for this update only.
    /// </summary>
    public static void Integrate<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int pseudo)
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
            int va = d.SQvel + dof, pa = d.SVpseudo + dof;
            if (mi[d.JntTypeI + j] == Kinematics.JointFree)
            {
                for (int k = 0; k < 3; k++) s[qa + k] += h * (pseudo != 0 ? s[va + k] + s[pa + k] : s[va + k]);
                V3 w = s.Get3(va + 3);
                if (pseudo != 0) w += s.Get3(pa + 3);
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
                s[qa] += h * (pseudo != 0 ? s[va] + s[pa] : s[va]);
            }
        }
    }
}
