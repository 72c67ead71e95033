using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Networks;

namespace EpgFast.Validation.Networks;

/// <summary>
/// One of the networks' checks (<see cref="GradientChecks"/>) on the chosen device: the kernels' values against the
/// float64 reference and their gradients, as whole vectors, against central finite differences of it, on small random
/// sizes. Passes when every compared vector is within 1e-3 (max |error| / max |reference|).
/// </summary>
public sealed class NetworkGradientCheck(string caseName) : ISelfCheck
{
    public const double Tolerance = 1e-3;
    private const int Seed = 7;

    public string Name => $"networks.{caseName}";

    public (bool Passed, string Detail) Run(Device device)
    {
        var c = GradientChecks.RandomConfig(Seed);
        var r = device.WithViews(new CaseCode(this, device, c));
        return (r.Worst <= Tolerance, string.Join(", ", r.Errors.Select(e => $"{e.Quantity} {e.MaxRelError:g2}")));
    }

    private sealed record CaseCode(NetworkGradientCheck Check, Device Device, EpgFast.Networks.NetworkConfig Config) : IViewCode<CaseResult>
    {
        public CaseResult Run<TF, TI>() where TF : struct, IView<float> where TI : struct, IView<int> => Check.Run<TF, TI>(Device, Config);
    }

    private CaseResult Run<TF, TI>(Device d, EpgFast.Networks.NetworkConfig c) where TF : struct, IView<float> where TI : struct, IView<int> => caseName switch
    {
        "policy" => GradientChecks.Policy<TF>(d, c, 3, Seed),
        "gaussian" => GradientChecks.Gaussian<TF>(d, c, 3, Seed),
        "loss-network" => GradientChecks.LossNetwork<TF, TI>(d, c, 4, 2, Seed),
        "ppo" => GradientChecks.Ppo<TF, TI>(d, c, 3, Seed),
        "learner-gradient" => GradientChecks.Learner<TF, TI>(d, c, 4, 2, Seed),
        "adam" => GradientChecks.Adam<TF, TI>(d, 3, 37, Seed),
        "normalizer" => GradientChecks.Normalizer<TF>(d, c, 3, Seed),
        "gru" => GruReference.Check<TF, TI>(d, Seed),
        _ => throw new ArgumentException($"unknown network check '{caseName}'"),
    };
}
