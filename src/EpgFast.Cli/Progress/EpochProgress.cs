using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace EpgFast.Cli.Progress;

/// <summary>
/// The live progress of <c>epg train</c> on stderr: one line per epoch with epoch, fitness mean
/// and max, learner steps/s, elapsed time and ETA. When stderr is a terminal the line is colored
/// (Spectre.Console) with a progress bar, and <see cref="Status"/> shows an in-place status line
/// inside an epoch; otherwise (redirected to a file or pipe) it prints plain lines and ignores
/// the status line. ETA = elapsed / epochs done in this invocation * epochs left.
/// </summary>
public sealed class EpochProgress
{
    private readonly int _totalEpochs;
    private readonly int _startEpoch;
    private readonly TextWriter _plain;
    private readonly IAnsiConsole? _console;
    private readonly Func<TimeSpan> _clock;
    private bool _statusShown;

    /// <param name="totalEpochs">Epochs of the whole run.</param>
    /// <param name="startEpoch">The first epoch this invocation runs (the resumed epoch, else 0).</param>
    /// <param name="writer">Where plain lines go (default stderr).</param>
    /// <param name="terminal">Force terminal (true) or plain (false) output; default: whether stderr is a terminal.</param>
    /// <param name="clock">Elapsed time since start (default: a stopwatch started now); for tests.</param>
    public EpochProgress(int totalEpochs, int startEpoch = 0, TextWriter? writer = null, bool? terminal = null, Func<TimeSpan>? clock = null)
    {
        _totalEpochs = totalEpochs;
        _startEpoch = startEpoch;
        _plain = writer ?? Console.Error;
        bool fancy = terminal ?? (writer is null && !Console.IsErrorRedirected);
        if (fancy)
            _console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(_plain),
                Ansi = AnsiSupport.Yes,
                ColorSystem = ColorSystemSupport.Detect,
                Interactive = InteractionSupport.No,
            });
        var sw = Stopwatch.StartNew();
        _clock = clock ?? (() => sw.Elapsed);
    }

    /// <summary>Whether output goes to a terminal (colors, progress bar, in-place status).</summary>
    public bool IsTerminal => _console is not null;

    /// <summary>Prints the line of the finished (0-based) <paramref name="epoch"/>; <paramref name="extra"/> is appended as is.</summary>
    public void Epoch(int epoch, double fitnessMean, double fitnessMax, double stepsPerSecond, string? extra = null)
    {
        TimeSpan elapsed = _clock();
        int done = epoch + 1 - _startEpoch;
        int left = _totalEpochs - (epoch + 1);
        string width = _totalEpochs.ToString(CultureInfo.InvariantCulture);
        string ep = (epoch + 1).ToString(CultureInfo.InvariantCulture).PadLeft(width.Length);
        string mean = Num(fitnessMean), max = Num(fitnessMax), rate = Rate(stepsPerSecond);
        string times = Times(elapsed, done, left);
        if (_console is null)
        {
            _plain.WriteLine($"epoch {ep}/{width}  fitness mean {mean}  max {max}  steps/s {rate}  {times}{(extra is null ? "" : "  " + extra)}");
            _plain.Flush();
            return;
        }
        ClearStatus();
        string bar = Bar((double)(epoch + 1) / Math.Max(1, _totalEpochs), 20);
        _console.MarkupLine(
            $"[grey]epoch[/] [bold]{ep}[/][grey]/{width}[/] [blue]{bar}[/]  fitness mean [cyan]{mean}[/]  max [green]{max}[/]  " +
            $"[grey]steps/s[/] {rate}  [grey]{Markup.Escape(times)}[/]{(extra is null ? "" : "  " + Markup.Escape(extra))}");
    }

    /// <summary>
    /// The progress of one long lifetime (<c>epg eval</c>): steps of life done of <paramref name="total"/>,
    /// learner steps/s, elapsed, ETA, and <paramref name="extra"/>.
    /// </summary>
    public void Steps(long done, long total, double stepsPerSecond, string? extra = null)
    {
        TimeSpan elapsed = _clock();
        string pct = (100.0 * done / Math.Max(1, total)).ToString("0", CultureInfo.InvariantCulture);
        string times = Times(elapsed, done, total - done);
        if (_console is null)
        {
            _plain.WriteLine($"step {done}/{total} ({pct}%)  steps/s {Rate(stepsPerSecond)}  {times}{(extra is null ? "" : "  " + extra)}");
            _plain.Flush();
            return;
        }
        ClearStatus();
        _console.MarkupLine($"[grey]step[/] [bold]{done}[/][grey]/{total}[/] [blue]{Bar((double)done / Math.Max(1, total), 20)}[/]  " +
                            $"[grey]steps/s[/] {Rate(stepsPerSecond)}  [grey]{Markup.Escape(times)}[/]{(extra is null ? "" : "  " + Markup.Escape(extra))}");
    }

    /// <summary>An in-place status line inside an epoch (terminal only; e.g. "learners 40% (update 51/128)").</summary>
    public void Status(string text)
    {
        if (_console is null) return;
        _plain.Write("\r\u001b[2K" + text);
        _plain.Flush();
        _statusShown = true;
    }

    /// <summary>A message on its own line (clears the status line first).</summary>
    public void Message(string text)
    {
        if (_console is null)
        {
            _plain.WriteLine(text);
            return;
        }
        ClearStatus();
        _console.MarkupLine("[yellow]" + Markup.Escape(text) + "[/]");
    }

    private void ClearStatus()
    {
        if (!_statusShown) return;
        _plain.Write("\r\u001b[2K");
        _statusShown = false;
    }

    /// <summary>"elapsed E  ETA T": T = <paramref name="elapsed"/> / <paramref name="done"/> x <paramref name="left"/> units ("?" before the first unit).</summary>
    public static string Times(TimeSpan elapsed, double done, double left) =>
        $"elapsed {Duration(elapsed)}  ETA {(done > 0 ? Duration(TimeSpan.FromTicks((long)(elapsed.Ticks / done * left))) : "?")}";

    /// <summary>"1h02m", "3m07s" or "12.3s".</summary>
    public static string Duration(TimeSpan t)
    {
        if (t.TotalHours >= 1) return $"{(int)t.TotalHours}h{t.Minutes:00}m";
        if (t.TotalMinutes >= 1) return $"{(int)t.TotalMinutes}m{t.Seconds:00}s";
        return t.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + "s";
    }

    /// <summary>"950", "12.3k", "4.56M".</summary>
    public static string Rate(double perSecond) => perSecond switch
    {
        double.NaN => "?",
        >= 1e6 => (perSecond / 1e6).ToString("0.00", CultureInfo.InvariantCulture) + "M",
        >= 1e4 => (perSecond / 1e3).ToString("0.0", CultureInfo.InvariantCulture) + "k",
        _ => perSecond.ToString("0", CultureInfo.InvariantCulture),
    };

    private static string Num(double v) => double.IsNaN(v) ? "nan" : v.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Bar(double fraction, int width)
    {
        int full = (int)Math.Round(Math.Clamp(fraction, 0, 1) * width);
        return new string('█', full) + new string('░', width - full);
    }
}
