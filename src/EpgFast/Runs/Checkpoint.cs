using System.Buffers.Binary;
using System.Text;
using EpgFast.Backends;
using EpgFast.Evolution;

namespace EpgFast.Runs;

/// <summary>
/// One resumable snapshot of a training run: the whole <see cref="EsState"/> plus opaque bytes
/// the caller wants back on resume (<see cref="Extra"/>; e.g. learner-batch counters; empty
/// when everything is counter-based and seed + epoch suffice).
/// <para>File format (version 1, little-endian):</para>
/// <code>
/// offset  size  field
///  0       8    magic "EPGCKPT\0"
///  8       4    uint32 format version (1)
/// 12       4    uint32 reserved (0)
/// 16       8    int64 payload length L
/// 24       L    payload: EsState (int32 epoch, int64 Adam step, uint64 seed, int32 P,
///               float32[P] phi, float32[P] m, float32[P] v, float32[P] best phi,
///               float64 best fitness, int32 best epoch), then int32 E and E extra bytes
/// 24+L    32    SHA-256 of bytes [0, 24+L)
/// </code>
/// A file that is truncated, too long, has the wrong magic or version, or fails the checksum
/// is refused with a one-line <see cref="EpgException"/> naming the file.
/// </summary>
public sealed record Checkpoint(EsState State, byte[] Extra)
{
    public const int Version = 1;
    private static ReadOnlySpan<byte> Magic => "EPGCKPT\0"u8;
    private const int HeaderSize = 24;

    public Checkpoint(EsState state) : this(state, []) { }

    /// <summary>The file's bytes.</summary>
    public byte[] ToBytes()
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write((uint)Version);
            w.Write(0u);
            w.Write(0L); // payload length, patched below
            State.WriteTo(w);
            w.Write(Extra.Length);
            w.Write(Extra);
        }
        byte[] content = ms.ToArray();
        BinaryPrimitives.WriteInt64LittleEndian(content.AsSpan(16), content.Length - HeaderSize);
        return Checksum.Append(content);
    }

    /// <summary>Writes the checkpoint to <paramref name="path"/> atomically (temp file, fsync, rename).</summary>
    public void Write(string path) => AtomicFile.WriteAllBytes(path, ToBytes());

    /// <summary>Reads and verifies <paramref name="path"/>; throws a one-line <see cref="EpgException"/> if it is bad.</summary>
    public static Checkpoint Read(string path)
    {
        if (!File.Exists(path)) throw new EpgException($"checkpoint {path} does not exist");
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException e)
        {
            throw new EpgException($"checkpoint {path} cannot be read: {e.Message}");
        }
        return Parse(bytes, path);
    }

    /// <summary>Parses and verifies checkpoint bytes (<paramref name="name"/> is used in errors).</summary>
    public static Checkpoint Parse(byte[] bytes, string name)
    {
        if (bytes.Length < HeaderSize + Checksum.Size)
            throw new EpgException($"checkpoint {name} is truncated ({bytes.Length} bytes)");
        if (!bytes.AsSpan(0, 8).SequenceEqual(Magic))
            throw new EpgException($"checkpoint {name} is not an EpgFast checkpoint (bad magic)");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        if (version != Version)
            throw new EpgException($"checkpoint {name} has format version {version}; this build reads version {Version}");
        long payload = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(16));
        long expected = HeaderSize + payload + Checksum.Size;
        if (payload < 0 || bytes.Length < expected)
            throw new EpgException($"checkpoint {name} is truncated ({bytes.Length} bytes, header says {expected})");
        if (bytes.Length > expected)
            throw new EpgException($"checkpoint {name} is corrupt ({bytes.Length} bytes, header says {expected})");
        if (!Checksum.Verify(bytes))
            throw new EpgException($"checkpoint {name} is corrupt (SHA-256 checksum mismatch)");
        try
        {
            using var ms = new MemoryStream(bytes, HeaderSize, (int)payload);
            using var r = new BinaryReader(ms);
            EsState state = EsState.ReadFrom(r);
            int extraLength = r.ReadInt32();
            if (extraLength < 0 || extraLength != ms.Length - ms.Position)
                throw new InvalidDataException($"extra length {extraLength} does not match the payload");
            return new Checkpoint(state, r.ReadBytes(extraLength));
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            throw new EpgException($"checkpoint {name} is corrupt ({e.Message})");
        }
    }

    /// <summary>Whether <paramref name="other"/> holds the same state (bit for bit) and extra bytes.</summary>
    public bool BitEquals(Checkpoint other) => State.BitEquals(other.State) && Extra.AsSpan().SequenceEqual(other.Extra);
}
