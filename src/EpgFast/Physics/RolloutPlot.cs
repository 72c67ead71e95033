using EpgFast.Backends;
using EpgFast.Runs;
using ScottPlot;
using SkiaSharp;

namespace EpgFast.Physics;

/// <summary>
/// `epg rollout --plot`: one PNG with two panels side by side, the torso's path seen from above
/// (x-y, a dot at the start) and its height z against simulated time.
/// </summary>
public static class RolloutPlot
{
    /// <summary>Draws <paramref name="traj"/> (which must have a free root joint) to <paramref name="pngPath"/>.</summary>
    public static void Write(string pngPath, RolloutTrajectory traj, string title)
    {
        if (!traj.HasFreeRoot) throw new EpgException("--plot draws the torso (a free joint first in the model); this model has none", 2);
        int rows = traj.Steps + 1;
        var x = new double[rows]; // torso x: (rows)
        var y = new double[rows]; // torso y: (rows)
        var z = new double[rows]; // torso z: (rows)
        var time = new double[rows]; // seconds: (rows)
        for (int t = 0; t < rows; t++)
        {
            x[t] = traj.Q(t, 0);
            y[t] = traj.Q(t, 1);
            z[t] = traj.Q(t, 2);
            time[t] = traj.Time(t);
        }

        var top = new Plot();
        var path = top.Add.Scatter(x, y, Runs.PlotStyle.Palette(0));
        path.LineWidth = 1.5f;
        path.MarkerSize = 0;
        top.Add.Marker(x[0], y[0], MarkerShape.FilledCircle, 8, Runs.PlotStyle.Palette(0));
        top.Title($"{title}: torso from above");
        top.XLabel("x (m)");
        top.YLabel("y (m)");
        top.Axes.SquareUnits();

        var height = new Plot();
        var h = height.Add.Scatter(time, z, Runs.PlotStyle.Palette(1));
        h.LineWidth = 1.5f;
        h.MarkerSize = 0;
        height.Title("torso height");
        height.XLabel("time (s)");
        height.YLabel("z (m)");

        const int panel = 700;
        using var surface = SKSurface.Create(new SKImageInfo(2 * panel, panel));
        surface.Canvas.Clear(SKColors.White);
        // each panel rendered on its own, then drawn side by side
        using (var left = SKBitmap.Decode(top.GetImageBytes(panel, panel, ImageFormat.Png)))
            surface.Canvas.DrawBitmap(left, 0, 0);
        using (var right = SKBitmap.Decode(height.GetImageBytes(panel, panel, ImageFormat.Png)))
            surface.Canvas.DrawBitmap(right, panel, 0);
        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        string? dir = Path.GetDirectoryName(pngPath);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        AtomicFile.WriteAllBytes(pngPath, png.ToArray());
    }
}
