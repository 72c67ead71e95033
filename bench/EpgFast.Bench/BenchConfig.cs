using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Jobs;

namespace EpgFast.Bench;

/// <summary>Short runs (the machine has 2 cores), JSON and GitHub Markdown exports.</summary>
public sealed class BenchConfig : ManualConfig
{
    public BenchConfig()
    {
        AddJob(Job.ShortRun.WithWarmupCount(2).WithIterationCount(5));
        AddExporter(JsonExporter.Full, MarkdownExporter.GitHub);
        AddLogger(DefaultConfig.Instance.GetLoggers().ToArray());
        AddColumnProvider(DefaultConfig.Instance.GetColumnProviders().ToArray());
        WithOptions(ConfigOptions.DisableOptimizationsValidator);
    }
}
