using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Networks;
using EpgFast.Networks;
using EpgFast.Validation.Networks;
using Xunit;

namespace EpgFast.Tests.Networks;

/// <summary>The loss network's shapes and a tiny case computed by hand.</summary>
public class LossNetworkShapeTests
{
    [Fact]
    public void ReleasedSizesGiveTheReleasedShapes()
    {
        // Hopper in the released code: obs 11, act 3, one aux column, 32 memory units, N = 512.
        var lay = new LossLayout(new NetworkConfig(11, 3));
        Assert.Equal(102, lay.Len0); // (512 - 6) / 5 + 1
        Assert.Equal(50, lay.Len1);  // (102 - 4) / 2 + 1
        Assert.Equal(17, lay.TrajDim); // 11 + 3 + reward + aux + done
        Assert.Equal(55, lay.InDim);   // + mean 3 + logstd 3 + memory 32
        Assert.Equal(87, lay.HeadIn);  // + context 32
        // 16*87 + 16 + 16 + 1 + 16*55*6 + 16 + 32*16*4 + 32 + 32*32 + 32
        Assert.Equal(1392 + 16 + 16 + 1 + 5280 + 16 + 2048 + 32 + 1024 + 32, lay.PhiSize);
        Assert.Equal(9857, lay.PhiSize);
        // Sorted Chainer names, contiguous.
        var t = lay.Tensors;
        Assert.Equal(["loss_d0/W", "loss_d0/b", "loss_d1/W", "loss_d1/b", "traj_c0/W", "traj_c0/b", "traj_c1/W", "traj_c1/b", "traj_d0/W", "traj_d0/b"], t.Select(x => x.Name));
        for (int i = 1; i < t.Count; i++) Assert.Equal(t[i - 1].Offset + t[i - 1].Length, t[i].Offset);
        Assert.Equal(lay.PhiSize, t[^1].Offset + t[^1].Length);
    }

    [Fact]
    public void ReleasedLearnerLayoutSizes()
    {
        var lay = new LearnerLayout(new NetworkConfig(11, 3));
        Assert.Equal(11 * 64 + 64 * 64 + 64 * 3 + 64 + 64 + 3, lay.LogStd); // policy W1 W2 W3 b1 b2 b3
        Assert.Equal(lay.LogStd + 3, lay.ValueW1);
        Assert.Equal(lay.ValueW1 + 11 * 64 + 64 * 64 + 64 + 64 + 64 + 1, lay.MemoryW);
        Assert.Equal(lay.MemoryW + 32 * 64 + 32, lay.Size);
        Assert.Equal(12199, lay.Size);
        Assert.Equal(12224, lay.Stride);
    }

    [Fact]
    public void BadSizesAreOneLineErrors()
    {
        var e = Assert.Throws<EpgException>(() => new LossLayout(new NetworkConfig(3, 2) { BufferRows = 70, ActSteps = 64, Conv0Kernel = 40, Conv0Stride = 20 }));
        Assert.Contains("second conv kernel", e.Message);
        Assert.Throws<EpgException>(() => new NetworkConfig(3, 2) { Minibatch = 100 }.Validate());
    }

    /// <summary>
    /// N = 12 rows, conv0 k3 s2 -> 5 steps, conv1 k2 s2 -> 2 steps, one channel everywhere, traj obs column = n
    /// (learner 0) or 2n (learner 1). By hand: h0[t] = sum of 3 obs values = 6t + 3 (learner 0); h1 = leaky(h0[2t] +
    /// h0[2t + 1] - 30); pool = mean h1; ctx = 0.5 pool + 1; head z = obs_n + ctx + 0.5 mean_n (mean = 0);
    /// y = 2 leaky(z) - 1; loss = mean over the sampled rows 8 and 10. The intermediates are the float64 reference's
    /// (<see cref="NetworkReference.LossNet"/>), the loss and its gradient the kernel's.
    /// </summary>
    [Fact]
    public void TinyHandComputedCase()
    {
        var c = new NetworkConfig(1, 1)
        {
            Aux = 0, MemoryUnits = 0, BufferRows = 12, ActSteps = 4, Minibatch = 2,
            Conv0Kernel = 3, Conv0Stride = 2, Conv0Channels = 1, Conv1Kernel = 2, Conv1Stride = 2, Conv1Channels = 1, ContextUnits = 1, HeadHidden = 1,
            Hidden1 = 2, Hidden2 = 2, ValueHidden1 = 2, ValueHidden2 = 2,
        };
        var learner = new LearnerLayout(c);
        var lay = new LossLayout(c);
        Assert.Equal((5, 2, 4, 6, 7), (lay.Len0, lay.Len1, lay.TrajDim, lay.InDim, lay.HeadIn));
        Assert.Equal(7 + 1 + 1 + 1 + 1 * 6 * 3 + 1 + 1 * 1 * 2 + 1 + 1 + 1, lay.PhiSize);
        var phi = new float[lay.PhiSize];
        for (int k = 0; k < 3; k++) phi[lay.Conv0W + k] = 1f; // channel 0 (obs) of the input row
        phi[lay.Conv1W] = phi[lay.Conv1W + 1] = 1f;
        phi[lay.Conv1B] = -30f;
        phi[lay.CtxW] = 0.5f;
        phi[lay.CtxB] = 1f;
        phi[lay.HeadW0 + 0] = 1f;  // obs
        phi[lay.HeadW0 + 4] = 1f;  // ctx (after the 4 traj columns)
        phi[lay.HeadW0 + 5] = 0.5f; // mean
        phi[lay.HeadW1] = 2f;
        phi[lay.HeadB1] = -1f;
        int L = 2, N = 12;
        var traj = new float[L * N * 4];
        for (int n = 0; n < N; n++)
        {
            traj[n * 4] = n;
            traj[(N + n) * 4] = 2 * n;
        }
        var idx = new[] { 0, 2, 1, 3, 0, 2, 1, 3 }; // (L, M); minibatch 0 = steps 0 and 2 -> rows 8 and 10
        using var d = new CpuDevice(1);
        using var bphi = d.Upload<float>(phi);
        using var btraj = d.Upload<float>(traj);
        using var bmean = d.Allocate<float>(L * N);
        using var bp = d.Allocate<float>(L * learner.Stride);
        using var bmem = d.Allocate<float>(1);
        using var bidx = d.Upload<int>(idx);
        using var bdm = d.Allocate<float>(L * N);
        using var bg = d.Allocate<float>(L * learner.Stride);
        using var bdmem = d.Allocate<float>(1);
        using var net = new LossNetwork<CpuView<float>, CpuView<int>>(d, learner, L, 2); // both learners share one phi row
        net.ForwardBackward(bphi, btraj, bmean, bp, bmem, bidx, new RowSelection { RowBase = 8, IdxStride = 4, IdxOffset = 0 }, 1f, bdm, bg, bdmem);

        var traces = Enumerable.Range(0, L).Select(l =>
        {
            var t = new NetworkReference.LossNetTrace();
            var tl = traj.AsSpan(l * N * 4, N * 4).ToArray().Select(v => (double)v).ToArray();
            NetworkReference.LossNet(lay, phi.Select(v => (double)v).ToArray(), tl, new double[N], [0.0], [], [], [8, 10], t);
            return t;
        }).ToArray();
        float[] F(Func<NetworkReference.LossNetTrace, IEnumerable<double>> part) => traces.SelectMany(part).Select(v => (float)v).ToArray();
        Assert.Equal([3f, 9f, 15f, 21f, 27f, 6f, 18f, 30f, 42f, 54f], F(t => t.H0));
        Assert.Equal([-3.6f, 6f, -1.2f, 42f], F(t => t.H1), new ToleranceComparer(1e-5f));
        Assert.Equal([1.6f, 11.2f], F(t => t.Ctx), new ToleranceComparer(1e-5f));
        // learner 0: z = 8 + 1.6, 10 + 1.6 -> y = 18.2, 22.2; learner 1: z = 16 + 11.2, 20 + 11.2 -> y = 53.4, 61.4
        Assert.Equal([20.2f, 57.4f], net.Loss.ToArray(), new ToleranceComparer(1e-4f));
        // The same context is appended to every sampled row: row losses differ only by 2 * (obs difference) / mb.
        Assert.Equal([9.1f, 11.1f, 26.7f, 30.7f], F(t => t.RowLoss), new ToleranceComparer(1e-4f));
        // dL/dmean = (1/2) * 2 * 1 * 0.5 at the sampled rows only (the conv has no weight on the mean channel).
        var dm = bdm.ToArray();
        for (int l = 0; l < L; l++)
            for (int n = 0; n < N; n++)
                Assert.Equal(n is 8 or 10 ? 0.5f : 0f, dm[l * N + n], 6);
    }

    private sealed class ToleranceComparer(float tol) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tol * Math.Max(1f, Math.Abs(b));
        public int GetHashCode(float x) => 0;
    }
}
