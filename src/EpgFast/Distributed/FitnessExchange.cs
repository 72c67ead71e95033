namespace EpgFast.Distributed;

/// <summary>
/// What the EPG outer loop exchanges between processes: each rank trains a contiguous share of
/// the population's members (<see cref="Distribution.Share"/>), and per epoch the ranks swap their learners'
/// fitnesses (<see cref="AllGather"/>) so that every rank tells the ES the same numbers and takes
/// the same step. Rank 0 alone owns the run directory; it sends the other ranks the state to start
/// from (new run or resumed checkpoint) and the periodic test's score (<see cref="Broadcast"/>).
/// One process: <see cref="SingleProcess"/>; several: <see cref="MpiExchange"/> (Open MPI).
/// </summary>
public interface IFitnessExchange : IDisposable
{
    /// <summary>This process's rank, 0 ..  Size - 1.</summary>
    int Rank { get; }

    /// <summary>The number of processes.</summary>
    int Size { get; }

    /// <summary>
    /// Every rank's <paramref name="mine"/>, concatenated in rank order, on every rank;
    /// <paramref name="counts"/>[r] is rank r's length (the same array on every rank).
    /// </summary>
    double[] AllGather(double[] mine, int[] counts);

    /// <summary>Rank 0's <paramref name="data"/> on every rank (the argument is ignored elsewhere).</summary>
    byte[] Broadcast(byte[] data);

    /// <summary>Ends the exchange after a successful run (MPI_Finalize); after an error, skip it and exit non-zero.</summary>
    void Finish();
}

/// <summary>One process: gathers are the identity, broadcasts return their argument.</summary>
public sealed class SingleProcess : IFitnessExchange
{
    public static readonly SingleProcess Instance = new();

    public int Rank => 0;

    public int Size => 1;

    public double[] AllGather(double[] mine, int[] counts) => mine;

    public byte[] Broadcast(byte[] data) => data;

    public void Finish() { }

    public void Dispose() { }
}

/// <summary>How the population is cut into the ranks' shares, and the fault-test hook.</summary>
public static class Distribution
{
    /// <summary>
    /// Rank <paramref name="rank"/>'s members of <paramref name="members"/>: a contiguous range
    /// [First, First + Count); the first members % size ranks take one more (uneven splits).
    /// </summary>
    public static (int First, int Count) Share(int members, int size, int rank)
    {
        int q = members / size, r = members % size;
        return (rank * q + Math.Min(rank, r), q + (rank < r ? 1 : 0));
    }

    /// <summary>
    /// The environment variable of the fault test: "RANK:EPOCH" makes that rank exit abruptly
    /// (exit code 86, without MPI_Finalize) at the start of that epoch, as a crashed host would.
    /// </summary>
    public const string DieVariable = "EPG_TEST_DIE_AT";

    /// <summary>Exits the process when <see cref="DieVariable"/> names this rank and epoch.</summary>
    public static void FaultHook(int rank, int epoch)
    {
        string? v = Environment.GetEnvironmentVariable(DieVariable);
        if (v is null) return;
        var parts = v.Split(':');
        if (parts.Length == 2 && int.TryParse(parts[0], out int r) && int.TryParse(parts[1], out int e) && r == rank && e == epoch)
        {
            Console.Error.WriteLine($"epg: rank {rank}: {DieVariable}={v}: exiting at epoch {epoch} (fault test)");
            Console.Error.Flush();
            Environment.Exit(86);
        }
    }
}
