namespace EpgFast.Evolution;

/// <summary>
/// A value that moves linearly from <see cref="Start"/> (epoch 0) to <see cref="End"/> at epoch
/// floor(Epochs * Fraction), then stays at End: the released code's PiecewiseSchedule
/// [(0, start), (int(n * fraction), end)] with outside value end. When floor(Epochs * Fraction)
/// is 0 the value is End from the first epoch on (as in the released code).
/// </summary>
public readonly record struct LinearSchedule(double Start, double End, double Fraction, int Epochs)
{
    /// <summary>The epoch at which the value reaches <see cref="End"/>.</summary>
    public int EndEpoch => (int)Math.Floor(Epochs * Fraction);

    /// <summary>The value at (0-based) <paramref name="epoch"/>.</summary>
    public double At(int epoch)
    {
        int endEpoch = EndEpoch;
        if (epoch >= 0 && epoch < endEpoch)
            return Start + (double)epoch / endEpoch * (End - Start);
        return End;
    }
}

/// <summary>
/// The outer Adam step size: <c>start</c> at epoch 0, decaying linearly to <c>end</c> at
/// floor(epochs * decayFraction), then held (released code: 1e-2 to 1e-3 at half the epochs).
/// </summary>
public readonly record struct LearningRateSchedule(double Start, double End, double DecayFraction, int Epochs)
{
    public double At(int epoch) => new LinearSchedule(Start, End, DecayFraction, Epochs).At(epoch);
}

/// <summary>
/// The PPO bootstrapping weight alpha in the inner loss (1 - alpha) L_phi + alpha L_PPO,
/// as a function of the outer epoch. Default: 1 to 0 linearly over the first 1/8 of the epochs;
/// <see cref="HalfHeld"/>: 1 to 0.5 over the first 1/16, then held at 0.5 (the released code's
/// fix_ppo option). At test time alpha is 0 (<see cref="Off"/>).
/// </summary>
public readonly record struct AlphaSchedule(double Start, double End, double Fraction, int Epochs)
{
    /// <summary>1 to 0 over the first 1/8 of <paramref name="epochs"/>.</summary>
    public static AlphaSchedule Default(int epochs) => new(1.0, 0.0, 1.0 / 8.0, epochs);

    /// <summary>1 to 0.5 over the first 1/16 of <paramref name="epochs"/>, then 0.5.</summary>
    public static AlphaSchedule HalfHeld(int epochs) => new(1.0, 0.5, 1.0 / 16.0, epochs);

    /// <summary>Alpha = 0 always (pure evolved loss, as at test time).</summary>
    public static AlphaSchedule Off(int epochs) => new(0.0, 0.0, 0.0, epochs);

    /// <summary>Alpha is above 0 at some epoch: the learners need PPO (<see cref="Networks.NetworkConfig.Ppo"/>).</summary>
    public bool UsesPpo => Start != 0 || End != 0;

    /// <summary>Alpha at (0-based) outer <paramref name="epoch"/>.</summary>
    public double At(int epoch) => new LinearSchedule(Start, End, Fraction, Epochs).At(epoch);
}
