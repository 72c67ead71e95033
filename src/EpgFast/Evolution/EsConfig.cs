using EpgFast.Backends;

namespace EpgFast.Evolution;

/// <summary>
/// The outer loop's hyperparameters (evolution strategies over the loss parameters phi).
/// Defaults are the released EPG code's values (see shared/reference/epg-algorithm.md):
/// W = 8, sigma = 0.01, no antithetic pairs, l2 = 0.001, Adam (beta1 = 0, beta2 = 0.999,
/// epsilon = 1e-8) with step size 1e-2 decaying linearly to 1e-3 at half the epochs, then
/// held, 2000 epochs.
/// </summary>
public sealed record EsConfig
{
    /// <summary>W: members (perturbed phi vectors) per epoch. Even when <see cref="Antithetic"/>.</summary>
    public int Population { get; init; } = 8;

    /// <summary>Noise scale: member i evaluates phi + sigma * eps_i.</summary>
    public double Sigma { get; init; } = 0.01;

    /// <summary>Antithetic pairs: member 2k uses +eps_k and member 2k+1 uses -eps_k.</summary>
    public bool Antithetic { get; init; }

    /// <summary>
    /// Learners (one per task) each member is evaluated with; its fitness is the mean over them (a non-finite
    /// learner makes the member non-finite, i.e. worst rank). Tell takes W * LearnersPerMember values,
    /// member-major: fitness[member * LearnersPerMember + learner].
    /// </summary>
    public int LearnersPerMember { get; init; } = 1;

    /// <summary>L2 coefficient: gradient = ranks . eps / W - L2 * phi.</summary>
    public double L2 { get; init; } = 0.001;

    /// <summary>Adam step size at epoch 0.</summary>
    public double LearningRate { get; init; } = 1e-2;

    /// <summary>Adam step size reached at <see cref="DecayFraction"/> of the epochs and held after.</summary>
    public double FinalLearningRate { get; init; } = 1e-3;

    /// <summary>Fraction of <see cref="Epochs"/> over which the step size decays linearly.</summary>
    public double DecayFraction { get; init; } = 0.5;

    public double Beta1 { get; init; } = 0.0;
    public double Beta2 { get; init; } = 0.999;
    public double AdamEpsilon { get; init; } = 1e-8;

    /// <summary>Number of outer epochs (the schedules are relative to it).</summary>
    public int Epochs { get; init; } = 2000;

    /// <summary>Seed of the noise: eps_k of epoch e is Philox(Seed, stream (EsNoise, e, k)).</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>The number of distinct noise vectors per epoch (W, or W / 2 with antithetic pairs).</summary>
    public int NoiseVectors => Antithetic ? Population / 2 : Population;

    /// <summary>The step-size schedule these settings define.</summary>
    public LearningRateSchedule LearningRateSchedule => new(LearningRate, FinalLearningRate, DecayFraction, Epochs);

    /// <summary>Throws <see cref="EpgException"/> (one line) for settings that cannot work.</summary>
    public void Validate()
    {
        if (Population < 1) throw new EpgException($"es: population must be at least 1 (got {Population})");
        if (Antithetic && Population % 2 != 0)
            throw new EpgException($"es: antithetic pairs need an even population (got {Population})");
        if (!(Sigma > 0) || double.IsInfinity(Sigma)) throw new EpgException($"es: sigma must be positive (got {Sigma})");
        if (LearnersPerMember < 1) throw new EpgException($"es: learners per member must be at least 1 (got {LearnersPerMember})");
        if (!(L2 >= 0)) throw new EpgException($"es: l2 must be non-negative (got {L2})");
        if (!(LearningRate > 0) || !(FinalLearningRate > 0))
            throw new EpgException($"es: learning rates must be positive (got {LearningRate}, {FinalLearningRate})");
        if (!(DecayFraction >= 0 && DecayFraction <= 1)) throw new EpgException($"es: decay fraction must be in [0, 1] (got {DecayFraction})");
        if (!(Beta1 >= 0 && Beta1 < 1) || !(Beta2 >= 0 && Beta2 < 1))
            throw new EpgException($"es: Adam betas must be in [0, 1) (got {Beta1}, {Beta2})");
        if (!(AdamEpsilon > 0)) throw new EpgException($"es: Adam epsilon must be positive (got {AdamEpsilon})");
        if (Epochs < 1) throw new EpgException($"es: epochs must be at least 1 (got {Epochs})");
        if (Epochs >= 1 << 24) throw new EpgException($"es: epochs must be below 2^24 (the noise stream's epoch field; got {Epochs})");
    }
}
