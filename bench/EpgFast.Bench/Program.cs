using BenchmarkDotNet.Running;

namespace EpgFast.Bench;

/// <summary>
/// BenchmarkDotNet suites, one class per kernel family, each with its baseline in the same run.
/// Run: dotnet pwsh ./build.ps1 bench -- --filter '*Dense*'  (exports JSON and Markdown to BenchmarkDotNet.Artifacts/).
/// </summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, new BenchConfig());
}
