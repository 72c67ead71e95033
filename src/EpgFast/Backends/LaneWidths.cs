namespace EpgFast.Backends;

/// <summary>
/// Which <c>ILanes</c> a lanes kernel runs with on a device, from its <see cref="Device.MaxLaneWidth"/>: on the CPU
/// launcher the widest vector the CPU has (16 floats with AVX-512, 8 with AVX2), on ILGPU devices one float
/// (ScalarLanes, a thread per element).
/// </summary>
public static class LaneWidths
{
    /// <summary>
    /// For a vector dimension of <paramref name="n"/> units whose remainder the kernel handles one unit at a time: 16
    /// where n is a multiple of 16, else 8 where n &gt;= 8, else 1 (each only up to the device's widest lane).
    /// </summary>
    public static int For(Device device, int n)
    {
        int max = device.MaxLaneWidth;
        if (max >= 16 && n % 16 == 0) return 16;
        return max >= 8 && n >= 8 ? 8 : 1;
    }

    /// <summary>
    /// For a kernel that covers the remainder with one more lane overlapping the last whole one (the dense lanes passes,
    /// see <c>LanePlan</c>): the widest of 16, 8 and 1 not above <paramref name="n"/> nor the device's widest lane.
    /// </summary>
    public static int Overlapping(Device device, int n)
    {
        int max = device.MaxLaneWidth;
        if (max >= 16 && n >= 16) return 16;
        return max >= 8 && n >= 8 ? 8 : 1;
    }

    /// <summary>For a kernel without a remainder loop: the widest of 16, 8 and 1 that divides <paramref name="n"/> (and the device allows).</summary>
    public static int Dividing(Device device, int n)
    {
        int max = device.MaxLaneWidth;
        if (max >= 16 && n % 16 == 0) return 16;
        return max >= 8 && n % 8 == 0 ? 8 : 1;
    }
}
