using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Networks;
using EpgFast.Tasks;

namespace EpgFast.Learners;

/// <summary>A learner batch seen without its view types (what the orchestration needs).</summary>
public interface ILearnerBatch : IDisposable
{
    int Learners { get; }
    int Lifetime { get; }
    LearnerLayout Layout { get; }

    /// <summary>Device bytes the batch allocated, by part (all learners; the env's own buffers are not included).</summary>
    IReadOnlyList<(string Part, long Bytes)> BytesByPart { get; }

    /// <summary>When set, every phase of a lifetime waits for the device and books its time here (profiling only).</summary>
    Diagnostics.PhaseTimer? Profile { get; set; }

    /// <summary>Common random numbers: the same learner of every ES member (learners LearnersPerMember apart) shares its random numbers.</summary>
    bool CommonRandomNumbers { get; set; }

    /// <summary>Adam's step size of the learners' updates (the configuration's inner learning rate until set).</summary>
    float LearningRate { get; set; }

    /// <summary>Trains every learner from scratch for one lifetime (see <see cref="LearnerBatch{TF, TI}.RunLifetime"/>).</summary>
    LifetimeResult RunLifetime(DeviceBuffer<float> phi, float alpha, ulong seed, uint epoch, int learnerBase,
        ILifetimeObserver? observer = null);

    /// <summary>Every learner's parameters and running-normalizer statistics as they are now (after a lifetime: the trained policies).</summary>
    LearnerSnapshot Snapshot();
}

/// <summary>
/// Learners' state copied to the host. parameters: (L, Layout.Stride); normSum, normSum2: (L, TrajDim); normCount: (L).
/// </summary>
public sealed record LearnerSnapshot(float[] Parameters, float[] NormSum, float[] NormSum2, float[] NormCount);


/// <summary>Opens a <see cref="LearnerBatch{TF, TI}"/> with the view types of the env's device.</summary>
public static class LearnerBatchFactory
{
    public static ILearnerBatch Create(IEnvBatch env, NetworkConfig networks, int updates, int passesPerUpdate,
        int learnersPerMember, int fitnessEpisodes)
        => env.Device.WithViews(new Open(env, networks, updates, passesPerUpdate, learnersPerMember, fitnessEpisodes));

    private sealed record Open(IEnvBatch Env, NetworkConfig Networks, int Updates, int PassesPerUpdate, int LearnersPerMember, int FitnessEpisodes)
        : IViewCode<ILearnerBatch>
    {
        public ILearnerBatch Run<TF, TI>() where TF : struct, IView<float> where TI : struct, IView<int>
            => new LearnerBatch<TF, TI>(Env.Device, Env, Networks, Updates, PassesPerUpdate, LearnersPerMember, FitnessEpisodes);
    }
}
