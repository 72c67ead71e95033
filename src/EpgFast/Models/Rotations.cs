namespace EpgFast.Models;

/// <summary>Float64 rotation helpers with MuJoCo's conventions (quaternions w x y z, Hamilton product).</summary>
public static class Rotations
{
    public static double[] Normalize(double[] v)
    {
        double n = Math.Sqrt(v.Sum(x => x * x));
        if (n < 1e-15) throw new ArgumentException("zero-length vector");
        return v.Select(x => x / n).ToArray();
    }

    /// <summary>a * b (apply b first, then a, to vectors).</summary>
    public static double[] Mul(double[] a, double[] b) =>
    [
        a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
        a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
        a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
        a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0],
    ];

    public static double[] AxisAngle(double[] axis, double angle)
    {
        var a = Normalize(axis);
        double s = Math.Sin(angle / 2);
        return [Math.Cos(angle / 2), a[0] * s, a[1] * s, a[2] * s];
    }

    /// <summary>Rotates v by unit quaternion q.</summary>
    public static double[] Rotate(double[] q, double[] v)
    {
        var m = ToMatrix(q);
        return [m[0] * v[0] + m[1] * v[1] + m[2] * v[2], m[3] * v[0] + m[4] * v[1] + m[5] * v[2], m[6] * v[0] + m[7] * v[1] + m[8] * v[2]];
    }

    /// <summary>Row-major 3x3 rotation matrix of a unit quaternion.</summary>
    public static double[] ToMatrix(double[] q)
    {
        double w = q[0], x = q[1], y = q[2], z = q[3];
        return
        [
            1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
            2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
            2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
        ];
    }

    /// <summary>Unit quaternion of a row-major rotation matrix.</summary>
    public static double[] FromMatrix(double[] m)
    {
        double tr = m[0] + m[4] + m[8];
        double[] q;
        if (tr > 0)
        {
            double s = Math.Sqrt(tr + 1) * 2;
            q = [s / 4, (m[7] - m[5]) / s, (m[2] - m[6]) / s, (m[3] - m[1]) / s];
        }
        else if (m[0] > m[4] && m[0] > m[8])
        {
            double s = Math.Sqrt(1 + m[0] - m[4] - m[8]) * 2;
            q = [(m[7] - m[5]) / s, s / 4, (m[1] + m[3]) / s, (m[2] + m[6]) / s];
        }
        else if (m[4] > m[8])
        {
            double s = Math.Sqrt(1 + m[4] - m[0] - m[8]) * 2;
            q = [(m[2] - m[6]) / s, (m[1] + m[3]) / s, s / 4, (m[5] + m[7]) / s];
        }
        else
        {
            double s = Math.Sqrt(1 + m[8] - m[0] - m[4]) * 2;
            q = [(m[3] - m[1]) / s, (m[2] + m[6]) / s, (m[5] + m[7]) / s, s / 4];
        }
        return Normalize(q);
    }

    /// <summary>The minimal rotation taking (0, 0, 1) to <paramref name="z"/> (MuJoCo's zaxis and fromto frames).</summary>
    public static double[] FromZAxis(double[] z)
    {
        var v = Normalize(z);
        double[] up = [0, 0, 1];
        double c = v[2];
        double[] axis = [up[1] * v[2] - up[2] * v[1], up[2] * v[0] - up[0] * v[2], up[0] * v[1] - up[1] * v[0]];
        double s = Math.Sqrt(axis.Sum(a => a * a));
        if (s < 1e-12) return c > 0 ? [1, 0, 0, 0] : [0, 1, 0, 0];
        return AxisAngle(axis, Math.Atan2(s, c));
    }

    /// <summary>Frame from its x and y axes (y is orthogonalised against x), as MuJoCo's xyaxes.</summary>
    public static double[] FromXYAxes(double[] x, double[] y)
    {
        var xn = Normalize(x);
        double d = xn[0] * y[0] + xn[1] * y[1] + xn[2] * y[2];
        var yn = Normalize([y[0] - d * xn[0], y[1] - d * xn[1], y[2] - d * xn[2]]);
        double[] zn = [xn[1] * yn[2] - xn[2] * yn[1], xn[2] * yn[0] - xn[0] * yn[2], xn[0] * yn[1] - xn[1] * yn[0]];
        return FromMatrix([xn[0], yn[0], zn[0], xn[1], yn[1], zn[1], xn[2], yn[2], zn[2]]);
    }

    /// <summary>
    /// Euler angles (radians) in MuJoCo's eulerseq convention: lowercase letters rotate about the moving
    /// (intrinsic) axes, uppercase about the fixed (extrinsic) axes.
    /// </summary>
    public static double[] FromEuler(double[] angles, string seq)
    {
        double[] q = [1, 0, 0, 0];
        for (int i = 0; i < 3; i++)
        {
            char c = seq[i];
            double[] axis = char.ToLowerInvariant(c) switch
            {
                'x' => [1, 0, 0],
                'y' => [0, 1, 0],
                _ => [0, 0, 1],
            };
            var r = AxisAngle(axis, angles[i]);
            q = char.IsLower(c) ? Mul(q, r) : Mul(r, q);
        }
        return q;
    }

    /// <summary>R I R^T for a symmetric inertia (xx yy zz xy xz yz) and a unit quaternion.</summary>
    public static double[] RotateInertia(double[] q, double[] inertia)
    {
        var r = ToMatrix(q);
        var i = Full(inertia);
        var t = new double[9];
        var o = new double[9];
        for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
        {
            double s = 0;
            for (int k = 0; k < 3; k++) s += r[a * 3 + k] * i[k * 3 + b];
            t[a * 3 + b] = s;
        }
        for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
        {
            double s = 0;
            for (int k = 0; k < 3; k++) s += t[a * 3 + k] * r[b * 3 + k];
            o[a * 3 + b] = s;
        }
        return [o[0], o[4], o[8], o[1], o[2], o[5]];
    }

    /// <summary>Full row-major 3x3 of a symmetric inertia (xx yy zz xy xz yz).</summary>
    public static double[] Full(double[] s) => [s[0], s[3], s[4], s[3], s[1], s[5], s[4], s[5], s[2]];
}
