using System.Security.Cryptography;
using System.Text.Json.Nodes;
using EpgFast.Backends;
using EpgFast.Runs;
using Xunit;

namespace EpgFast.Tests.Runs;

public class PhiFileTests
{
    [Fact]
    public void RoundTripWithMetadataAndDocumentedLayout()
    {
        using var tmp = new TempDir();
        float[] phi = [1.5f, -2.25f, float.Epsilon, 3e38f, 0f];
        PhiFile.Write(tmp["best.phi"], phi, new JsonObject { ["epoch"] = 12, ["loss"] = "conv1d" });
        var back = PhiFile.Read(tmp["best.phi"], expectedLength: 5);
        Assert.Equal(phi, back.Phi);
        Assert.Equal(12, (int)back.Metadata!["epoch"]!);

        // the layout the doc comment promises (what a Python reader relies on)
        byte[] b = File.ReadAllBytes(tmp["best.phi"]);
        Assert.Equal("EPGPHI\0\0"u8.ToArray(), b[..8]);
        Assert.Equal(1u, BitConverter.ToUInt32(b, 8));
        Assert.Equal(5u, BitConverter.ToUInt32(b, 12));
        int m = (int)BitConverter.ToUInt32(b, 16);
        Assert.Equal(20 + m + 4 * 5 + 32, b.Length);
        Assert.Equal(-2.25f, BitConverter.ToSingle(b, 20 + m + 4));
        Assert.Equal(SHA256.HashData(b[..^32]), b[^32..]);

        PhiFile.Write(tmp["plain.phi"], phi);
        Assert.Null(PhiFile.Read(tmp["plain.phi"]).Metadata);
    }

    [Fact]
    public void BadFilesAreRefusedClearly()
    {
        using var tmp = new TempDir();
        string path = tmp["best.phi"];
        PhiFile.Write(path, new float[100]);
        byte[] good = File.ReadAllBytes(path);

        Assert.Contains("holds 100 parameters but this loss network has 99",
            Assert.Throws<EpgException>(() => PhiFile.Read(path, expectedLength: 99)).Message);
        File.WriteAllBytes(path, good[..(good.Length - 1)]);
        Assert.Contains("truncated", Assert.Throws<EpgException>(() => PhiFile.Read(path)).Message);
        byte[] bad = (byte[])good.Clone();
        bad[100] ^= 1;
        File.WriteAllBytes(path, bad);
        Assert.Contains("checksum", Assert.Throws<EpgException>(() => PhiFile.Read(path)).Message);
        File.WriteAllText(path, "this is a text file, not a loss, padded to be long enough to be mistaken");
        Assert.Contains("not an EpgFast phi file", Assert.Throws<EpgException>(() => PhiFile.Read(path)).Message);
        Assert.Contains("does not exist", Assert.Throws<EpgException>(() => PhiFile.Read(tmp["nope.phi"])).Message);
    }
}
