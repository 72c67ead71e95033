using System.Runtime.InteropServices;

namespace EpgFast.Evolution;

/// <summary>
/// Everything the outer loop carries from one epoch to the next; together with the
/// <see cref="EsConfig"/> it determines every later epoch bit for bit (the noise is a pure
/// function of (seed, epoch, member)). Treated as immutable: <see cref="EvolutionStrategy.Tell(EsState, ReadOnlySpan{double})"/>
/// and <see cref="OfferBest"/> return new states and never write into an existing one's arrays.
/// </summary>
public sealed class EsState
{
    /// <summary>Epochs completed; the epoch the next Ask samples for (0-based).</summary>
    public required int Epoch { get; init; }

    /// <summary>The noise seed (copied from the config at start; checked on Ask and Tell).</summary>
    public required ulong Seed { get; init; }

    /// <summary>Current loss parameters. phi: (P)</summary>
    public required float[] Phi { get; init; }

    /// <summary>Adam first moment (stays zero with beta1 = 0). m: (P)</summary>
    public required float[] AdamM { get; init; }

    /// <summary>Adam second moment. v: (P)</summary>
    public required float[] AdamV { get; init; }

    /// <summary>Adam steps taken (the bias-correction t).</summary>
    public required long AdamStep { get; init; }

    /// <summary>The best phi offered so far (the initial phi until something is offered). (P)</summary>
    public required float[] BestPhi { get; init; }

    /// <summary>The score of <see cref="BestPhi"/>; -infinity until something is offered.</summary>
    public required double BestFitness { get; init; }

    /// <summary>The epoch <see cref="BestPhi"/> was offered for; -1 until something is offered.</summary>
    public required int BestEpoch { get; init; }

    /// <summary>P: the number of loss parameters.</summary>
    public int ParameterCount => Phi.Length;

    /// <summary>The state before epoch 0: phi = <paramref name="phi0"/>, Adam moments zero.</summary>
    public static EsState Initial(EsConfig config, ReadOnlySpan<float> phi0) => new()
    {
        Epoch = 0,
        Seed = config.Seed,
        Phi = phi0.ToArray(),
        AdamM = new float[phi0.Length],
        AdamV = new float[phi0.Length],
        AdamStep = 0,
        BestPhi = phi0.ToArray(),
        BestFitness = double.NegativeInfinity,
        BestEpoch = -1,
    };

    /// <summary>
    /// Offers <paramref name="phi"/> with its <paramref name="fitness"/> (e.g. the test return of
    /// the current phi on fresh tasks, or the population's mean fitness for the phi that produced
    /// it): returns a state that keeps it as best when the fitness is finite and strictly higher,
    /// else this state.
    /// </summary>
    public EsState OfferBest(ReadOnlySpan<float> phi, double fitness, int epoch)
    {
        if (phi.Length != Phi.Length) throw new ArgumentException($"phi has {phi.Length} entries, state {Phi.Length}");
        if (!double.IsFinite(fitness) || !(fitness > BestFitness)) return this;
        return With(bestPhi: phi.ToArray(), bestFitness: fitness, bestEpoch: epoch);
    }

    /// <summary>Whether <see cref="BestEpoch"/> changed between <paramref name="before"/> and this state.</summary>
    public bool BestImprovedSince(EsState before) =>
        BestEpoch != before.BestEpoch || BestFitness != before.BestFitness;

    /// <summary>A copy with the given fields replaced (arrays are shared, not copied).</summary>
    public EsState With(int? epoch = null, float[]? phi = null, float[]? m = null, float[]? v = null,
        long? adamStep = null, float[]? bestPhi = null, double? bestFitness = null, int? bestEpoch = null) => new()
    {
        Epoch = epoch ?? Epoch,
        Seed = Seed,
        Phi = phi ?? Phi,
        AdamM = m ?? AdamM,
        AdamV = v ?? AdamV,
        AdamStep = adamStep ?? AdamStep,
        BestPhi = bestPhi ?? BestPhi,
        BestFitness = bestFitness ?? BestFitness,
        BestEpoch = bestEpoch ?? BestEpoch,
    };

    /// <summary>True when every field, every float bit included, equals <paramref name="other"/>'s.</summary>
    public bool BitEquals(EsState other) =>
        Epoch == other.Epoch && Seed == other.Seed && AdamStep == other.AdamStep && BestEpoch == other.BestEpoch
        && BitConverter.DoubleToInt64Bits(BestFitness) == BitConverter.DoubleToInt64Bits(other.BestFitness)
        && Bits(Phi).SequenceEqual(Bits(other.Phi)) && Bits(AdamM).SequenceEqual(Bits(other.AdamM))
        && Bits(AdamV).SequenceEqual(Bits(other.AdamV)) && Bits(BestPhi).SequenceEqual(Bits(other.BestPhi));

    private static ReadOnlySpan<byte> Bits(float[] a) => MemoryMarshal.AsBytes(a.AsSpan());

    /// <summary>
    /// Serializes the state (little-endian): int32 epoch, int64 Adam step, uint64 seed,
    /// int32 P, float32[P] phi, float32[P] m, float32[P] v, float32[P] best phi,
    /// float64 best fitness, int32 best epoch.
    /// </summary>
    public void WriteTo(BinaryWriter w)
    {
        w.Write(Epoch);
        w.Write(AdamStep);
        w.Write(Seed);
        w.Write(Phi.Length);
        WriteFloats(w, Phi);
        WriteFloats(w, AdamM);
        WriteFloats(w, AdamV);
        WriteFloats(w, BestPhi);
        w.Write(BestFitness);
        w.Write(BestEpoch);
    }

    /// <summary>Reads what <see cref="WriteTo"/> wrote; throws <see cref="InvalidDataException"/> on nonsense.</summary>
    public static EsState ReadFrom(BinaryReader r)
    {
        int epoch = r.ReadInt32();
        long step = r.ReadInt64();
        ulong seed = r.ReadUInt64();
        int p = r.ReadInt32();
        long remaining = r.BaseStream.CanSeek ? r.BaseStream.Length - r.BaseStream.Position : long.MaxValue;
        if (epoch < 0 || step < 0 || p < 0 || 16L * p > remaining)
            throw new InvalidDataException($"ES state header is invalid (epoch {epoch}, Adam step {step}, P {p})");
        var phi = ReadFloats(r, p);
        var m = ReadFloats(r, p);
        var v = ReadFloats(r, p);
        var best = ReadFloats(r, p);
        double bestFitness = r.ReadDouble();
        int bestEpoch = r.ReadInt32();
        return new EsState
        {
            Epoch = epoch, AdamStep = step, Seed = seed, Phi = phi, AdamM = m, AdamV = v,
            BestPhi = best, BestFitness = bestFitness, BestEpoch = bestEpoch,
        };
    }

    internal static void WriteFloats(BinaryWriter w, ReadOnlySpan<float> a)
    {
        if (BitConverter.IsLittleEndian)
            w.Write(MemoryMarshal.AsBytes(a));
        else
            foreach (float x in a) w.Write(x);
    }

    internal static float[] ReadFloats(BinaryReader r, int count)
    {
        var a = new float[count];
        if (BitConverter.IsLittleEndian)
        {
            var bytes = MemoryMarshal.AsBytes(a.AsSpan());
            int got = r.Read(bytes);
            while (got < bytes.Length)
            {
                int more = r.Read(bytes[got..]);
                if (more == 0) throw new EndOfStreamException("unexpected end of data while reading floats");
                got += more;
            }
        }
        else
        {
            for (int i = 0; i < count; i++) a[i] = r.ReadSingle();
        }
        return a;
    }
}
