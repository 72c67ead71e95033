using EpgFast.Kernels.Networks;
using EpgFast.Kernels.Random;

namespace EpgFast.Networks;

/// <summary>
/// The flat layout of phi, the EPG loss network's parameters (one vector per ES member, PhiSize floats).
/// The order is the released code's Loss.get_params_1d: Chainer's parameter names sorted, so a theta saved by
/// the released code for the same sizes loads as is.
/// <code>
/// offset   name          shape                       meaning
/// HeadW0   loss_d0/W     (HeadHidden, HeadIn)        head dense 1, input [traj | ctx | mean | logstd | mem]
/// HeadB0   loss_d0/b     (HeadHidden)
/// HeadW1   loss_d1/W     (1, HeadHidden)             head dense 2 (the loss value)
/// HeadB1   loss_d1/b     (1)
/// Conv0W   traj_c0/W     (C0, InDim, K0)             conv over time, input [traj | mean | logstd | mem]
/// Conv0B   traj_c0/b     (C0)
/// Conv1W   traj_c1/W     (C1, C0, K1)
/// Conv1B   traj_c1/b     (C1)
/// CtxW     traj_d0/W     (Ctx, C1)                   dense after the mean over time
/// CtxB     traj_d0/b     (Ctx)
/// </code>
/// TrajDim = Obs + Act + 2 + Aux + Extra, InDim = TrajDim + 2 Act + MemoryUnits, HeadIn = InDim + Ctx.
/// With the released sizes: PhiSize = 16 (HeadIn) + 16 + 16 + 1 + 16 * 6 InDim + 16 + 32 * 16 * 4 + 32 + 32 * 32 + 32.
/// </summary>
public sealed class LossLayout
{
    public LossLayout(NetworkConfig c)
    {
        c.Validate();
        Config = c;
        TrajDim = c.TrajDim;
        InDim = TrajDim + 2 * c.Act + c.MemoryUnits;
        HeadIn = InDim + c.ContextUnits;
        Len0 = (c.BufferRows - c.Conv0Kernel) / c.Conv0Stride + 1;
        Len1 = (Len0 - c.Conv1Kernel) / c.Conv1Stride + 1;
        int o = 0;
        int Take(int n)
        {
            int at = o;
            o += n;
            return at;
        }
        HeadW0 = Take(c.HeadHidden * HeadIn);
        HeadB0 = Take(c.HeadHidden);
        HeadW1 = Take(c.HeadHidden);
        HeadB1 = Take(1);
        Conv0W = Take(c.Conv0Channels * InDim * c.Conv0Kernel);
        Conv0B = Take(c.Conv0Channels);
        Conv1W = Take(c.Conv1Channels * c.Conv0Channels * c.Conv1Kernel);
        Conv1B = Take(c.Conv1Channels);
        CtxW = Take(c.ContextUnits * c.Conv1Channels);
        CtxB = Take(c.ContextUnits);
        PhiSize = o;
    }

    public NetworkConfig Config { get; }
    public int TrajDim { get; }
    public int InDim { get; }
    public int HeadIn { get; }
    /// <summary>Output length of the first convolution: (N - K0) / S0 + 1 (102 for N = 512).</summary>
    public int Len0 { get; }
    /// <summary>Output length of the second convolution: (Len0 - K1) / S1 + 1 (50 for N = 512).</summary>
    public int Len1 { get; }
    public int HeadW0 { get; }
    public int HeadB0 { get; }
    public int HeadW1 { get; }
    public int HeadB1 { get; }
    public int Conv0W { get; }
    public int Conv0B { get; }
    public int Conv1W { get; }
    public int Conv1B { get; }
    public int CtxW { get; }
    public int CtxB { get; }
    public int PhiSize { get; }

    /// <summary>Every tensor as (name, offset, length, fan-in), in layout order.</summary>
    public IReadOnlyList<(string Name, int Offset, int Length, int FanIn)> Tensors
    {
        get
        {
            var c = Config;
            return
            [
                ("loss_d0/W", HeadW0, c.HeadHidden * HeadIn, HeadIn),
                ("loss_d0/b", HeadB0, c.HeadHidden, 0),
                ("loss_d1/W", HeadW1, c.HeadHidden, c.HeadHidden),
                ("loss_d1/b", HeadB1, 1, 0),
                ("traj_c0/W", Conv0W, c.Conv0Channels * InDim * c.Conv0Kernel, InDim * c.Conv0Kernel),
                ("traj_c0/b", Conv0B, c.Conv0Channels, 0),
                ("traj_c1/W", Conv1W, c.Conv1Channels * c.Conv0Channels * c.Conv1Kernel, c.Conv0Channels * c.Conv1Kernel),
                ("traj_c1/b", Conv1B, c.Conv1Channels, 0),
                ("traj_d0/W", CtxW, c.ContextUnits * c.Conv1Channels, c.Conv1Channels),
                ("traj_d0/b", CtxB, c.ContextUnits, 0),
            ];
        }
    }

    /// <summary>
    /// A fresh phi as Chainer initializes the released Conv1DLoss: weights LeCun normal (N(0, 1 / fan_in),
    /// fan_in = in_channels * kernel for the convolutions), biases zero. Element i draws normal number i of
    /// Philox.Stream(LossInit, 0, 0) under <paramref name="seed"/>.
    /// </summary>
    public float[] Initialize(ulong seed)
    {
        var phi = new float[PhiSize];
        ulong stream = Philox.Stream(RandomStreams.LossInit, 0, 0);
        foreach (var (_, offset, length, fanIn) in Tensors)
        {
            if (fanIn == 0) continue;
            float scale = 1f / MathF.Sqrt(fanIn);
            for (int i = 0; i < length; i++) phi[offset + i] = scale * Philox.NormalAt(seed, stream, (ulong)(offset + i));
        }
        return phi;
    }

    /// <summary>The kernels' shape for <paramref name="learners"/> learners, <paramref name="learnersPerMember"/> of them per phi row.</summary>
    public LossNetShape Shape(int learners, int learnersPerMember, LearnerLayout learner) => new()
    {
        Learners = learners,
        LearnersPerMember = learnersPerMember,
        PhiStride = PhiSize,
        Rows = Config.BufferRows,
        TrajDim = TrajDim,
        Act = Config.Act,
        Mem = Config.MemoryUnits,
        K0 = Config.Conv0Kernel,
        S0 = Config.Conv0Stride,
        C0 = Config.Conv0Channels,
        Len0 = Len0,
        K1 = Config.Conv1Kernel,
        S1 = Config.Conv1Stride,
        C1 = Config.Conv1Channels,
        Len1 = Len1,
        Ctx = Config.ContextUnits,
        Hidden = Config.HeadHidden,
        Minibatch = Config.Minibatch,
        ParamStride = learner.Stride,
        LogStdOffset = learner.LogStd,
        HeadW0 = HeadW0,
        HeadB0 = HeadB0,
        HeadW1 = HeadW1,
        HeadB1 = HeadB1,
        Conv0W = Conv0W,
        Conv0B = Conv0B,
        Conv1W = Conv1W,
        Conv1B = Conv1B,
        CtxW = CtxW,
        CtxB = CtxB,
    };

    /// <summary>Flops of one forward + backward of the loss network per learner (2 per multiply-add).</summary>
    public long FlopsPerLearner
    {
        get
        {
            var c = Config;
            long conv0 = 2L * Len0 * c.Conv0Channels * (TrajDim + c.Act) * c.Conv0Kernel;
            long conv1 = 2L * Len1 * c.Conv1Channels * c.Conv0Channels * c.Conv1Kernel;
            long head = 2L * c.Minibatch * c.HeadHidden * (HeadIn + 1);
            long headBack = 2L * c.Minibatch * c.HeadHidden * (c.ContextUnits + 2 * c.Act + c.MemoryUnits);
            long conv1Back = 2L * Len1 * c.Conv1Channels * c.Conv0Channels * c.Conv1Kernel;
            long conv0Back = 2L * Len0 * c.Conv0Channels * c.Act * c.Conv0Kernel;
            return conv0 + conv1 + head + headBack + conv1Back + conv0Back;
        }
    }
}
