using CommandLine;
using CommandLine.Text;
using EpgFast.Backends;
using EpgFast.Cli.Verbs;

namespace EpgFast.Cli;

/// <summary>
/// `epg`: parses the verb, calls the engine, prints. Conventions for every verb:
/// --json prints exactly one JSON document on stdout (messages go to stderr). <see cref="Main"/>
/// is the one place failures become exit codes (<see cref="ExitCodes"/>): bad arguments print one
/// line and exit 2; an <see cref="EpgException"/> prints one line and exits with its code (1 a
/// user error, 2 a bad value, 3 does not fit); an allocation failure is one line and exit 3; a file
/// the system refuses (permission, no space, not found) is one line and exit 1; anything else is a
/// bug: its stack trace goes to stderr and the exit code is 70.
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
        typeof(ReproduceOptions),
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
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    /// <summary>Prints one line for an expected failure (the stack trace for a bug) and returns the exit code.</summary>
    public static int Fail(Exception e)
    {
        switch (e)
        {
            case EpgException x:
                Console.Error.WriteLine($"epg: {OneLine(x.Message)}");
                return x.ExitCode;
            case { } when EpgFast.Training.MemoryCheck.IsOutOfMemory(e):
                Console.Error.WriteLine($"epg: does not fit: the allocation failed ({OneLine(Innermost(e).Message)}); use fewer learners or a smaller lifetime/buffer");
                return ExitCodes.DoesNotFit;
            case UnauthorizedAccessException or IOException:
                Console.Error.WriteLine($"epg: {OneLine(e.Message)}");
                return ExitCodes.UserError;
            default:
                Console.Error.WriteLine($"epg: internal error (a bug; please report it with this trace): {e}");
                return ExitCodes.InternalError;
        }
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();

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
        return ExitCodes.BadArguments;
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
