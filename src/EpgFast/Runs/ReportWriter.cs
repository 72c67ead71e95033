using System.Globalization;
using System.Text;

namespace EpgFast.Runs;

/// <summary>
/// Builds a markdown report (runs/NAME/report.md) from the caller's sections: headings,
/// paragraphs, bullet lists, tables, images and code blocks, in call order. Table cells are
/// escaped ('|' and newlines), numbers formatted invariant-culture. Save writes atomically.
/// </summary>
public sealed class ReportWriter
{
    private readonly StringBuilder _md = new();

    /// <summary>A heading of <paramref name="level"/> 1..6.</summary>
    public ReportWriter Heading(string text, int level = 2)
    {
        level = Math.Clamp(level, 1, 6);
        Block().Append('#', level).Append(' ').Append(OneLine(text)).Append('\n');
        return this;
    }

    /// <summary>A paragraph of text (markdown allowed).</summary>
    public ReportWriter Paragraph(string text)
    {
        Block().Append(text.TrimEnd()).Append('\n');
        return this;
    }

    /// <summary>A bullet list.</summary>
    public ReportWriter Bullets(IEnumerable<string> items)
    {
        Block();
        foreach (string item in items) _md.Append("- ").Append(OneLine(item)).Append('\n');
        return this;
    }

    /// <summary>A table; every row must have as many cells as there are headers. Use <see cref="Number"/> or <see cref="MeanSpread"/> for cells.</summary>
    public ReportWriter Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows, IReadOnlyList<bool>? rightAlign = null)
    {
        Block().Append("| ").Append(string.Join(" | ", headers.Select(Cell))).Append(" |\n|");
        for (int c = 0; c < headers.Count; c++)
            _md.Append(rightAlign is not null && c < rightAlign.Count && rightAlign[c] ? " ---: |" : " --- |");
        _md.Append('\n');
        foreach (var row in rows)
        {
            if (row.Count != headers.Count)
                throw new ArgumentException($"report table row has {row.Count} cells, header {headers.Count}");
            _md.Append("| ").Append(string.Join(" | ", row.Select(Cell))).Append(" |\n");
        }
        return this;
    }

    /// <summary>An image, e.g. <c>Image("fitness", "plots/fitness.png")</c> (path relative to the report).</summary>
    public ReportWriter Image(string alt, string relativePath)
    {
        Block().Append("![").Append(OneLine(alt)).Append("](").Append(relativePath.Replace('\\', '/')).Append(")\n");
        return this;
    }

    /// <summary>A fenced code block.</summary>
    public ReportWriter Code(string text, string language = "")
    {
        Block().Append("```").Append(language).Append('\n').Append(text.TrimEnd('\n')).Append("\n```\n");
        return this;
    }

    /// <summary>A number with <paramref name="digits"/> significant digits ("nan" for NaN).</summary>
    public static string Number(double value, int digits = 4) =>
        double.IsNaN(value) ? "nan" : value.ToString("G" + digits, CultureInfo.InvariantCulture);

    /// <summary>"mean ± spread" (e.g. a mean and standard deviation over fresh tasks).</summary>
    public static string MeanSpread(double mean, double spread, int digits = 4) => $"{Number(mean, digits)} ± {Number(spread, digits)}";

    /// <summary>The markdown so far.</summary>
    public override string ToString() => _md.ToString();

    /// <summary>Writes the report to <paramref name="path"/> atomically.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, _md.ToString());

    private StringBuilder Block()
    {
        if (_md.Length > 0) _md.Append('\n');
        return _md;
    }

    private static string OneLine(string s) => s.Replace("\r", " ").Replace("\n", " ");

    private static string Cell(string s) => OneLine(s).Replace("|", "\\|");
}
