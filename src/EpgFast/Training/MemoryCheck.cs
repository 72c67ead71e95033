using EpgFast.Backends;
using EpgFast.Learners;
using EpgFast.Tasks;

namespace EpgFast.Training;

/// <summary>
/// The up-front "does it fit" check of every verb that allocates learners (`epg train`, `epg eval`),
/// the same measure `epg bench` uses: the device's counted allocations of a real env and learner
/// batch, built at one and two units (a unit: one ES member's T learners in training, one learner
/// in an eval), extrapolated linearly to the requested size and compared with the device's memory
/// (or a given limit). A size that cannot fit, or whose largest buffer would exceed 2^31 - 1
/// elements, is a one-line <see cref="EpgException"/> with exit code 3 before anything is written
/// or allocated in full.
/// </summary>
public static class MemoryCheck
{
    /// <summary>One group of learners that will be alive at the same time.</summary>
    /// <param name="What">what the learners are for, in messages</param>
    /// <param name="Learners">learners in the batch</param>
    /// <param name="LearnersPerMember">learners per ES member (the loss network's grouping)</param>
    /// <param name="Ppo">learners carry the value net and PPO</param>
    public readonly record struct Batch(string What, int Learners, int LearnersPerMember, bool Ppo);

    /// <summary>What a set of batches alive together needs: bytes and the longest single buffer (elements).</summary>
    public readonly record struct Estimate(long Bytes, long LargestBuffer);

    /// <summary>
    /// Throws (exit 3) unless <paramref name="batches"/>, all alive at once, fit in
    /// <paramref name="limitBytes"/> (default: the device's memory, less what is already allocated).
    /// Returns the estimate.
    /// </summary>
    public static Estimate Ensure(Device device, EnvSpec spec, TrainConfig config, IReadOnlyList<Batch> batches, long? limitBytes = null)
    {
        long limit = (limitBytes ?? device.MemoryBytes) - device.AllocatedBytes;
        long total = 0, largest = 0;
        foreach (var b in batches)
        {
            var e = Measure(device, spec, config, b);
            if (e.LargestBuffer > int.MaxValue)
                throw EpgException.DoesNotFit($"does not fit: {b.What}: {b.Learners} learners need a buffer of {e.LargestBuffer:N0} elements, beyond the 2^31 - 1 a device buffer can index; use fewer learners or a smaller buffer");
            total += e.Bytes;
            largest = Math.Max(largest, e.LargestBuffer);
        }
        if (total > limit)
            throw EpgException.DoesNotFit($"does not fit: {string.Join(" + ", batches.Select(b => $"{b.Learners} learners ({b.What})"))} need about {Mib(total)} of device memory; {device.Name} has {Mib(limit)} free; use fewer learners or a smaller lifetime/buffer");
        return new Estimate(total, largest);
    }

    /// <summary>
    /// Bytes and longest buffer of one batch, extrapolated from small batches of one and two units
    /// (a unit: at most 4 learners, so the measure itself never allocates much).
    /// </summary>
    public static Estimate Measure(Device device, EnvSpec spec, TrainConfig config, Batch b)
    {
        int unit = Math.Max(1, Math.Min(Math.Min(b.LearnersPerMember, b.Learners), 4));
        long units = (b.Learners + unit - 1) / unit;
        var one = Build(device, spec, config, unit, b);
        if (units == 1) return one;
        var two = Build(device, spec, config, 2 * unit, b);
        long perUnitBytes = Math.Max(0, two.Bytes - one.Bytes), perUnitLength = Math.Max(0, two.LargestBuffer - one.LargestBuffer);
        return new Estimate(one.Bytes + (units - 1) * perUnitBytes, one.LargestBuffer + (units - 1) * perUnitLength);
    }

    private static Estimate Build(Device device, EnvSpec spec, TrainConfig config, int learners, Batch b)
    {
        long before = device.AllocatedBytes;
        device.ResetLargestAllocation();
        using var env = EnvFactory.Create(spec, device, learners);
        var networks = config.Networks(env.ObsDim, env.ActDim, b.Ppo);
        // one member (an eval) stays one member; members of T learners are measured as members of at most 4
        // (more members than the real batch: an over- rather than an under-estimate)
        int learnersPerMember = b.LearnersPerMember >= b.Learners ? learners : Math.Min(b.LearnersPerMember, learners);
        using var batch = LearnerBatchFactory.Create(env, networks, config.Updates, config.PassesPerUpdate, learnersPerMember, config.FitnessEpisodes);
        long phi = new Networks.LossLayout(networks).PhiSize;
        // the members' phi vectors (one per member) come on top of the batch
        return new Estimate(device.AllocatedBytes - before + 4 * phi * (learners / learnersPerMember), device.LargestAllocation);
    }

    public static string Mib(long bytes) => bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):F1} GiB" : $"{bytes / 1048576.0:F1} MiB";

    /// <summary>Whether an exception (or one inside it) is an allocation failure: .NET's, or CUDA's "out of memory".</summary>
    public static bool IsOutOfMemory(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is OutOfMemoryException or InsufficientMemoryException) return true;
            if (e.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase)
                || e.Message.Contains("OUT_OF_MEMORY", StringComparison.OrdinalIgnoreCase)
                || e.Message.Contains("ErrorMemoryAllocation", StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }
}
