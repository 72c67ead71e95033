using System.Runtime.InteropServices;
using EpgFast.Backends;

namespace EpgFast.Distributed;

/// <summary>
/// <see cref="IFitnessExchange"/> over Open MPI (Debian's libmpi.so.40 from openmpi-bin /
/// libopenmpi-dev), called through function pointers: the library is loaded only when the process
/// was launched by mpirun or srun (<see cref="LaunchedByMpi"/>) or `--mpi` asks for it, so a
/// machine without Open MPI runs the one-process path unchanged. Open MPI's C handles
/// (MPI_COMM_WORLD, MPI_DOUBLE, ...) are the addresses of its exported globals
/// (ompi_mpi_comm_world, ompi_mpi_double, ...). Errors use MPI's default handler
/// (MPI_ERRORS_ARE_FATAL), and a rank that exits without MPI_Finalize makes mpirun end the whole
/// job, so a dead rank stops the others instead of leaving them waiting in a collective.
/// </summary>
public sealed unsafe class MpiExchange : IFitnessExchange
{
    public const string Library = "libmpi.so.40";
    public const string InstallHint = "apt-get install openmpi-bin libopenmpi-dev";

    private readonly IntPtr _comm, _double, _byte, _int;
    private readonly delegate* unmanaged<IntPtr, int, IntPtr, IntPtr, int*, int*, IntPtr, IntPtr, int> _allgatherv;
    private readonly delegate* unmanaged<void*, int, IntPtr, int, IntPtr, int> _bcast;
    private readonly delegate* unmanaged<int> _finalize;
    private bool _finished;

    /// <summary>True when mpirun (OMPI_COMM_WORLD_SIZE) or a PMIx launcher such as srun (PMIX_RANK) started this process.</summary>
    public static bool LaunchedByMpi =>
        Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is not null || Environment.GetEnvironmentVariable("PMIX_RANK") is not null;

    /// <summary>This rank's index among the ranks on its host (OMPI_COMM_WORLD_LOCAL_RANK, or Slurm's SLURM_LOCALID; 0 otherwise).</summary>
    public static int LocalRank =>
        int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_LOCAL_RANK") ?? Environment.GetEnvironmentVariable("SLURM_LOCALID"), out int r) ? r : 0;

    /// <summary>
    /// The exchange for this process: <see cref="MpiExchange"/> when launched by MPI or
    /// <paramref name="force"/> (`--mpi`), else <see cref="SingleProcess"/>. A missing library is
    /// a one-line <see cref="EpgException"/> that names the packages.
    /// </summary>
    public static IFitnessExchange Open(bool force)
    {
        if (!force && !LaunchedByMpi) return SingleProcess.Instance;
        return new MpiExchange(LoadLibrary());
    }

    /// <summary>Environment variable naming another libmpi.so.40 (a non-system Open MPI 4); default: the system's.</summary>
    public const string LibraryVariable = "EPG_MPI_LIBRARY";

    private static IntPtr LoadLibrary()
    {
        // RTLD_GLOBAL: Open MPI's plugins (mca_*.so) resolve libmpi's symbols through the global scope.
        string library = Environment.GetEnvironmentVariable(LibraryVariable) is { Length: > 0 } v ? v : Library;
        IntPtr h = IntPtr.Zero;
        try
        {
            byte[] name = System.Text.Encoding.UTF8.GetBytes(library + "\0");
            fixed (byte* p = name) h = dlopen(p, RtldNow | RtldGlobal);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            h = IntPtr.Zero;
        }
        if (h == IntPtr.Zero && !NativeLibrary.TryLoad(library, out h))
        {
            string how = LaunchedByMpi ? "launched by mpirun" : "--mpi given";
            throw new EpgException($"{how}, but Open MPI's {library} cannot be loaded; install it: {InstallHint}");
        }
        return h;
    }

    private const int RtldNow = 2, RtldGlobal = 0x100;

    [DllImport("libc.so.6")]
    private static extern IntPtr dlopen(byte* file, int mode);

    private MpiExchange(IntPtr lib)
    {
        IntPtr F(string name) => NativeLibrary.TryGetExport(lib, name, out IntPtr a) ? a
            : throw new EpgException($"{Library} has no symbol {name}: not Open MPI 4? install it: {InstallHint}");
        _comm = F("ompi_mpi_comm_world");
        _double = F("ompi_mpi_double");
        _byte = F("ompi_mpi_byte");
        _int = F("ompi_mpi_int");
        var init = (delegate* unmanaged<IntPtr, IntPtr, int>)F("MPI_Init");
        var rank = (delegate* unmanaged<IntPtr, int*, int>)F("MPI_Comm_rank");
        var size = (delegate* unmanaged<IntPtr, int*, int>)F("MPI_Comm_size");
        _allgatherv = (delegate* unmanaged<IntPtr, int, IntPtr, IntPtr, int*, int*, IntPtr, IntPtr, int>)F("MPI_Allgatherv");
        _bcast = (delegate* unmanaged<void*, int, IntPtr, int, IntPtr, int>)F("MPI_Bcast");
        _finalize = (delegate* unmanaged<int>)F("MPI_Finalize");
        Check(init(IntPtr.Zero, IntPtr.Zero), "MPI_Init");
        int r, s;
        Check(rank(_comm, &r), "MPI_Comm_rank");
        Check(size(_comm, &s), "MPI_Comm_size");
        Rank = r;
        Size = s;
    }

    public int Rank { get; }

    public int Size { get; }

    public double[] AllGather(double[] mine, int[] counts)
    {
        if (counts.Length != Size || counts[Rank] != mine.Length)
            throw new ArgumentException($"AllGather: rank {Rank} sends {mine.Length} values but counts say {counts[Rank]}");
        int[] displs = new int[Size];
        for (int r = 1; r < Size; r++) displs[r] = displs[r - 1] + counts[r - 1];
        var all = new double[displs[^1] + counts[^1]];
        var send = mine.Length > 0 ? mine : new double[1];
        fixed (double* s = send)
        fixed (double* a = all.Length > 0 ? all : new double[1])
        fixed (int* c = counts)
        fixed (int* d = displs)
            Check(_allgatherv((IntPtr)s, mine.Length, _double, (IntPtr)a, c, d, _double, _comm), "MPI_Allgatherv");
        return all;
    }

    public byte[] Broadcast(byte[] data)
    {
        int n = Rank == 0 ? data.Length : 0;
        Check(_bcast(&n, 1, _int, 0, _comm), "MPI_Bcast");
        var buf = Rank == 0 ? data : new byte[n];
        if (n > 0)
            fixed (byte* b = buf)
                Check(_bcast(b, n, _byte, 0, _comm), "MPI_Bcast");
        return buf;
    }

    public void Finish()
    {
        if (_finished) return;
        _finished = true;
        Check(_finalize(), "MPI_Finalize");
    }

    /// <summary>Nothing: after an error the process exits without MPI_Finalize, which tells mpirun to end the job.</summary>
    public void Dispose() { }

    private void Check(int rc, string call)
    {
        if (rc != 0) throw new EpgException($"{call} failed with MPI error {rc} (rank {Rank})");
    }
}
