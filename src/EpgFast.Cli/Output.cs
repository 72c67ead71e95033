using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EpgFast.Cli;

/// <summary>Printing for verbs: a JSON document on stdout with --json, human text otherwise; messages on stderr.</summary>
public static class Output
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Writes the result: as one JSON document when <paramref name="json"/>, else via <paramref name="human"/>.</summary>
    public static void Result(bool json, JsonObject result, Action human)
    {
        if (json)
            Console.Out.WriteLine(result.ToJsonString(Options));
        else
            human();
    }

    /// <summary>A progress or status message (stderr, so stdout stays machine-readable).</summary>
    public static void Message(string text) => Console.Error.WriteLine(text);
}
