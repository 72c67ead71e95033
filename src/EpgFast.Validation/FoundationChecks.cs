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

