using System.Globalization;
using EpgFast.Backends;

namespace EpgFast.Physics;

/// <summary>
/// The action file of `epg rollout`: one row per env step, <c>nu</c> comma-separated controls,
/// no header. Parsing is all-or-nothing: the first bad row is a one-line <see cref="EpgException"/>
/// naming the file and the line (1-based), so that nothing is written for a malformed file.
/// </summary>
public static class RolloutActions
{
    /// <summary>Reads <paramref name="path"/> and returns actions: (steps, nu), row-major.</summary>
    public static float[] Load(string path, int nu, out int steps)
    {
        string text;
        try
        {
            if (Directory.Exists(path)) throw new EpgException($"action file {path} is a directory");
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new EpgException($"cannot read action file {path}: {e.Message}");
        }
        return Parse(text, nu, Path.GetFileName(path), out steps);
    }

    /// <summary>
    /// Parses action rows from <paramref name="text"/>: (steps, nu), row-major. Blank lines at the
    /// end of the text are ignored; any other row must hold exactly <paramref name="nu"/> values,
    /// each a finite float32 in invariant culture (e.g. 0.25, -1, 1e-3).
    /// </summary>
    public static float[] Parse(string text, int nu, string name, out int steps)
    {
        var lines = text.Replace("\r\n", "\n").Split('\n');
        int count = lines.Length;
        while (count > 0 && string.IsNullOrWhiteSpace(lines[count - 1])) count--;
        if (count == 0) throw new EpgException($"{name}: no action rows (expected one row of {nu} comma-separated controls per env step)");
        var actions = new float[count * nu]; // actions: (steps, nu)
        for (int r = 0; r < count; r++)
        {
            int line = r + 1;
            string[] cells = string.IsNullOrWhiteSpace(lines[r]) ? [] : lines[r].Split(',');
            if (cells.Length != nu)
                throw new EpgException($"{name} line {line}: expected {nu} comma-separated values (the model's nu), got {cells.Length}");
            for (int c = 0; c < nu; c++)
            {
                string cell = cells[c].Trim();
                if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) || !double.IsFinite(d))
                    throw new EpgException($"{name} line {line}: value {c + 1} '{Shorten(cell)}' is not a finite number");
                float v = (float)d;
                if (!float.IsFinite(v))
                    throw new EpgException($"{name} line {line}: value {c + 1} '{Shorten(cell)}' is out of float32 range (magnitude at most 3.4e38; controls are clamped to ctrlrange, so 1 or -1 does the same)");
                actions[r * nu + c] = v;
            }
        }
        steps = count;
        return actions;
    }

    private static string Shorten(string s) => s.Length <= 24 ? s : s[..24] + "...";
}
