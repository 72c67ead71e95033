using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace EpgFast.MuJoCo;

/// <summary>
/// Finds and loads libmujoco 2.2.2 on first use, checks mj_version() == 222 before any struct
/// field is touched, and exposes the C functions as unmanaged function pointers (no marshalling
/// stubs: a call costs what a C call costs). Nothing here runs until MuJoCo is needed, so every
/// command that does not use MuJoCo works on a machine without it.
/// <para>
/// Resolution order: the file named by EPG_MUJOCO_LIBRARY (if set), then libmujoco.so.2.2.2
/// (Debian's libmujoco2.2.2 ships only this name), libmujoco.so (from libmujoco-dev),
/// libmujoco.so.2, and the platform's default for "mujoco".
/// </para>
/// <para>
/// MuJoCo's warning handler is replaced by one that counts warnings and keeps the last message
/// (the default prints to stdout, which would corrupt --json output, and writes MUJOCO_LOG.TXT);
/// its error handler (the default calls exit) by one that prints one line to stderr and exits 1.
/// </para>
/// </summary>
public static unsafe class MuJoCoLibrary
{
    /// <summary>The apt command that installs what the MuJoCo backend needs.</summary>
    public const string InstallHint = "apt-get install libmujoco2.2.2 libmujoco-dev";

    /// <summary>Environment variable that names the library file explicitly.</summary>
    public const string PathVariable = "EPG_MUJOCO_LIBRARY";

    private static readonly object Gate = new();
    private static nint _handle;
    private static string? _loadedFrom;
    private static MuJoCoException? _failure;
    private static long _warnings;
    private static string? _lastWarning;

    // The C API (MuJoCo 2.2.2, mujoco.h), filled by Load.
    internal static delegate* unmanaged<int> mj_version;
    internal static delegate* unmanaged<byte*, nint, byte*, int, nint> mj_loadXML;
    internal static delegate* unmanaged<nint, void> mj_deleteModel;
    internal static delegate* unmanaged<nint, nint> mj_makeData;
    internal static delegate* unmanaged<nint, void> mj_deleteData;
    internal static delegate* unmanaged<nint, nint, void> mj_step;
    internal static delegate* unmanaged<nint, nint, void> mj_forward;
    internal static delegate* unmanaged<nint, nint, void> mj_resetData;
    internal static delegate* unmanaged<nint, double*, double*, void> mj_fullM;
    internal static delegate* unmanaged<nint, nint, int, double*, void> mj_contactForce;
    internal static delegate* unmanaged<nint, int, byte*, int> mj_name2id;

    /// <summary>Library names tried in order (after EPG_MUJOCO_LIBRARY).</summary>
    public static IReadOnlyList<string> Candidates { get; } =
        ["libmujoco.so.2.2.2", "libmujoco.so", "libmujoco.so.2", "mujoco"];

    /// <summary>Path or name the library was loaded from (null before a successful load).</summary>
    public static string? LoadedFrom => _loadedFrom;

    /// <summary>MuJoCo warnings seen so far (all threads).</summary>
    public static long WarningCount => Interlocked.Read(ref _warnings);

    /// <summary>The last MuJoCo warning text, if any.</summary>
    public static string? LastWarning => Volatile.Read(ref _lastWarning);

    /// <summary>Loads the library and checks its version; throws <see cref="MuJoCoException"/> (one line) if it cannot.</summary>
    public static void EnsureLoaded()
    {
        if (_handle != 0) return;
        lock (Gate)
        {
            if (_handle != 0) return;
            if (_failure is not null) throw _failure;
            try
            {
                Load();
            }
            catch (MuJoCoException e)
            {
                _failure = e;
                throw;
            }
        }
    }

    /// <summary>
    /// For `epg info`: (version string, detail) when MuJoCo loads, else (null, the one-line reason).
    /// Never throws.
    /// </summary>
    public static (string? Version, string? Detail) Probe()
    {
        try
        {
            EnsureLoaded();
            int v = mj_version();
            return ($"{v / 100}.{v / 10 % 10}.{v % 10}", $"libmujoco from {_loadedFrom}");
        }
        catch (MuJoCoException e)
        {
            return (null, e.Message);
        }
    }

    private static void Load()
    {
        var tried = new List<string>();
        nint handle = 0;
        string? from = null;
        string? explicitPath = Environment.GetEnvironmentVariable(PathVariable);
        if (!string.IsNullOrWhiteSpace(explicitPath))
        {
            tried.Add(explicitPath);
            if (!NativeLibrary.TryLoad(explicitPath, out handle))
                throw new MuJoCoException($"libmujoco not loadable from {PathVariable}={explicitPath}; unset it or install MuJoCo 2.2.2: {InstallHint}");
            from = explicitPath;
        }
        else
        {
            foreach (var name in Candidates)
            {
                tried.Add(name);
                if (NativeLibrary.TryLoad(name, typeof(MuJoCoLibrary).Assembly, DllImportSearchPath.SafeDirectories, out handle))
                {
                    from = name;
                    break;
                }
            }
        }
        if (handle == 0)
            throw new MuJoCoException($"libmujoco not found (tried {string.Join(", ", tried)}): install it with `{InstallHint}`");

        nint Export(string name)
        {
            if (!NativeLibrary.TryGetExport(handle, name, out var p))
                throw new MuJoCoException($"{from} has no symbol {name}: not MuJoCo 2.2.2; install it with `{InstallHint}`");
            return p;
        }

        mj_version = (delegate* unmanaged<int>)Export("mj_version");
        int version = mj_version();
        if (version != MjLayout.Version)
            throw new MuJoCoException(
                $"{from} is MuJoCo {version / 100}.{version / 10 % 10}.{version % 10} (mj_version {version}); EpgFast's bindings are for 2.2.2 (222) only, struct layouts differ: install `{InstallHint}` or point {PathVariable} at a 2.2.2 library");
        mj_loadXML = (delegate* unmanaged<byte*, nint, byte*, int, nint>)Export("mj_loadXML");
        mj_deleteModel = (delegate* unmanaged<nint, void>)Export("mj_deleteModel");
        mj_makeData = (delegate* unmanaged<nint, nint>)Export("mj_makeData");
        mj_deleteData = (delegate* unmanaged<nint, void>)Export("mj_deleteData");
        mj_step = (delegate* unmanaged<nint, nint, void>)Export("mj_step");
        mj_forward = (delegate* unmanaged<nint, nint, void>)Export("mj_forward");
        mj_resetData = (delegate* unmanaged<nint, nint, void>)Export("mj_resetData");
        mj_fullM = (delegate* unmanaged<nint, double*, double*, void>)Export("mj_fullM");
        mj_contactForce = (delegate* unmanaged<nint, nint, int, double*, void>)Export("mj_contactForce");
        mj_name2id = (delegate* unmanaged<nint, int, byte*, int>)Export("mj_name2id");

        // Global handlers: quiet warnings, a clear error line instead of a bare exit.
        *(delegate* unmanaged<byte*, void>*)Export("mju_user_warning") = &OnWarning;
        *(delegate* unmanaged<byte*, void>*)Export("mju_user_error") = &OnError;

        _loadedFrom = from;
        _handle = handle;
    }

    [UnmanagedCallersOnly]
    private static void OnWarning(byte* message)
    {
        Interlocked.Increment(ref _warnings);
        Volatile.Write(ref _lastWarning, Marshal.PtrToStringUTF8((nint)message));
    }

    [UnmanagedCallersOnly]
    private static void OnError(byte* message)
    {
        // MuJoCo cannot continue after mju_error (its default handler calls exit); say why, then exit 1.
        Console.Error.WriteLine($"epg: MuJoCo error: {Marshal.PtrToStringUTF8((nint)message)}");
        Console.Error.Flush();
        Environment.Exit(1);
    }

    /// <summary>A NUL-terminated UTF-8 copy of <paramref name="s"/>.</summary>
    internal static byte[] Utf8Z(string s)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T Read<T>(nint basePtr, int offset) where T : unmanaged => *(T*)(basePtr + offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Write<T>(nint basePtr, int offset, T value) where T : unmanaged => *(T*)(basePtr + offset) = value;
}
