namespace EpgFast.Evolution;

/// <summary>
/// Fitness shaping for the ES gradient: centered ranks in [-0.5, 0.5] (the released code's
/// relative_ranks: rank / (W - 1) - 0.5, rank 0 = lowest fitness). Two choices of EpgFast's own:
/// tied fitness values share the mean of their ranks (numpy's argsort broke ties arbitrarily),
/// and every non-finite fitness (NaN, +-infinity: a quarantined learner) ranks below every finite
/// one (they tie among themselves). The ranks always sum to zero; W = 1 gives rank 0.
/// </summary>
public static class FitnessShaping
{
    /// <summary>Centered ranks of <paramref name="fitness"/> (length W) written to <paramref name="ranks"/>.</summary>
    public static void CenteredRanks(ReadOnlySpan<double> fitness, Span<double> ranks)
    {
        int w = fitness.Length;
        if (ranks.Length != w) throw new ArgumentException($"ranks has length {ranks.Length}, fitness {w}");
        if (w == 0) return;
        if (w == 1)
        {
            ranks[0] = 0;
            return;
        }
        // order: member indices sorted by (finite?, fitness, index); non-finite first (worst).
        var keys = new double[w];
        var order = new int[w];
        for (int i = 0; i < w; i++)
        {
            keys[i] = double.IsFinite(fitness[i]) ? fitness[i] : double.NegativeInfinity;
            order[i] = i;
        }
        Array.Sort(order, (a, b) =>
        {
            int c = keys[a].CompareTo(keys[b]);
            return c != 0 ? c : a.CompareTo(b);
        });
        double scale = 1.0 / (w - 1);
        int start = 0;
        while (start < w)
        {
            int end = start + 1;
            while (end < w && keys[order[end]] == keys[order[start]]) end++;
            // Positions start..end-1 tie: each gets the mean rank (start + end - 1) / 2.
            double rank = 0.5 * (start + end - 1) * scale - 0.5;
            for (int p = start; p < end; p++) ranks[order[p]] = rank;
            start = end;
        }
    }

    /// <summary>Centered ranks of <paramref name="fitness"/> as a new array.</summary>
    public static double[] CenteredRanks(ReadOnlySpan<double> fitness)
    {
        var ranks = new double[fitness.Length];
        CenteredRanks(fitness, ranks);
        return ranks;
    }

    /// <summary>
    /// Per-member fitness from the W * T results of T learners per member, laid out member-major
    /// (<c>fitness[member * T + learner]</c>): the mean over the T learners, NaN when any is non-finite.
    /// </summary>
    public static double[] MeanPerMember(ReadOnlySpan<double> fitness, int learnersPerMember)
    {
        if (learnersPerMember < 1) throw new ArgumentOutOfRangeException(nameof(learnersPerMember));
        if (fitness.Length % learnersPerMember != 0)
            throw new ArgumentException($"{fitness.Length} fitness values are not a multiple of {learnersPerMember} learners per member");
        int w = fitness.Length / learnersPerMember;
        var mean = new double[w];
        for (int i = 0; i < w; i++)
        {
            double sum = 0;
            bool finite = true;
            for (int t = 0; t < learnersPerMember; t++)
            {
                double f = fitness[i * learnersPerMember + t];
                if (!double.IsFinite(f)) finite = false;
                sum += f;
            }
            mean[i] = finite ? sum / learnersPerMember : double.NaN;
        }
        return mean;
    }
}
