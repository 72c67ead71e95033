using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Networks;
using EpgFast.Validation.Networks;
using Xunit;
using Xunit.Abstractions;

namespace EpgFast.Tests.Networks;

/// <summary>Initialization as the released code does it, and the CPU launcher against ILGPU's CPU accelerator.</summary>
public class InitAndDeviceTests(ITestOutputHelper output)
{
    [Fact]
    public void LearnerInitIsReleasedColumnNormalizedAndIndependentOfBatch()
    {
        var c = new NetworkConfig(5, 2) { Hidden1 = 7, Hidden2 = 6, ValueHidden1 = 4, ValueHidden2 = 3, MemoryUnits = 3, MemoryInputs = 8 };
        var lay = new LearnerLayout(c);
        using var d = new CpuDevice();
        using var p = d.Allocate<float>(3 * lay.Stride);
        using var q = d.Allocate<float>(1 * lay.Stride);
        p.CopyFrom(Enumerable.Repeat(9f, 3 * lay.Stride).ToArray()); // init must clear it
        LearnerInit.Initialize<CpuView<float>>(d, lay, 3, p, 42, 7, 10);
        LearnerInit.Initialize<CpuView<float>>(d, lay, 1, q, 42, 7, 12); // learner 12 alone
        var a = p.ToArray();
        var b = q.ToArray();
        Assert.Equal(a.AsSpan(2 * lay.Stride, lay.Stride).ToArray(), b);
        Assert.NotEqual(a.AsSpan(0, lay.Stride).ToArray(), b);
        void Columns(int l, int w, int outs, int ins, double norm)
        {
            for (int j = 0; j < ins; j++)
            {
                double s = 0;
                for (int o = 0; o < outs; o++) s += Math.Pow(a[l * lay.Stride + w + o * ins + j], 2);
                Assert.Equal(norm, Math.Sqrt(s), 5);
            }
        }
        for (int l = 0; l < 3; l++)
        {
            Columns(l, lay.PolicyW1, 7, 5, 1);
            Columns(l, lay.PolicyW2, 6, 7, 1);
            Columns(l, lay.PolicyW3, 2, 6, 0.01);
            Columns(l, lay.ValueW1, 4, 5, 1);
            Columns(l, lay.ValueW3, 1, 3, 0.01);
            Columns(l, lay.MemoryW, 3, 8, 0.01);
            foreach (var (off, n) in new[] { (lay.PolicyB1, 7 + 6 + 2 + 2), (lay.ValueB1, 4 + 3 + 1), (lay.MemoryB, 3), (lay.Size, lay.Stride - lay.Size) })
                Assert.All(a.AsSpan(l * lay.Stride + off, n).ToArray(), x => Assert.Equal(0f, x)); // biases, log-std, padding
        }
    }

    [Fact]
    public void PhiInitIsLeCunNormal()
    {
        var lay = new LossLayout(new NetworkConfig(27, 8));
        var phi = lay.Initialize(3);
        Assert.Equal(phi, lay.Initialize(3));
        foreach (var (name, off, len, fanIn) in lay.Tensors)
        {
            var v = phi.AsSpan(off, len).ToArray();
            if (fanIn == 0)
            {
                Assert.All(v, x => Assert.Equal(0f, x));
                continue;
            }
            if (len < 500) continue;
            double std = Math.Sqrt(v.Select(x => (double)x * x).Average());
            Assert.InRange(std * Math.Sqrt(fanIn), 0.9, 1.1);
            output.WriteLine($"{name}: std * sqrt(fan_in) = {std * Math.Sqrt(fanIn):F3}");
        }
    }

    /// <summary>The whole check set on ILGPU's CPU accelerator (kernel semantics under ILGPU) against the float64 reference.</summary>
    [Fact]
    public void IlgpuCpuAcceleratorPassesTheGradientChecks()
    {
        var c = GradientChecks.RandomConfig(11);
        using var il = IlgpuDevice.CreateCpuAccelerator();
        var results = GradientChecks.All(il, c, 11);
        foreach (var r in results) output.WriteLine(r.ToString());
        Assert.All(results, r => Assert.True(r.Worst <= GradientTests.Tolerance, r.ToString()));
    }

    /// <summary>One full minibatch gradient (policy, loss network, PPO, memory, Adam) on both launchers: the same numbers.</summary>
    [Fact]
    public void CpuLauncherMatchesIlgpuCpuAccelerator()
    {
        var c = GradientChecks.RandomConfig(12) with { MemoryThroughContext = true };
        var lay = new LearnerLayout(c);
        var ll = new LossLayout(c);
        int L = 4, N = c.BufferRows, M = c.ActSteps;
        var rng = new System.Random(5);
        float[] R(int n, double s = 1) => Enumerable.Range(0, n).Select(_ => (float)(s * (rng.NextDouble() * 2 - 1))).ToArray();
        var traj = R(L * N * c.TrajDim);
        var phi = ll.Initialize(1).Concat(ll.Initialize(2)).ToArray();
        var rew = R(L * M);
        var done = R(L * M).Select(x => x > 0.7f ? 1f : 0f).ToArray();
        var acts = R(L * M * c.Act);
        GradientChecks.PutRewards(c, L, traj, rew, done);
        (float[] G, float[] P, float[] Loss) Run<TF, TI>(Device d) where TF : struct, IView<float> where TI : struct, IView<int>
        {
            using var p = d.Allocate<float>(L * lay.Stride);
            LearnerInit.Initialize<TF>(d, lay, L, p, 9, 0, 0);
            using var bt = d.Upload<float>(traj);
            using var bphi = d.Upload<float>(phi);
            using var lg = new LearnerGradient<TF, TI>(d, lay, L, 2);
            using var adam = new AdamBatch<TF, TI>(d, lay, L);
            lg.Ppo!.Actions.CopyFrom(acts);
            lg.BeginUpdate(p, bt);
            lg.Shuffle(3, 0, 0, 0);
            lg.Minibatch(0, p, bphi, bt, 0.5f);
            var g = lg.G.ToArray();
            adam.Step(p, lg.G);
            d.Synchronize();
            return (g, p.ToArray(), lg.Loss.Loss.ToArray().Concat(lg.Ppo!.Loss.ToArray()).ToArray());
        }
        using var cpu = new CpuDevice();
        using var il = IlgpuDevice.CreateCpuAccelerator();
        var a = Run<CpuView<float>, CpuView<int>>(cpu);
        var b = Run<GpuView<float>, GpuView<int>>(il);
        static double MaxRel(float[] x, float[] y) => x.Zip(y, (u, v) => Math.Abs(u - v)).Max() / Math.Max(1e-12, y.Max(Math.Abs));
        output.WriteLine($"G {MaxRel(a.G, b.G):g3}, params after Adam {MaxRel(a.P, b.P):g3}, losses {MaxRel(a.Loss, b.Loss):g3}");
        Assert.Contains(a.G, x => x != 0);
        Assert.True(MaxRel(a.G, b.G) < 1e-5);
        Assert.True(MaxRel(a.P, b.P) < 1e-6);
        Assert.True(MaxRel(a.Loss, b.Loss) < 1e-5);
    }
}
