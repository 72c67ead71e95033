using EpgFast.Backends;

namespace EpgFast.Evolution;

/// <summary>What one <see cref="EvolutionStrategy.Tell(EsState, ReadOnlySpan{double}, out EsStepInfo)"/> did.</summary>
/// <param name="Epoch">The epoch that was told (0-based).</param>
/// <param name="FitnessMean">Mean of the finite member fitnesses (NaN when none is finite).</param>
/// <param name="FitnessMax">Largest finite member fitness (NaN when none is finite).</param>
/// <param name="FitnessMin">Smallest finite member fitness (NaN when none is finite).</param>
/// <param name="NonFinite">Members whose fitness was not finite (quarantined; ranked worst).</param>
/// <param name="LearningRate">Adam step size used this epoch.</param>
/// <param name="GradientNorm">L2 norm of the ascent direction ranks . eps / W - l2 phi.</param>
/// <param name="StepNorm">L2 norm of the change of phi.</param>
public readonly record struct EsStepInfo(int Epoch, double FitnessMean, double FitnessMax, double FitnessMin,
    int NonFinite, double LearningRate, double GradientNorm, double StepNorm);

/// <summary>
/// The outer loop of EPG as ask/tell over an explicit <see cref="EsState"/> (evosax style).
/// Ask gives the W members phi + sigma * s_i * eps_k(i) (s_i = -1 only for the odd member of an
/// antithetic pair), regenerating the noise from (seed, epoch, k). Tell ranks the fitnesses
/// (<see cref="FitnessShaping"/>), forms the ascent direction exactly as the released code
/// <code>
///   g = sum_i rank_i * s_i * eps_k(i) / W  -  l2 * phi
/// </code>
/// (no division by sigma), and takes one Adam ascent step (released code's form, epsilon outside
/// the bias correction):
/// <code>
///   t += 1;  a = lr(epoch) * sqrt(1 - beta2^t) / (1 - beta1^t)
///   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2;  phi += a * m / (sqrt(v) + eps)
/// </code>
/// Sums run in float64 in a fixed order per parameter, so results are bit-identical whatever the
/// thread count. phi, m and v are stored as float32.
/// </summary>
public sealed class EvolutionStrategy
{
    private const int Chunk = 1024; // parameters per work item of Tell (a multiple of 4)
    private readonly ParallelOptions _parallel;

    public EvolutionStrategy(EsConfig config, int maxThreads = 0)
    {
        config.Validate();
        Config = config;
        _parallel = new ParallelOptions { MaxDegreeOfParallelism = maxThreads > 0 ? maxThreads : -1 };
    }

    public EsConfig Config { get; }

    /// <summary>W.</summary>
    public int Population => Config.Population;

    /// <summary>The state before epoch 0 for initial parameters <paramref name="phi0"/>.</summary>
    public EsState Initialize(ReadOnlySpan<float> phi0) => EsState.Initial(Config, phi0);

    /// <summary>The Adam step size at <paramref name="epoch"/>.</summary>
    public double LearningRate(int epoch) => Config.LearningRateSchedule.At(epoch);

    /// <summary>The W member parameter vectors of the state's epoch, each of length P.</summary>
    public float[][] Ask(EsState state)
    {
        int p = state.ParameterCount;
        var members = new float[Population][];
        for (int i = 0; i < members.Length; i++) members[i] = new float[p];
        Parallel.For(0, Config.NoiseVectors, _parallel, k => FillPair(state, k, members));
        return members;
    }

    /// <summary>The W member vectors written row-major into <paramref name="members"/>: (W, P).</summary>
    public void Ask(EsState state, Span<float> members)
    {
        int p = state.ParameterCount;
        if (members.Length != (long)Population * p)
            throw new ArgumentException($"members has {members.Length} entries, expected W * P = {Population} * {p}");
        var rows = Ask(state);
        for (int i = 0; i < rows.Length; i++) rows[i].CopyTo(members.Slice(i * p, p));
    }

    /// <summary>Member <paramref name="member"/>'s parameter vector written into <paramref name="destination"/> (P).</summary>
    public void AskMember(EsState state, int member, Span<float> destination)
    {
        CheckState(state);
        if ((uint)member >= (uint)Population) throw new ArgumentOutOfRangeException(nameof(member));
        if (destination.Length != state.ParameterCount) throw new ArgumentException("destination must have P entries");
        bool anti = Config.Antithetic;
        EsNoise.Fill(state.Seed, state.Epoch, EsNoise.NoiseIndex(member, anti), 0, destination);
        float sigma = (float)Config.Sigma;
        float[] phi = state.Phi;
        bool negative = EsNoise.Sign(member, anti) < 0;
        for (int j = 0; j < destination.Length; j++)
        {
            float step = sigma * destination[j];
            destination[j] = negative ? phi[j] - step : phi[j] + step;
        }
    }

    /// <summary>Writes the member(s) of noise vector k: member k, or members 2k and 2k+1 from one regeneration.</summary>
    private void FillPair(EsState state, int k, float[][] members)
    {
        if (!Config.Antithetic)
        {
            AskMember(state, k, members[k]);
            return;
        }
        float[] plus = members[2 * k], minus = members[2 * k + 1];
        EsNoise.Fill(state.Seed, state.Epoch, k, 0, plus);
        float sigma = (float)Config.Sigma;
        float[] phi = state.Phi;
        for (int j = 0; j < plus.Length; j++)
        {
            float step = sigma * plus[j];
            plus[j] = phi[j] + step;
            minus[j] = phi[j] - step;
        }
    }

    /// <summary>Tell without step details.</summary>
    public EsState Tell(EsState state, ReadOnlySpan<double> fitness) => Tell(state, fitness, out _);

    /// <summary>Tell with float fitness values.</summary>
    public EsState Tell(EsState state, ReadOnlySpan<float> fitness, out EsStepInfo info)
    {
        var d = new double[fitness.Length];
        for (int i = 0; i < d.Length; i++) d[i] = fitness[i];
        return Tell(state, d, out info);
    }

    /// <summary>
    /// Updates phi from the fitness of the members Ask gave for <paramref name="state"/>'s epoch:
    /// W * LearnersPerMember values, member-major (fitness[member * T + learner]); non-finite values
    /// mark quarantined learners and rank worst. Returns the state of the next epoch.
    /// </summary>
    public EsState Tell(EsState state, ReadOnlySpan<double> fitness, out EsStepInfo info)
    {
        CheckState(state);
        int w = Population;
        if (fitness.Length != w * Config.LearnersPerMember)
            throw new ArgumentException($"Tell got {fitness.Length} fitness values, expected W * learners per member = {w} * {Config.LearnersPerMember}");
        double[] memberFitness = Config.LearnersPerMember == 1 ? fitness.ToArray() : FitnessShaping.MeanPerMember(fitness, Config.LearnersPerMember);
        double[] ranks = FitnessShaping.CenteredRanks(memberFitness);

        // coefficient of each noise vector: sum over the members using it of rank * sign / W.
        bool anti = Config.Antithetic;
        var coef = new double[Config.NoiseVectors]; // (K)
        for (int i = 0; i < w; i++) coef[EsNoise.NoiseIndex(i, anti)] += ranks[i] * EsNoise.Sign(i, anti);
        for (int k = 0; k < coef.Length; k++) coef[k] /= w;

        int p = state.ParameterCount;
        int epoch = state.Epoch;
        long t = state.AdamStep + 1;
        double lr = LearningRate(epoch);
        double b1 = Config.Beta1, b2 = Config.Beta2, eps = Config.AdamEpsilon, l2 = Config.L2;
        double a = lr * Math.Sqrt(1 - Math.Pow(b2, t)) / (1 - Math.Pow(b1, t));
        var phi = new float[p];
        var m = new float[p];
        var v = new float[p];
        int chunks = (p + Chunk - 1) / Chunk;
        var gradSq = new double[chunks];
        var stepSq = new double[chunks];
        Parallel.For(0, chunks, _parallel, c =>
        {
            int start = c * Chunk;
            int len = Math.Min(Chunk, p - start);
            Span<double> g = stackalloc double[len]; // (chunk) ascent direction
            Span<float> noise = stackalloc float[len]; // (chunk) eps_k entries
            g.Clear();
            for (int k = 0; k < coef.Length; k++)
            {
                double ck = coef[k];
                if (ck == 0) continue;
                EsNoise.Fill(state.Seed, epoch, k, start, noise);
                for (int j = 0; j < len; j++) g[j] += ck * noise[j];
            }
            double gs = 0, ss = 0;
            for (int j = 0; j < len; j++)
            {
                int q = start + j;
                double gj = g[j] - l2 * state.Phi[q];
                double mj = b1 * state.AdamM[q] + (1 - b1) * gj;
                double vj = b2 * state.AdamV[q] + (1 - b2) * gj * gj;
                double step = a * mj / (Math.Sqrt(vj) + eps);
                float next = (float)(state.Phi[q] + step);
                m[q] = (float)mj;
                v[q] = (float)vj;
                phi[q] = next;
                gs += gj * gj;
                double ds = (double)next - state.Phi[q];
                ss += ds * ds;
            }
            gradSq[c] = gs;
            stepSq[c] = ss;
        });

        info = Stats(epoch, memberFitness, lr, Math.Sqrt(gradSq.Sum()), Math.Sqrt(stepSq.Sum()));
        return state.With(epoch: epoch + 1, phi: phi, m: m, v: v, adamStep: t);
    }

    private static EsStepInfo Stats(int epoch, double[] fitness, double lr, double gradNorm, double stepNorm)
    {
        double sum = 0, max = double.NegativeInfinity, min = double.PositiveInfinity;
        int finite = 0;
        foreach (double f in fitness)
        {
            if (!double.IsFinite(f)) continue;
            finite++;
            sum += f;
            max = Math.Max(max, f);
            min = Math.Min(min, f);
        }
        return finite == 0
            ? new EsStepInfo(epoch, double.NaN, double.NaN, double.NaN, fitness.Length, lr, gradNorm, stepNorm)
            : new EsStepInfo(epoch, sum / finite, max, min, fitness.Length - finite, lr, gradNorm, stepNorm);
    }

    private void CheckState(EsState state)
    {
        if (state.Seed != Config.Seed)
            throw new EpgException($"es: state has seed {state.Seed} but the config says {Config.Seed}; resume with the run's own config");
        if (state.Epoch >= 1 << 24) throw new EpgException($"es: epoch {state.Epoch} is beyond the noise stream's range");
    }
}
