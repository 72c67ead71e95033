using System.Runtime.CompilerServices;
using EpgFast.Kernels.Memory;

namespace EpgFast.Kernels.Physics;

/// <summary>
/// Forward kinematics of one environment (MuJoCo's mj_kinematics + mj_comPos for free and hinge
/// joints): body frames from qpos, each dof's motion axis (cdof) and each body's spatial inertia
/// (cinert), both expressed at the reference point c of the body's tree (the origin of the tree's
/// root body, the child of the world). Spatial motion vectors are (angular, linear velocity of the
/// point coincident with c); a body's spatial inertia is (mass m, first moment h = m (com - c),
/// rotational inertia about c: xx yy zz xy xz yz).
/// </summary>
public static class Kinematics
{
    public const int JointFree = 0;
    public const int JointHinge = 3;

    /// <summary>Fills xpos, xquat, xmat, cdof and cinert from qpos.</summary>
    public static void Run<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        TF mf = m.MF;
        TI mi = m.MI;
        // level order: consecutive bodies are mostly independent (siblings' subtrees), so their dependency
        // chains (parent frame -> child frame) overlap in the CPU's out-of-order window
        for (int o = 1; o < d.Nbody; o++)
        {
            int b = mi[d.BodyOrderI + o];
            int parent = mi[d.BodyParentI + b];
            int js = mi[d.BodyJntStartI + b];
            int jc = mi[d.BodyJntCountI + b];
            V3 pos;
            Q4 q;
            M33 rot;
            if (jc > 0 && mi[d.JntTypeI + js] == JointFree)
            {
                int qa = d.SQpos + mi[d.JntQposI + js];
                pos = s.Get3(qa);
                q = Q4.Normalize(new Q4(s[qa + 3], s[qa + 4], s[qa + 5], s[qa + 6]));
                M33 r = M33.FromQuat(q);
                rot = r;
                int da = d.SCdof + 6 * mi[d.JntDofI + js];
                for (int k = 0; k < 3; k++)
                {
                    // translation k: (0, e_k); rotation k: (body axis k, 0) since c is this body's origin
                    V3 ek = new(k == 0 ? 1f : 0f, k == 1 ? 1f : 0f, k == 2 ? 1f : 0f);
                    s.Set3(da + 6 * k, new V3(0f, 0f, 0f));
                    s.Set3(da + 6 * k + 3, ek);
                    s.Set3(da + 6 * (k + 3), r.Col(k));
                    s.Set3(da + 6 * (k + 3) + 3, new V3(0f, 0f, 0f));
                }
            }
            else
            {
                V3 bodyPos = new(mf[d.BodyPosF + 3 * b], mf[d.BodyPosF + 3 * b + 1], mf[d.BodyPosF + 3 * b + 2]);
                Q4 bodyQuat = new(mf[d.BodyQuatF + 4 * b], mf[d.BodyQuatF + 4 * b + 1], mf[d.BodyQuatF + 4 * b + 2], mf[d.BodyQuatF + 4 * b + 3]);
                if (parent == 0)
                {
                    pos = bodyPos;
                    q = bodyQuat;
                    rot = M33.FromQuat(q);
                }
                else
                {
                    int pq = d.SXquat + 4 * parent;
                    Q4 parentQuat = new(s[pq], s[pq + 1], s[pq + 2], s[pq + 3]);
                    M33 pr = LoadMat(s, d.SXmat + 9 * parent);
                    pos = s.Get3(d.SXpos + 3 * parent) + pr.Mul(bodyPos);
                    if (bodyQuat.W == 1f && bodyQuat.X == 0f && bodyQuat.Y == 0f && bodyQuat.Z == 0f)
                    {
                        // the body frame is aligned with its parent's (every Ant body): the parent's rotation as is
                        q = parentQuat;
                        rot = pr;
                    }
                    else
                    {
                        q = Q4.Renormalize(Q4.Mul(parentQuat, bodyQuat)); // unit times unit
                        rot = M33.FromQuat(q);
                    }
                }
                // the tree's reference point c: known before the joints unless this body is the root itself
                int root = mi[d.BodyRootI + b];
                V3 c = root == b ? default : s.Get3(d.SXpos + 3 * root);
                for (int j = js; j < js + jc; j++)
                {
                    // hinge: rotate about the axis through the anchor; cdof = (world axis, axis x (c - anchor))
                    V3 jpos = new(mf[d.JntPosF + 3 * j], mf[d.JntPosF + 3 * j + 1], mf[d.JntPosF + 3 * j + 2]);
                    V3 axis = new(mf[d.JntAxisF + 3 * j], mf[d.JntAxisF + 3 * j + 1], mf[d.JntAxisF + 3 * j + 2]);
                    int qa = mi[d.JntQposI + j];
                    V3 anchor = pos + rot.Mul(jpos);
                    int cd = d.SCdof + 6 * mi[d.JntDofI + j];
                    V3 wa = rot.Mul(axis);
                    s.Set3(cd, wa);
                    // a root's c is its own origin, known after its joints: keep the anchor until then
                    s.Set3(cd + 3, root == b ? anchor : V3.Cross(wa, c - anchor));
                    float angle = s[d.SQpos + qa] - mf[d.Qpos0F + qa];
                    q = Q4.Renormalize(Q4.Mul(q, Q4.AxisAngle(axis, angle)));
                    rot = M33.FromQuat(q);
                    pos = anchor - rot.Mul(jpos);
                }
                if (jc > 0 && root == b)
                {
                    for (int j = js; j < js + jc; j++)
                    {
                        int cd = d.SCdof + 6 * mi[d.JntDofI + j];
                        V3 a = s.Get3(cd);
                        V3 anchor = s.Get3(cd + 3);
                        s.Set3(cd + 3, V3.Cross(a, pos - anchor));
                    }
                }
            }
            s.Set3(d.SXpos + 3 * b, pos);
            int xq = d.SXquat + 4 * b;
            s[xq] = q.W;
            s[xq + 1] = q.X;
            s[xq + 2] = q.Y;
            s[xq + 3] = q.Z;
            StoreMat(s, d.SXmat + 9 * b, rot);
            StoreInertia(m, s, b, pos, rot);
        }
    }

    /// <summary>cinert of body b at its tree's reference point: m, h = m r, I_com (world) + m (|r|^2 1 - r r').</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreInertia<TF, TI>(in SimModel<TF, TI> m, Scratch<TF> s, int b, V3 pos, M33 r)
        where TF : struct, IView<float>
        where TI : struct, IView<int>
    {
        ref readonly SimDims d = ref m.D;
        TF mf = m.MF;
        int root = m.MI[d.BodyRootI + b];
        V3 c = root == b ? pos : s.Get3(d.SXpos + 3 * root);
        float mass = mf[d.BodyMassF + b];
        V3 ipos = new(mf[d.BodyIposF + 3 * b], mf[d.BodyIposF + 3 * b + 1], mf[d.BodyIposF + 3 * b + 2]);
        V3 rc = pos + r.Mul(ipos) - c;
        int bi = d.BodyInertiaF + 6 * b;
        float ixx = mf[bi], iyy = mf[bi + 1], izz = mf[bi + 2], ixy = mf[bi + 3], ixz = mf[bi + 4], iyz = mf[bi + 5];
        // t = R I (row-major), then world inertia W = t R'
        float t00 = r.M00 * ixx + r.M01 * ixy + r.M02 * ixz;
        float t01 = r.M00 * ixy + r.M01 * iyy + r.M02 * iyz;
        float t02 = r.M00 * ixz + r.M01 * iyz + r.M02 * izz;
        float t10 = r.M10 * ixx + r.M11 * ixy + r.M12 * ixz;
        float t11 = r.M10 * ixy + r.M11 * iyy + r.M12 * iyz;
        float t12 = r.M10 * ixz + r.M11 * iyz + r.M12 * izz;
        float t20 = r.M20 * ixx + r.M21 * ixy + r.M22 * ixz;
        float t21 = r.M20 * ixy + r.M21 * iyy + r.M22 * iyz;
        float t22 = r.M20 * ixz + r.M21 * iyz + r.M22 * izz;
        float wxx = t00 * r.M00 + t01 * r.M01 + t02 * r.M02;
        float wyy = t10 * r.M10 + t11 * r.M11 + t12 * r.M12;
        float wzz = t20 * r.M20 + t21 * r.M21 + t22 * r.M22;
        float wxy = t00 * r.M10 + t01 * r.M11 + t02 * r.M12;
        float wxz = t00 * r.M20 + t01 * r.M21 + t02 * r.M22;
        float wyz = t10 * r.M20 + t11 * r.M21 + t12 * r.M22;
        float r2 = V3.Dot(rc, rc);
        int ci = d.SCinert + 10 * b;
        s[ci] = mass;
        s.Set3(ci + 1, rc * mass);
        s[ci + 4] = wxx + mass * (r2 - rc.X * rc.X);
        s[ci + 5] = wyy + mass * (r2 - rc.Y * rc.Y);
        s[ci + 6] = wzz + mass * (r2 - rc.Z * rc.Z);
        s[ci + 7] = wxy - mass * rc.X * rc.Y;
        s[ci + 8] = wxz - mass * rc.X * rc.Z;
        s[ci + 9] = wyz - mass * rc.Y * rc.Z;
    }

    public static M33 LoadMat<TF>(Scratch<TF> s, int k) where TF : struct, IView<float>
    {
        M33 r;
        r.M00 = s[k];
        r.M01 = s[k + 1];
        r.M02 = s[k + 2];
        r.M10 = s[k + 3];
        r.M11 = s[k + 4];
        r.M12 = s[k + 5];
        r.M20 = s[k + 6];
        r.M21 = s[k + 7];
        r.M22 = s[k + 8];
        return r;
    }

    private static void StoreMat<TF>(Scratch<TF> s, int k, M33 r) where TF : struct, IView<float>
    {
        s[k] = r.M00;
        s[k + 1] = r.M01;
        s[k + 2] = r.M02;
        s[k + 3] = r.M10;
        s[k + 4] = r.M11;
        s[k + 5] = r.M12;
        s[k + 6] = r.M20;
        s[k + 7] = r.M21;
        s[k + 8] = r.M22;
    }
}
