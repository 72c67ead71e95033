using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;
using EpgFast.Kernels.Random;

namespace EpgFast.Validation;

/// <summary>Philox4x32-10 against the Random123 known-answer vectors (host code).</summary>
public sealed class PhiloxKnownAnswerCheck : ISelfCheck
{
    /// <summary>(counter, key, expected) from Random123's kat_vectors for philox4x32 with 10 rounds.</summary>
    public static readonly (UInt4 Counter, uint K0, uint K1, UInt4 Expected)[] Vectors =
    [
        (new UInt4(0, 0, 0, 0), 0, 0, new UInt4(0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
        (new UInt4(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff), 0xffffffff, 0xffffffff,
            new UInt4(0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd)),
        (new UInt4(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), 0xa4093822, 0x299f31d0,
            new UInt4(0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1)),
    ];

    public string Name => "rng.philox-known-answers";

    public (bool Passed, string Detail) Run(Device device)
    {
        foreach (var (c, k0, k1, e) in Vectors)
        {
            var got = Philox.Block(c, k0, k1);
            if (got.X != e.X || got.Y != e.Y || got.Z != e.Z || got.W != e.W)
                return (false, $"counter {c.X:x8}.. key {k0:x8}: got {got.X:x8} {got.Y:x8} {got.Z:x8} {got.W:x8}");
        }
        return (true, $"{Vectors.Length} Random123 vectors");
    }
}

/// <summary>Uniform and normal fills on the device against the same generator run as host code.</summary>
public sealed class RandomDeviceCheck : ISelfCheck
{
    public string Name => "rng.device-matches-host";

    public (bool Passed, string Detail) Run(Device device) => device switch
    {
        CpuDevice => Check<CpuView<float>>(device),
        _ => Check<GpuView<float>>(device),
    };

    private static (bool, string) Check<TF>(Device device) where TF : struct, IView<float>
    {
        const int n = 4099;
        const ulong seed = 0x5eed_1234_abcdUL;
        ulong stream = Philox.Stream(RandomStreams.Test, 7, 11);
        using var u = device.Allocate<float>(n);
        using var g = device.Allocate<float>(n);
        device.Launch(n, new FillUniformKernel<TF> { Output = u.View<TF>(), Seed = seed, Stream = stream, Low = 0f, High = 1f });
        device.Launch(n, new FillNormalKernel<TF> { Output = g.View<TF>(), Seed = seed, Stream = stream, Mean = 0f, Scale = 1f });
        device.Synchronize();
        float[] ud = u.ToArray(), gd = g.ToArray();
        // Uniforms are integer arithmetic: bit-identical on every backend. Normals use log/sin/cos,
        // bit-identical on the CPU paths; a GPU's transcendental functions may differ in the last bits.
        double maxNormalErr = 0;
        for (int i = 0; i < n; i++)
        {
            if (ud[i] != Philox.UniformAt(seed, stream, (ulong)i))
                return (false, $"uniform {i} differs: {ud[i]} vs {Philox.UniformAt(seed, stream, (ulong)i)}");
            maxNormalErr = Math.Max(maxNormalErr, Math.Abs(gd[i] - Philox.NormalAt(seed, stream, (ulong)i)));
        }
        double tol = device.Kind == BackendKind.Cuda ? 1e-5 : 0;
        bool ok = maxNormalErr <= tol;
        return (ok, $"{n} uniforms identical; normals max |diff| {maxNormalErr:g3} (allowed {tol:g1})");
    }
}

/// <summary>The batched dense layer (forward and both backward kernels) against a float64 host reference.</summary>
public sealed class DenseKernelCheck : ISelfCheck
{
    public string Name => "networks.dense-vs-float64";

    public (bool Passed, string Detail) Run(Device device) => device switch
    {
        CpuDevice => Check<CpuView<float>>(device),
        _ => Check<GpuView<float>>(device),
    };

    private static (bool, string) Check<TF>(Device device) where TF : struct, IView<float>
    {
        var s = DenseShape.Create(learners: 5, rows: 7, inputs: 9, outputs: 6, Activation.Tanh);
        var rng = new System.Random(42);
        float[] Rand(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        float[] x = Rand(s.Learners * s.Rows * s.In), p = Rand(s.Learners * s.ParamStride), dy = Rand(s.Learners * s.Rows * s.Out);
        using var bx = device.Upload<float>(x);
        using var bp = device.Upload<float>(p);
        using var bdy = device.Upload<float>(dy);
        using var by = device.Allocate<float>(dy.Length);
        using var bdx = device.Allocate<float>(x.Length);
        using var bg = device.Allocate<float>(p.Length);
        device.Launch(s.Learners * s.Rows, new DenseForwardKernel<TF> { X = bx.View<TF>(), P = bp.View<TF>(), Y = by.View<TF>(), S = s });
        device.Launch(s.Learners * s.Rows, new DenseBackwardInputKernel<TF> { P = bp.View<TF>(), Y = by.View<TF>(), DY = bdy.View<TF>(), DX = bdx.View<TF>(), S = s });
        device.Launch(s.Learners * s.Out, new DenseBackwardParamsKernel<TF> { X = bx.View<TF>(), Y = by.View<TF>(), DY = bdy.View<TF>(), G = bg.View<TF>(), S = s });
        device.Synchronize();
        var (yRef, dxRef, gRef) = DenseReference.ForwardBackward(s, x, p, dy);
        double e1 = MaxRel(by.ToArray(), yRef), e2 = MaxRel(bdx.ToArray(), dxRef), e3 = MaxRel(bg.ToArray(), gRef);
        double worst = Math.Max(e1, Math.Max(e2, e3));
        return (worst < 1e-4, $"max rel err y {e1:g2}, dx {e2:g2}, dparams {e3:g2}");
    }

    internal static double MaxRel(float[] got, double[] want)
    {
        double scale = want.Max(Math.Abs) + 1e-12, worst = 0;
        for (int i = 0; i < got.Length; i++) worst = Math.Max(worst, Math.Abs(got[i] - want[i]) / scale);
        return worst;
    }
}

/// <summary>A float64 host implementation of the batched dense layer, for checks and tests.</summary>
public static class DenseReference
{
    public static (double[] Y, double[] DX, double[] G) ForwardBackward(DenseShape s, float[] x, float[] p, float[] dy)
    {
        var y = new double[s.Learners * s.Rows * s.Out];
        var dx = new double[x.Length];
        var g = new double[p.Length];
        for (int l = 0; l < s.Learners; l++)
        for (int r = 0; r < s.Rows; r++)
        {
            int row = l * s.Rows + r, w = l * s.ParamStride + s.ParamOffset, b = w + s.Out * s.In;
            for (int o = 0; o < s.Out; o++)
            {
                double z = p[b + o];
                for (int i = 0; i < s.In; i++) z += (double)p[w + o * s.In + i] * x[row * s.In + i];
                double a = s.Act switch { Activation.Tanh => Math.Tanh(z), Activation.LeakyRelu => z > 0 ? z : Act.LeakySlope * z, _ => z };
                y[row * s.Out + o] = a;
                double dz = dy[row * s.Out + o] * s.Act switch { Activation.Tanh => 1 - a * a, Activation.LeakyRelu => z > 0 ? 1 : Act.LeakySlope, _ => 1 };
                g[b + o] += dz;
                for (int i = 0; i < s.In; i++)
                {
                    g[w + o * s.In + i] += dz * x[row * s.In + i];
                    dx[row * s.In + i] += dz * p[w + o * s.In + i];
                }
            }
        }
        return (y, dx, g);
    }
}
