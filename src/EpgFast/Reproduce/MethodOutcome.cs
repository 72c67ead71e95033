using System.Text.Json;
using System.Text.Json.Serialization;
using EpgFast.Runs;
using EpgFast.Training;

namespace EpgFast.Reproduce;

/// <summary>
/// What one method's fresh learners did on one side's tasks for one seed: per learner (L) its final return, final
/// distance to the target, start distance and the torso's final x (of its last finished episode), the learning
/// curve (S windows x L learners), and a few torso paths for the figure. Saved as outcomes/SIDE-METHOD.json of the
/// seed's folder; a stage is done when its file exists.
/// </summary>
public sealed record MethodOutcome(
    string Method,
    string Side,
    ulong Seed,
    double[] FinalReturns,
    double[] FinalDistances,
    double[] StartDistances,
    double[] FinalX,
    double[] CurveSteps,
    double[][] CurveReturns,
    PathPoints[] Paths)
{
    /// <summary>Paths kept for the figure (the first learners').</summary>
    public const int FigurePaths = 4;

    /// <summary>Each learner's mean return over its whole life (the area under its learning curve, per window).</summary>
    public double[] LifeMeanReturns => Enumerable.Range(0, FinalReturns.Length)
        .Select(l => CurveReturns.Length == 0 ? double.NaN : CurveReturns.Average(step => step[l])).ToArray();

    /// <summary>From an evaluator's result whose paths were recorded for every learner.</summary>
    public static MethodOutcome From(string method, string side, ulong seed, EvalResult r) => new(
        method, side, seed,
        r.Fitness.Select(x => (double)x).ToArray(),
        r.FinalDistances.Select(x => (double)x).ToArray(),
        r.TargetDistances.Select(x => (double)x).ToArray(),
        r.Paths.Select(p => p.X.Length > 0 ? p.X[^1] : double.NaN).ToArray(),
        r.CurveSteps,
        r.CurveReturns.ToArray(),
        r.Paths.Take(FigurePaths).Select(p => new PathPoints(p.X, p.Y, p.TargetX, p.TargetY)).ToArray());

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads an outcome file; a damaged one is a one-line error naming it.</summary>
    public static MethodOutcome Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<MethodOutcome>(File.ReadAllText(path), Json) ?? throw new JsonException("empty");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            throw new Backends.EpgException($"{path} is not a reproduce outcome file ({e.Message}); delete it to run that stage again");
        }
    }
}

/// <summary>A torso path (x, y per step of the last finished episode) and its target.</summary>
public sealed record PathPoints(double[] X, double[] Y, double TargetX, double TargetY)
{
    public TorsoPath ToTorsoPath(string group) => new(X, Y, TargetX, TargetY, group);
}
