using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace EpgFast.Bench;

/// <summary>A benchmark class that knows how many floating-point operations one call of a method does.</summary>
public interface IFlopCounted
{
    /// <summary>Flops of one call of <paramref name="method"/> with the current parameter values.</summary>
    long FlopsPerCall(string method);
}

/// <summary>
/// Prints achieved GFLOP/s per benchmark: a fresh instance of the class gets the case's [Params] values and
/// reports the flops of one call (counted from the shapes: 2 per multiply-add), divided by the mean time.
/// </summary>
public sealed class GflopsColumn : IColumn
{
    public string Id => "GFLOPs";
    public string ColumnName => "GFLOP/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Achieved floating-point operations per second (flops counted from the shapes, 2 per multiply-add)";

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var stats = summary[benchmarkCase]?.ResultStatistics;
        if (stats is null || Activator.CreateInstance(benchmarkCase.Descriptor.Type) is not IFlopCounted counted) return "-";
        foreach (var p in benchmarkCase.Parameters.Items)
            benchmarkCase.Descriptor.Type.GetField(p.Name)?.SetValue(counted, p.Value);
        long flops = counted.FlopsPerCall(benchmarkCase.Descriptor.WorkloadMethod.Name);
        return (flops / stats.Mean).ToString("F2"); // flops per ns = GFLOP/s
    }
}

/// <summary>Adds the GFLOP/s column and groups baselines by category.</summary>
public sealed class NetworkBenchConfig : ManualConfig
{
    public NetworkBenchConfig()
    {
        AddColumn(new GflopsColumn());
        AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams);
    }
}
