using System.Diagnostics;
using System.Text;
using EpgFast.MuJoCo;
using Xunit;

namespace EpgFast.Tests.MuJoCo;

/// <summary>
/// The bindings read struct fields at fixed byte offsets (<see cref="MjLayout"/>). This test
/// compiles an offsetof/sizeof probe for every one of them against the machine's MuJoCo headers
/// (/usr/include/mujoco, package libmujoco-dev) with gcc (installed by `build.ps1 deps`) and
/// compares, so a wrong offset cannot pass silently.
/// </summary>
public class OffsetsTests
{
    [Fact]
    public void EveryOffsetMatchesTheInstalledHeaders()
    {
        Assert.True(File.Exists("/usr/include/mujoco/mujoco.h"), "MuJoCo headers missing: apt-get install libmujoco-dev");
        var src = new StringBuilder();
        src.AppendLine("#include <stdio.h>\n#include <stddef.h>\n#include <mujoco/mujoco.h>\nint main(void) {");
        src.AppendLine("  printf(\"version %d\\n\", mjVERSION_HEADER);");
        foreach (var (s, f, _) in MjLayout.All)
        {
            string expr = f.Length == 0 ? $"sizeof({s})" : $"offsetof({s}, {f})";
            src.AppendLine($"  printf(\"{s}.{f} %zu\\n\", (size_t){expr});");
        }
        src.AppendLine("  return 0;\n}");

        string dir = Directory.CreateTempSubdirectory("epg-offsets").FullName;
        try
        {
            string c = Path.Combine(dir, "probe.c"), exe = Path.Combine(dir, "probe");
            File.WriteAllText(c, src.ToString());
            var (cc, ccOut) = Run("gcc", $"-I/usr/include -o {exe} {c}");
            Assert.True(cc == 0, $"gcc failed (is gcc installed? build.ps1 deps installs it): {ccOut}");
            var (rc, output) = Run(exe, "");
            Assert.Equal(0, rc);
            var found = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split(' '))
                .ToDictionary(p => p[0], p => int.Parse(p[1]));
            Assert.Equal(MjLayout.Version, found["version"]);
            var mismatches = MjLayout.All
                .Where(e => found[$"{e.Struct}.{e.Field}"] != e.Offset)
                .Select(e => $"{e.Struct}.{(e.Field.Length == 0 ? "sizeof" : e.Field)}: bindings {e.Offset}, header {found[$"{e.Struct}.{e.Field}"]}")
                .ToList();
            Assert.True(mismatches.Count == 0, string.Join("; ", mismatches));
            Assert.True(MjLayout.All.Count >= 50);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static (int Code, string Output) Run(string file, string args)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        string o = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, o);
    }
}
