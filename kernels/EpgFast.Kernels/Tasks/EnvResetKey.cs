using System.Runtime.CompilerServices;
using EpgFast.Kernels.Random;

namespace EpgFast.Kernels.Tasks;

/// <summary>
/// Where a task's reset noise comes from: episode k of env e draws from Philox(Seed,
/// Philox.LearnerStream(EnvReset, k, StreamBase, e, StreamPeriod)), i.e. stream id StreamBase + e
/// (the env's global learner id), taken mod StreamPeriod when that is &gt; 0 (common random numbers).
/// </summary>
public struct EnvResetKey
{
    public ulong Seed;
    /// <summary>Global id of env 0 (a batch that is part of a larger run).</summary>
    public int StreamBase;
    /// <summary>&gt; 0: envs this far apart share their reset noise.</summary>
    public int StreamPeriod;

    /// <summary>The stream of episode <paramref name="episode"/> of env <paramref name="e"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly ulong Stream(int episode, int e)
        => Philox.LearnerStream(RandomStreams.EnvReset, (uint)episode, StreamBase, e, StreamPeriod);
}
