using EpgFast.Kernels.Random;

namespace EpgFast.Evolution;

/// <summary>
/// The ES noise, regenerated on demand and never stored: entry j of noise vector k in epoch e is
/// <c>Philox.NormalAt(seed, Philox.Stream(RandomStreams.EsNoise, e, k), j)</c>. With antithetic
/// pairs member 2k uses +eps_k and member 2k+1 uses -eps_k; otherwise member i uses eps_i.
/// Filling block by block gives exactly the numbers NormalAt gives (same operations), four
/// normals per Philox block instead of one.
/// </summary>
public static class EsNoise
{
    /// <summary>The noise vector member <paramref name="member"/> uses.</summary>
    public static int NoiseIndex(int member, bool antithetic) => antithetic ? member >> 1 : member;

    /// <summary>+1 or -1: the sign with which member <paramref name="member"/> uses its noise vector.</summary>
    public static float Sign(int member, bool antithetic) => antithetic && (member & 1) == 1 ? -1f : 1f;

    /// <summary>The Philox stream of noise vector <paramref name="noiseIndex"/> in <paramref name="epoch"/>.</summary>
    public static ulong Stream(int epoch, int noiseIndex) =>
        Philox.Stream(RandomStreams.EsNoise, (uint)epoch, (uint)noiseIndex);

    /// <summary>
    /// Writes entries [offset, offset + eps.Length) of noise vector <paramref name="noiseIndex"/>
    /// of <paramref name="epoch"/> into <paramref name="eps"/>.
    /// </summary>
    public static void Fill(ulong seed, int epoch, int noiseIndex, long offset, Span<float> eps)
    {
        ulong stream = Stream(epoch, noiseIndex);
        int n = eps.Length;
        int j = 0;
        // Leading entries up to a multiple of 4 (only when offset is not aligned).
        while (j < n && ((offset + j) & 3) != 0)
        {
            eps[j] = Philox.NormalAt(seed, stream, (ulong)(offset + j));
            j++;
        }
        // Whole blocks: normals 4b..4b+3 come from Philox block b.
        for (; j + 4 <= n; j += 4)
        {
            UInt4 b = Philox.Draw(seed, stream, (ulong)(offset + j) >> 2);
            eps[j] = Philox.Normal(b.X, b.Y, out float n1);
            eps[j + 1] = n1;
            eps[j + 2] = Philox.Normal(b.Z, b.W, out float n3);
            eps[j + 3] = n3;
        }
        for (; j < n; j++)
            eps[j] = Philox.NormalAt(seed, stream, (ulong)(offset + j));
    }

    /// <summary>The whole noise vector (length <paramref name="length"/>) of <paramref name="noiseIndex"/>.</summary>
    internal static float[] Vector(ulong seed, int epoch, int noiseIndex, int length)
    {
        var eps = new float[length];
        Fill(seed, epoch, noiseIndex, 0, eps);
        return eps;
    }
}
