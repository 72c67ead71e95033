using System.Text.Json.Nodes;
using Xunit;

namespace EpgFast.Tests.Cli;

/// <summary>Runs `epg` verbs in-process, capturing stdout and stderr.</summary>
public static class EpgRunner
{
    private static readonly object Gate = new();

    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        lock (Gate)
        {
            var (oldOut, oldErr) = (Console.Out, Console.Error);
            var (o, e) = (new StringWriter(), new StringWriter());
            Console.SetOut(o);
            Console.SetError(e);
            try
            {
                int code = EpgFast.Cli.Program.Main(args);
                return (code, o.ToString(), e.ToString());
            }
            finally
            {
                Console.SetOut(oldOut);
                Console.SetError(oldErr);
            }
        }
    }
}

[Collection("cli")]
public class CliTests
{
    [Fact]
    public void InfoJsonIsOneDocumentAndReportsNoGpu()
    {
        var (code, stdout, _) = EpgRunner.Run("info", "--json");
        Assert.Equal(0, code);
        var doc = JsonNode.Parse(stdout)!;
        Assert.NotNull(doc["cuda_devices"]);
        Assert.Equal("1.5.3.0", (string?)doc["ilgpu_version"]);
    }

    [Fact]
    public void SelfcheckPassesOnCpuAndIlgpuCpu()
    {
        foreach (var backend in new[] { "cpu", "ilgpucpu" })
        {
            var (code, stdout, _) = EpgRunner.Run("selfcheck", "--backend", backend, "--json", "--filter", "rng");
            Assert.Equal(0, code);
            Assert.True((bool)JsonNode.Parse(stdout)!["pass"]!);
        }
    }

    [Theory]
    [InlineData("nonsense-verb")]
    [InlineData("info", "--no-such-option")]
    [InlineData("selfcheck", "--backend", "tpu")]
    public void BadArgumentsAreOneLineAndExitTwo(params string[] args)
    {
        var (code, stdout, stderr) = EpgRunner.Run(args);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public void HelpExitsZero()
    {
        var (code, stdout, _) = EpgRunner.Run("selfcheck", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--backend", stdout);
    }

    [Fact]
    public void CudaWithoutDeviceIsAClearError()
    {
        if (EpgFast.Backends.DeviceFactory.ProbeCuda().Count > 0) return; // a GPU machine: nothing to refuse
        var (code, _, stderr) = EpgRunner.Run("selfcheck", "--backend", "cuda");
        Assert.Equal(1, code);
        Assert.Contains("no CUDA device", stderr);
    }
}
