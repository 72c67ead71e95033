using System.Diagnostics;
using EpgFast.Backends;

namespace EpgFast.Diagnostics;

/// <summary>
/// Wall time by phase of a device computation, for profiles (`epg bench --suite learner` reports one): each
/// <see cref="Mark"/> waits for the device and books the time since the previous mark to the phase it names.
/// The waits serialize the device's queue, so a profiled run is slower than an unprofiled one on a GPU; time runs
/// without a timer and profile a separate run.
/// </summary>
public sealed class PhaseTimer(Device device)
{
    private readonly Dictionary<string, double> _seconds = new();
    private readonly List<string> _order = new();
    private long _last = Stopwatch.GetTimestamp();

    /// <summary>Waits for the device and starts the clock of the next phase.</summary>
    public void Restart()
    {
        device.Synchronize();
        _last = Stopwatch.GetTimestamp();
    }

    /// <summary>Waits for the device and books the time since the last mark (or restart) to <paramref name="phase"/>.</summary>
    public void Mark(string phase)
    {
        device.Synchronize();
        long now = Stopwatch.GetTimestamp();
        if (!_seconds.ContainsKey(phase))
        {
            _seconds[phase] = 0;
            _order.Add(phase);
        }
        _seconds[phase] += Stopwatch.GetElapsedTime(_last, now).TotalSeconds;
        _last = now;
    }

    /// <summary>Seconds by phase, in the order the phases first appeared.</summary>
    public IReadOnlyList<(string Phase, double Seconds)> Phases => _order.Select(p => (p, _seconds[p])).ToList();
}
