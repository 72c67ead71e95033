using EpgFast.Backends;
using EpgFast.Tasks;
using EpgFast.Validation;
using EpgFast.Validation.Tasks;
using Xunit;

namespace EpgFast.Tests.Tasks;

public class TaskSelfCheckTests
{
    public static TheoryData<string> Backends => new() { "cpu", "ilgpucpu" };

    [Theory]
    [MemberData(nameof(Backends))]
    public void TaskChecksPass(string backend)
    {
        using Device device = backend == "cpu" ? new CpuDevice(2) : IlgpuDevice.CreateCpuAccelerator();
        foreach (ISelfCheck check in new ISelfCheck[] { new PointGoalCheck(), new AntTaskKernelCheck() })
        {
            var (ok, detail) = check.Run(device);
            Assert.True(ok, $"{check.Name} on {backend}: {detail}");
        }
        Assert.Contains(SelfChecks.All, c => c is PointGoalCheck);
        Assert.Contains(SelfChecks.All, c => c is AntTaskKernelCheck);
    }
}
