using EpgFast.Backends;
using Xunit;

namespace EpgFast.Tests.Kernels;

/// <summary>A fact that runs only where NVIDIA's ptxas is found (`dotnet pwsh ./build.ps1 ptxas` or `deps` as root); skipped with the reason otherwise.</summary>
public sealed class PtxasFactAttribute : FactAttribute
{
    public PtxasFactAttribute()
    {
        if (Ptxas.Find() is null) Skip = Ptxas.NotFoundReason();
    }
}

/// <summary>Every kernel assembled by ptxas for sm_90 once per test class (about 6 s on 2 cores).</summary>
public sealed class PtxasFixture
{
    private readonly Lazy<IReadOnlyList<PtxKernelRow>> _rows = new(() => PtxReport.Build(Ptxas.Find()!));

    public IReadOnlyList<PtxKernelRow> Rows => _rows.Value;
}

public class PtxasTests(PtxasFixture fixture) : IClassFixture<PtxasFixture>
{
    [PtxasFact]
    public void EveryKernelAssemblesForSm90()
    {
        var kernels = PtxCompiler.AllGpuKernelTypes();
        Assert.Equal(kernels, fixture.Rows.Select(r => r.Kernel));
        Assert.All(fixture.Rows, r => Assert.InRange(r.Info.Registers, 1, 255));
    }

    [PtxasFact]
    public void LearnerStepKernelsDoNotSpill()
    {
        var step = fixture.Rows.Where(r => r.InLearnerStep).ToList();
        // the list names real kernels: each learner-step name is one of the assembled kernels
        Assert.Equal(PtxReport.LearnerStepKernels.Order(StringComparer.Ordinal), step.Select(r => r.Name).Distinct().Order(StringComparer.Ordinal));
        Assert.All(step, r => Assert.True(r.Info.SpillBytes == 0, $"{r.Name} spills {r.Info.SpillStoreBytes} bytes stored, {r.Info.SpillLoadBytes} loaded"));
    }

    [PtxasFact]
    public void GroupKernelsFitTheDeviceAtTheDefaultSizes()
    {
        var groups = fixture.Rows.Where(r => r.IsGroup).ToList();
        Assert.Equal(3, groups.Count);
        Assert.All(groups, r =>
        {
            Assert.True(r.DynamicSharedBytes > 0, r.Name);
            Assert.True(r.SharedBytes <= IlgpuDevice.SharedBytesWithoutOptIn, $"{r.Name}: {r.SharedBytes} bytes of shared memory per group > {IlgpuDevice.SharedBytesWithoutOptIn}");
            Assert.True(r.GroupsPerSm >= 1, $"{r.Name}: no group fits an SM");
        });
    }
}

/// <summary>The parts that need no ptxas: reading its -v output and the H100 occupancy arithmetic.</summary>
public class PtxasParsingTests
{
    [Fact]
    public void ParsesPtxasVerboseOutput()
    {
        const string log = """
            ptxas info    : 0 bytes gmem
            ptxas info    : Compiling entry function 'Kernel_Run' for 'sm_90'
            ptxas info    : Function properties for Kernel_Run
                16 bytes stack frame, 8 bytes spill stores, 12 bytes spill loads
            ptxas info    : Used 80 registers, 1024 bytes smem, 528 bytes cmem[0]
            """;
        var info = Ptxas.Parse(log);
        Assert.Equal((80, 8, 12, 16, 1024), (info.Registers, info.SpillStoreBytes, info.SpillLoadBytes, info.StackBytes, info.StaticSharedBytes));
        Assert.Equal(20, info.SpillBytes);
        Assert.Throws<EpgException>(() => Ptxas.Parse("ptxas fatal   : Unresolved extern function"));
    }

    [Fact]
    public void H100OccupancyLimits()
    {
        // 80 registers: 2560 per warp, 6 warps per partition, 24 per SM: one 768-thread group (37.5%)
        Assert.Equal((1, 0.375, "registers"), H100Occupancy.Of(80, 768, 0));
        Assert.Equal((768, 1, 0.375, "registers"), H100Occupancy.BestGroup(80, 0));
        // 32 registers: the 64-warp limit, two 1024-thread groups
        Assert.Equal((1024, 2, 1.0, "warps"), H100Occupancy.BestGroup(32, 0));
        // 45 KB of shared memory + 1 KB reserved: 5 groups of 256 threads (40 warps)
        Assert.Equal((5, 0.625, "shared"), H100Occupancy.Of(32, 256, 45408));
        // tiny groups: the 32-groups limit
        Assert.Equal((32, 0.5, "groups"), H100Occupancy.Of(16, 32, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => H100Occupancy.Of(32, 2048, 0));
    }
}

/// <summary>The paper model of the learner step (bench/RESULTS.md) covers the same kernels as the ptxas table's learner step.</summary>
public class StepModelTests
{
    [Fact]
    public void ModelCoversTheLearnerStepKernels()
    {
        var sizes = PtxReport.DefaultLaunchSizes();
        var physics = new EpgFast.Benchmarks.PhysicsCounts(8000, 2000, 6580, 1200, 7, 10, 1, 15, 14, 8);
        var kernels = EpgFast.Benchmarks.StepModel.Kernels(sizes.Config, 16, physics);
        Assert.Equal(PtxReport.LearnerStepKernels.Order(StringComparer.Ordinal),
            kernels.Select(k => k.Kernel).Where(k => k.Length > 0).Distinct().Order(StringComparer.Ordinal));
        // every step: 8 launches of acting (one policy group forward) and the env step; the update's launches amortized over M = 64 steps
        Assert.Equal(8 + 23.0 / 64, kernels.Sum(k => k.CallsPerStep), 9);
        Assert.All(kernels, k => Assert.True(k.Bytes > 0, k.Name));
    }

    [Fact]
    public void FillAndLatencyBoundsApply()
    {
        var k = new EpgFast.Benchmarks.ModelKernel("k", "k", 1, 1, Flops: 0, Bytes: 4, Note: "");
        // 67,584 threads fill the device: 4 bytes each at 3 TB/s
        var (full, bound) = EpgFast.Benchmarks.StepModel.LaunchTime(k, 67584, 1);
        Assert.Equal(67584 * 4 / 3e12, full, 15);
        Assert.Equal("bytes", bound);
        // a quarter of them take as long (a quarter of the device's throughput)
        Assert.Equal(full, EpgFast.Benchmarks.StepModel.LaunchTime(k, 67584 / 4, 1).Seconds, 15);
        var serial = k with { SerialAccesses = 1000 };
        var (t, b) = EpgFast.Benchmarks.StepModel.LaunchTime(serial, 1024, 1);
        Assert.StartsWith("latency", b);
        Assert.Equal(1000 * 33 / (2 * EpgFast.Benchmarks.StepModel.ClockHz), t, 12);
    }
}
