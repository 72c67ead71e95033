using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Networks;
using EpgFast.Validation.Networks;
using Xunit;
using Xunit.Abstractions;

namespace EpgFast.Tests.Networks;

/// <summary>
/// Every network kernel against the float64 reference: values directly, gradients as whole vectors against
/// central finite differences, on random small sizes (one config per seed), on the CPU launcher and on ILGPU's CPU
/// accelerator (where the MLP runs the group kernels, the ILGPU devices' pass).
/// </summary>
public class GradientTests(ITestOutputHelper output)
{
    /// <summary>float32 kernels vs float64 reference: max |error| / max |reference| over each vector.</summary>
    public const double Tolerance = 1e-3;

    public static TheoryData<int> Seeds => new() { 1, 2, 3, 4, 5, 6 };

    private void AssertAll(IReadOnlyList<CaseResult> results)
    {
        foreach (var r in results) output.WriteLine(r.ToString());
        foreach (var r in results)
            foreach (var e in r.Errors)
                Assert.True(e.MaxRelError <= Tolerance, $"{r.Name} {e.Quantity}: max rel err {e.MaxRelError:g3} > {Tolerance}");
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void AllKernelsMatchFloat64OnRandomSizes(int seed)
    {
        var c = GradientChecks.RandomConfig(seed);
        output.WriteLine(c.ToString());
        using var cpu = new CpuDevice();
        AssertAll(GradientChecks.All<CpuView<float>, CpuView<int>>(cpu, c, seed));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void AllKernelsMatchFloat64OnIlgpuCpuAccelerator(int seed)
    {
        var c = GradientChecks.RandomConfig(seed);
        output.WriteLine(c.ToString());
        using var il = IlgpuDevice.CreateCpuAccelerator();
        AssertAll(GradientChecks.All<GpuView<float>, GpuView<int>>(il, c, seed));
    }
}
