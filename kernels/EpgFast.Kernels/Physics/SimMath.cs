using System.Runtime.CompilerServices;

namespace EpgFast.Kernels.Physics;

/// <summary>A float 3-vector for kernel code (a plain struct: registers on the GPU).</summary>
public struct V3
{
    public float X, Y, Z;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public V3(float x, float y, float z)
    {
        X = x;
        Y = y;
        Z = z;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V3 operator +(V3 a, V3 b) => new(a.X + b.X, a.Y + b.Y, a.Z + b.Z);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V3 operator -(V3 a, V3 b) => new(a.X - b.X, a.Y - b.Y, a.Z - b.Z);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V3 operator -(V3 a) => new(-a.X, -a.Y, -a.Z);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V3 operator *(V3 a, float s) => new(a.X * s, a.Y * s, a.Z * s);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(V3 a, V3 b) => a.X * b.X + a.Y * b.Y + a.Z * b.Z;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V3 Cross(V3 a, V3 b) => new(a.Y * b.Z - a.Z * b.Y, a.Z * b.X - a.X * b.Z, a.X * b.Y - a.Y * b.X);
}

/// <summary>A float quaternion (w, x, y, z), MuJoCo's convention.</summary>
public struct Q4
{
    public float W, X, Y, Z;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Q4(float w, float x, float y, float z)
    {
        W = w;
        X = x;
        Y = y;
        Z = z;
    }

    public static Q4 Identity => new(1f, 0f, 0f, 0f);

    /// <summary>a * b: rotate by b, then by a.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Q4 Mul(Q4 a, Q4 b) => new(
        a.W * b.W - a.X * b.X - a.Y * b.Y - a.Z * b.Z,
        a.W * b.X + a.X * b.W + a.Y * b.Z - a.Z * b.Y,
        a.W * b.Y - a.X * b.Z + a.Y * b.W + a.Z * b.X,
        a.W * b.Z + a.X * b.Y - a.Y * b.X + a.Z * b.W);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Q4 Normalize(Q4 q)
    {
        float n = MathF.Sqrt(q.W * q.W + q.X * q.X + q.Y * q.Y + q.Z * q.Z);
        if (n < 1e-12f) return Identity;
        float s = 1f / n;
        return new Q4(q.W * s, q.X * s, q.Y * s, q.Z * s);
    }

    /// <summary>
    /// q / |q| for a q already within a few ulps of unit length (a product of unit quaternions): one Newton
    /// step for 1 / sqrt(|q|^2), s = (3 - |q|^2) / 2, whose error 3 e^2 / 8 (|q|^2 = 1 + e) is far below float
    /// rounding for such q; no square root or division on the kinematic chain's critical path. Not for
    /// arbitrary quaternions (use <see cref="Normalize"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Q4 Renormalize(Q4 q)
    {
        float n2 = q.W * q.W + q.X * q.X + q.Y * q.Y + q.Z * q.Z;
        float s = 1.5f - 0.5f * n2;
        return new Q4(q.W * s, q.X * s, q.Y * s, q.Z * s);
    }

    /// <summary>Rotation by <paramref name="angle"/> about the unit <paramref name="axis"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Q4 AxisAngle(V3 axis, float angle)
    {
        SimMath.SinCos(0.5f * angle, out float s, out float c);
        return new Q4(c, axis.X * s, axis.Y * s, axis.Z * s);
    }
}

/// <summary>A row-major 3x3 rotation matrix.</summary>
public struct M33
{
    public float M00, M01, M02, M10, M11, M12, M20, M21, M22;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static M33 FromQuat(Q4 q)
    {
        float w = q.W, x = q.X, y = q.Y, z = q.Z;
        float xx = x * x, yy = y * y, zz = z * z, xy = x * y, xz = x * z, yz = y * z, wx = w * x, wy = w * y, wz = w * z;
        M33 m;
        m.M00 = 1f - 2f * (yy + zz);
        m.M01 = 2f * (xy - wz);
        m.M02 = 2f * (xz + wy);
        m.M10 = 2f * (xy + wz);
        m.M11 = 1f - 2f * (xx + zz);
        m.M12 = 2f * (yz - wx);
        m.M20 = 2f * (xz - wy);
        m.M21 = 2f * (yz + wx);
        m.M22 = 1f - 2f * (xx + yy);
        return m;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly V3 Mul(V3 v) => new(
        M00 * v.X + M01 * v.Y + M02 * v.Z,
        M10 * v.X + M11 * v.Y + M12 * v.Z,
        M20 * v.X + M21 * v.Y + M22 * v.Z);

    /// <summary>Column c (the body frame's axis c in world coordinates).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly V3 Col(int c) => c == 0 ? new V3(M00, M10, M20) : c == 1 ? new V3(M01, M11, M21) : new V3(M02, M12, M22);
}

/// <summary>Scalar helpers for kernel code.</summary>
public static class SimMath
{
    /// <summary>
    /// sin x and cos x: for |x| &lt;= 1 (a hinge's half angle up to 2 rad, a free joint's half rotation per step)
    /// their Taylor polynomials through x^11 and x^12 in Horner form (truncation below 2e-10, so within float
    /// rounding: about an ulp from MathF's), inlined, two libm calls saved; larger |x| goes to MathF.Sin/Cos.
    /// (MathF.SinCos would also do, but ILGPU 1.5.3 cannot compile it.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SinCos(float x, out float sin, out float cos)
    {
        if (MathF.Abs(x) <= 1f)
        {
            float x2 = x * x;
            sin = x * (1f + x2 * (-1f / 6f + x2 * (1f / 120f + x2 * (-1f / 5040f + x2 * (1f / 362880f + x2 * (-1f / 39916800f))))));
            cos = 1f + x2 * (-0.5f + x2 * (1f / 24f + x2 * (-1f / 720f + x2 * (1f / 40320f + x2 * (-1f / 3628800f + x2 * (1f / 479001600f))))));
        }
        else
        {
            sin = MathF.Sin(x);
            cos = MathF.Cos(x);
        }
    }
}
