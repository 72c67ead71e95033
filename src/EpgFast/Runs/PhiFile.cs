using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using EpgFast.Backends;

namespace EpgFast.Runs;

/// <summary>
/// A frozen loss: the parameter vector phi (e.g. runs/NAME/best.phi, read by
/// <c>epg eval --loss</c>), with optional JSON metadata (the writer's choice: network layout,
/// epoch, fitness ...).
/// <para>File format (version 1, little-endian):</para>
/// <code>
/// offset    size  field
///  0         8    magic "EPGPHI\0\0"
///  8         4    uint32 format version (1)
/// 12         4    uint32 P: number of parameters
/// 16         4    uint32 M: metadata length in bytes (0 = none)
/// 20         M    metadata: UTF-8 JSON object
/// 20+M      4P    float32[P] phi
/// 20+M+4P   32    SHA-256 of bytes [0, 20+M+4P)
/// </code>
/// Reading in Python: <c>b = open(p, 'rb').read(); P, M = struct.unpack('&lt;II', b[12:20]);
/// phi = numpy.frombuffer(b, '&lt;f4', P, 20 + M)</c>; check
/// <c>hashlib.sha256(b[:-32]).digest() == b[-32:]</c>.
/// </summary>
public sealed record PhiFile(float[] Phi, JsonObject? Metadata)
{
    public const int Version = 1;
    private static ReadOnlySpan<byte> Magic => "EPGPHI\0\0"u8;
    private const int HeaderSize = 20;

    /// <summary>Writes <paramref name="phi"/> (and optional metadata) to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, ReadOnlySpan<float> phi, JsonObject? metadata = null) => Write(path, Magic, phi, metadata);

    /// <summary>
    /// Reads and verifies <paramref name="path"/>; when <paramref name="expectedLength"/> is given
    /// the file must hold exactly that many parameters. Bad files throw a one-line
    /// <see cref="EpgException"/> naming the file and what is wrong.
    /// </summary>
    public static PhiFile Read(string path, int? expectedLength = null)
    {
        var f = Read(path, Magic, "loss file", "an EpgFast phi file", "a best.phi written by epg train");
        if (expectedLength is int n && n != f.Phi.Length)
            throw new EpgException($"loss file {path} holds {f.Phi.Length} parameters but this loss network has {n} (different network settings?)");
        return f;
    }

    /// <summary>The container above with another 8-byte magic (other float files of the project share it).</summary>
    internal static void Write(string path, ReadOnlySpan<byte> magic, ReadOnlySpan<float> phi, JsonObject? metadata)
    {
        byte[] meta = metadata is null ? [] : Encoding.UTF8.GetBytes(metadata.ToJsonString());
        var content = new byte[HeaderSize + meta.Length + 4L * phi.Length];
        magic.CopyTo(content);
        BinaryPrimitives.WriteUInt32LittleEndian(content.AsSpan(8), Version);
        BinaryPrimitives.WriteUInt32LittleEndian(content.AsSpan(12), (uint)phi.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(content.AsSpan(16), (uint)meta.Length);
        meta.CopyTo(content, HeaderSize);
        Span<byte> data = content.AsSpan(HeaderSize + meta.Length);
        for (int i = 0; i < phi.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(data.Slice(4 * i, 4), phi[i]);
        AtomicFile.WriteAllBytes(path, Checksum.Append(content));
    }

    /// <summary>Reads and verifies a container with <paramref name="magic"/>; <paramref name="what"/> names the file kind in errors.</summary>
    internal static PhiFile Read(string path, ReadOnlySpan<byte> magic, string what, string kind, string expected)
    {
        if (Directory.Exists(path)) throw new EpgException($"{what} {path} is a directory");
        if (!File.Exists(path)) throw new EpgException($"{what} {path} does not exist");
        byte[] b = File.ReadAllBytes(path);
        if (b.Length < HeaderSize + Checksum.Size || !b.AsSpan(0, 8).SequenceEqual(magic))
            throw new EpgException(b.Length >= 8 && b.AsSpan(0, 8).SequenceEqual(magic)
                ? $"{what} {path} is truncated ({b.Length} bytes)"
                : $"{what} {path} is not {kind} (bad magic; expected {expected})");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(8));
        if (version != Version)
            throw new EpgException($"{what} {path} has format version {version}; this build reads version {Version}");
        long p = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(12));
        long m = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(16));
        long size = HeaderSize + m + 4 * p + Checksum.Size;
        if (b.Length < size) throw new EpgException($"{what} {path} is truncated ({b.Length} bytes, header says {size})");
        if (b.Length > size) throw new EpgException($"{what} {path} is corrupt ({b.Length} bytes, header says {size})");
        if (!Checksum.Verify(b)) throw new EpgException($"{what} {path} is corrupt (SHA-256 checksum mismatch)");
        JsonObject? meta = null;
        if (m > 0)
        {
            try
            {
                meta = JsonNode.Parse(Encoding.UTF8.GetString(b, HeaderSize, (int)m)) as JsonObject;
            }
            catch (System.Text.Json.JsonException)
            {
                throw new EpgException($"{what} {path} has unreadable metadata");
            }
        }
        var phi = new float[p];
        ReadOnlySpan<byte> data = b.AsSpan(HeaderSize + (int)m, (int)(4 * p));
        if (BitConverter.IsLittleEndian) data.CopyTo(MemoryMarshal.AsBytes(phi.AsSpan()));
        else for (int i = 0; i < p; i++) phi[i] = BinaryPrimitives.ReadSingleLittleEndian(data.Slice(4 * i, 4));
        return new PhiFile(phi, meta);
    }
}
