using System.Runtime.CompilerServices;

namespace EpgFast.Kernels.Random;

/// <summary>Four 32-bit words: a Philox counter or output block.</summary>
public struct UInt4
{
    public uint X, Y, Z, W;

    public UInt4(uint x, uint y, uint z, uint w)
    {
        X = x; Y = y; Z = z; W = w;
    }

    public readonly uint this[int i] => i switch { 0 => X, 1 => Y, 2 => Z, _ => W };
}

/// <summary>
/// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a
/// counter-based generator, so any number is a pure function of (key, counter) and every kernel
/// thread can draw its own numbers without state. EpgFast keys it as
/// key = seed (64 bits), counter = (counter low, counter high, stream low, stream high), where
/// stream names the consumer (for example epoch and member) and counter the position in it.
/// </summary>
public static class Philox
{
    private const uint M0 = 0xD2511F53u;
    private const uint M1 = 0xCD9E8D57u;
    private const uint W0 = 0x9E3779B9u;
    private const uint W1 = 0xBB67AE85u;

    /// <summary>The raw Philox4x32-10 block for counter <paramref name="c"/> and key (k0, k1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static UInt4 Block(UInt4 c, uint k0, uint k1)
    {
        for (int round = 0; round < 10; round++)
        {
            if (round > 0)
            {
                k0 += W0;
                k1 += W1;
            }
            ulong p0 = (ulong)M0 * c.X;
            ulong p1 = (ulong)M1 * c.Z;
            uint hi0 = (uint)(p0 >> 32), lo0 = (uint)p0;
            uint hi1 = (uint)(p1 >> 32), lo1 = (uint)p1;
            c = new UInt4(hi1 ^ c.Y ^ k0, lo1, hi0 ^ c.W ^ k1, lo0);
        }
        return c;
    }

    /// <summary>Four random words for (seed, stream, counter).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static UInt4 Draw(ulong seed, ulong stream, ulong counter)
        => Block(new UInt4((uint)counter, (uint)(counter >> 32), (uint)stream, (uint)(stream >> 32)),
                 (uint)seed, (uint)(seed >> 32));

    /// <summary>A uniform float in [0, 1) from the top 24 bits of <paramref name="bits"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Uniform(uint bits) => (bits >> 8) * (1.0f / 16777216.0f);

    /// <summary>A uniform float in (0, 1] (safe for a logarithm).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float UniformOpenZero(uint bits) => ((bits >> 8) + 1) * (1.0f / 16777216.0f);

    /// <summary>
    /// One standard normal from two words (Box-Muller, cosine branch). Returns the sine branch's
    /// value in <paramref name="second"/>, so one block gives four normals with two calls.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Normal(uint a, uint b, out float second)
    {
        float r = MathF.Sqrt(-2.0f * MathF.Log(UniformOpenZero(a)));
        float theta = 6.28318530717958647692f * Uniform(b);
        second = r * MathF.Sin(theta);
        return r * MathF.Cos(theta);
    }

    /// <summary>
    /// Standard normal number <paramref name="index"/> of the sequence (seed, stream): normals
    /// 4j..4j+3 come from block j. Convenient for filling vectors element by element.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float NormalAt(ulong seed, ulong stream, ulong index)
    {
        UInt4 b = Draw(seed, stream, index >> 2);
        int lane = (int)(index & 3);
        // only the branch asked for: the same operations as Normal's for that value, so the same bits
        uint u = lane < 2 ? b.X : b.Z, v = lane < 2 ? b.Y : b.W;
        float r = MathF.Sqrt(-2.0f * MathF.Log(UniformOpenZero(u)));
        float theta = 6.28318530717958647692f * Uniform(v);
        return r * ((lane & 1) == 0 ? MathF.Cos(theta) : MathF.Sin(theta));
    }

    /// <summary>Uniform number <paramref name="index"/> in [0, 1) of the sequence (seed, stream).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float UniformAt(ulong seed, ulong stream, ulong index)
    {
        UInt4 b = Draw(seed, stream, index >> 2);
        return Uniform(b[(int)(index & 3)]);
    }

    /// <summary>
    /// The stream of learner <paramref name="l"/> of a batch: kind, epoch and learner id
    /// learnerBase + l, or (learnerBase + l) mod <paramref name="period"/> when period &gt; 0, so
    /// learners period apart share their random numbers (common random numbers: the ES members of
    /// an epoch then differ only by their loss, not by their luck).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong LearnerStream(uint kind, uint epoch, int learnerBase, int l, int period)
    {
        int id = learnerBase + l;
        if (period > 0) id %= period;
        return Stream(kind, epoch, (uint)id);
    }

    /// <summary>
    /// A 64-bit stream number: bits 56-63 the consumer <paramref name="kind"/> (see
    /// <see cref="RandomStreams"/>), bits 32-55 <paramref name="a"/> (e.g. the epoch, below 2^24),
    /// bits 0-31 <paramref name="b"/> (e.g. the member or learner). Distinct inputs never collide.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Stream(uint kind, uint a, uint b = 0)
        => ((ulong)(kind & 0xFF) << 56) | ((ulong)(a & 0xFFFFFF) << 32) | b;
}
