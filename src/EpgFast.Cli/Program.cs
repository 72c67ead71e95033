using CommandLine;
using CommandLine.Text;
using EpgFast.Backends;
using EpgFast.Cli.Verbs;

namespace EpgFast.Cli;

/// <summary>
/// `epg`: parses the verb, calls the engine, prints. Conventions for every verb:
/// --json prints exactly one JSON document on stdout (messages go to stderr);
/// bad arguments print one line and exit 2; an <see cref="EpgException"/> prints one line and
/// exits with its code.
/// </summary>
public static class Program
{
    /// <summary>Every verb's options type; each has a static Run(options) returning the exit code.</summary>
    public static readonly Type[] Verbs =
    [
        typeof(InfoOptions),
        typeof(SelfcheckOptions),
        typeof(TrainOptions),
        typeof(EvalOptions),
        typeof(PlayOptions),
        typeof(PhysicsOptions),
        typeof(BenchOptions),
        typeof(RolloutOptions),
        typeof(PtxOptions),
    ];

    public static int Main(string[] args)
    {
        var parser = new Parser(s =>
        {
            s.HelpWriter = null;
            s.CaseInsensitiveEnumValues = true;
            s.AutoVersion = false;
        });
        var result = parser.ParseArguments(args, Verbs);
        try
        {
            return result.MapResult(
                (object options) => ((IVerb)options).Run(),
                errors => ReportParseErrors(result, errors));
        }
        catch (EpgException e)
        {
            Console.Error.WriteLine($"epg: {e.Message}");
            return e.ExitCode;
        }
    }

    private static int ReportParseErrors(ParserResult<object> result, IEnumerable<Error> errors)
    {
        var list = errors.ToList();
        if (list.Any(e => e.Tag is ErrorType.HelpRequestedError or ErrorType.HelpVerbRequestedError or ErrorType.VersionRequestedError))
        {
            bool index = list.Any(e => e is HelpVerbRequestedError { Type: null });
            var help = HelpText.AutoBuild(result, h =>
            {
                h.AdditionalNewLineAfterOption = false;
                h.Heading = "epg: Evolved Policy Gradients on GPU kernels";
                h.Copyright = "";
                h.AddDashesToOption = true;
                return h;
            }, e => e, verbsIndex: index);
            Console.Out.WriteLine(help);
            return 0;
        }
        Console.Error.WriteLine($"epg: {Describe(list[0])} (see epg --help)");
        return 2;
    }

    private static string Describe(Error e) => e switch
    {
        BadVerbSelectedError b => $"unknown verb '{b.Token}'",
        NoVerbSelectedError => "no verb given",
        UnknownOptionError u => $"unknown option '--{u.Token}'",
        MissingRequiredOptionError m => $"missing required option '--{m.NameInfo.LongName}'",
        BadFormatConversionError f => $"bad value for '--{f.NameInfo.LongName}'",
        MissingValueOptionError v => $"option '--{v.NameInfo.LongName}' needs a value",
        RepeatedOptionError r => $"option '--{r.NameInfo.LongName}' given twice",
        SetValueExceptionError s => $"bad value for '--{s.NameInfo.LongName}': {s.Exception.Message}",
        _ => $"bad arguments ({e.Tag})",
    };
}

/// <summary>A parsed verb.</summary>
public interface IVerb
{
    int Run();
}
