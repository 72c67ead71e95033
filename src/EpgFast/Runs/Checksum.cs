using System.Security.Cryptography;

namespace EpgFast.Runs;

/// <summary>SHA-256 framing shared by the checkpoint and phi files: content followed by its 32-byte hash.</summary>
internal static class Checksum
{
    public const int Size = 32;

    /// <summary>content ++ SHA-256(content).</summary>
    public static byte[] Append(ReadOnlySpan<byte> content)
    {
        var all = new byte[content.Length + Size];
        content.CopyTo(all);
        SHA256.HashData(content, all.AsSpan(content.Length));
        return all;
    }

    /// <summary>Whether the last 32 bytes of <paramref name="file"/> are the SHA-256 of the rest.</summary>
    public static bool Verify(ReadOnlySpan<byte> file)
    {
        if (file.Length < Size) return false;
        Span<byte> hash = stackalloc byte[Size];
        SHA256.HashData(file[..^Size], hash);
        return hash.SequenceEqual(file[^Size..]);
    }
}
