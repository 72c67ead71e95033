using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Validation.Networks;
using Xunit;
using Xunit.Abstractions;

namespace EpgFast.Tests.Networks;

/// <summary>
/// The RL^2 GRU policy's kernels against the float64 reference (<see cref="GruReference"/>): forward values, GAE across the
/// episodes of a trial, and the PPO-over-trials loss's gradient w.r.t. the whole parameter vector (BPTT through every
/// step) against central finite differences, on random small sizes; on the CPU launcher and ILGPU's CPU accelerator.
/// </summary>
public class GruGradientTests(ITestOutputHelper output)
{
    public static TheoryData<int> Seeds => new() { 1, 2, 3, 4 };

    private void AssertWithin(CaseResult r)
    {
        output.WriteLine(r.ToString());
        foreach (var e in r.Errors)
            Assert.True(e.MaxRelError <= GradientTests.Tolerance, $"{e.Quantity}: max rel err {e.MaxRelError:g3} > {GradientTests.Tolerance}");
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void GruPolicyMatchesFloat64OnTheCpuLauncher(int seed)
    {
        using var cpu = new CpuDevice();
        AssertWithin(GruReference.Check<CpuView<float>, CpuView<int>>(cpu, seed));
    }

    [Fact]
    public void GruPolicyMatchesFloat64OnIlgpusCpuAccelerator()
    {
        using var d = IlgpuDevice.CreateCpuAccelerator();
        AssertWithin(GruReference.Check<GpuView<float>, GpuView<int>>(d, 11));
    }
}
