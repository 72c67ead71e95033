using static EpgFast.MuJoCo.MuJoCoLibrary;

namespace EpgFast.MuJoCo;

/// <summary>
/// The batched MuJoCo runner: <see cref="Envs"/> worlds of one shared <see cref="MjModel"/>, one
/// mjData each, stepped across <see cref="Threads"/> CPU threads (contiguous chunks of
/// environments per work item). The state exchange with the engine's flat float32 arrays is the
/// layout every engine uses: qpos (Envs, Nq), qvel (Envs, Nv), ctrl (Envs, Nu), resetFlags (Envs).
/// mjData (float64) stays authoritative; a row of qpos/qvel is read back into MuJoCo only for
/// environments whose reset flag is set, then the flag is cleared.
/// </summary>
public sealed unsafe class MjBatch : IDisposable
{
    private readonly MjData[] _data;
    // Cached per-environment pointers into each mjData: (Envs)
    private readonly nint[] _dataPtr;
    private readonly double*[] _qpos;
    private readonly double*[] _qvel;
    private readonly double*[] _ctrl;
    private readonly ParallelOptions _options;
    private readonly Action<int> _chunkBody;
    private readonly int _chunks;

    // Arguments of the launch in progress (read by the chunk body).
    private float* _argCtrl;
    private float* _argQpos;
    private float* _argQvel;
    private int* _argReset;
    private int _argFrameSkip;
    private int _argForward;

    /// <param name="model">The shared model (not owned; dispose it after the batch).</param>
    /// <param name="envs">Number of environments.</param>
    /// <param name="threads">Worker threads (0: one per core).</param>
    public MjBatch(MjModel model, int envs, int threads = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(envs, 1);
        Model = model;
        Envs = envs;
        Nq = model.Nq;
        Nv = model.Nv;
        Nu = model.Nu;
        Threads = threads > 0 ? threads : Environment.ProcessorCount;
        _options = new ParallelOptions { MaxDegreeOfParallelism = Threads };
        _chunks = Math.Min(envs, Threads * 4);
        _data = new MjData[envs];
        _dataPtr = new nint[envs];
        _qpos = new double*[envs];
        _qvel = new double*[envs];
        _ctrl = new double*[envs];
        try
        {
            for (int e = 0; e < envs; e++)
            {
                var d = model.MakeData();
                _data[e] = d;
                _dataPtr[e] = d.Handle;
                _qpos[e] = (double*)Read<nint>(d.Handle, MjLayout.DataQpos);
                _qvel[e] = (double*)Read<nint>(d.Handle, MjLayout.DataQvel);
                _ctrl[e] = (double*)Read<nint>(d.Handle, MjLayout.DataCtrl);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
        _chunkBody = RunChunk;
    }

    public MjModel Model { get; }

    public int Envs { get; }

    public int Nq { get; }

    public int Nv { get; }

    public int Nu { get; }

    public int Threads { get; }

    /// <summary>Environment <paramref name="e"/>'s mjData (for tests and diagnostics; do not step it during a batch step).</summary>
    public MjData this[int e] => _data[e];

    /// <summary>
    /// Loads flagged rows (and clears their flags), writes ctrl, advances every environment
    /// <paramref name="frameSkip"/> physics steps, then writes every environment's qpos/qvel
    /// (as float32) to the rows. ctrl: (Envs, Nu), qpos: (Envs, Nq), qvel: (Envs, Nv), resetFlags: (Envs).
    /// </summary>
    public void Step(int frameSkip, float* ctrl, float* qpos, float* qvel, int* resetFlags)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(frameSkip, 0);
        Launch(frameSkip, ctrl, qpos, qvel, resetFlags, forward: 0);
    }

    /// <summary>
    /// Loads flagged rows (clearing their flags) and runs mj_forward on them, without stepping;
    /// then writes every environment's state to the rows (so they hold exactly the loaded state).
    /// </summary>
    public void Sync(float* qpos, float* qvel, int* resetFlags) => Launch(0, null, qpos, qvel, resetFlags, forward: 1);

    private void Launch(int frameSkip, float* ctrl, float* qpos, float* qvel, int* resetFlags, int forward)
    {
        _argCtrl = ctrl;
        _argQpos = qpos;
        _argQvel = qvel;
        _argReset = resetFlags;
        _argFrameSkip = frameSkip;
        _argForward = forward;
        if (Threads == 1 || _chunks == 1)
            RunRange(0, Envs);
        else
            Parallel.For(0, _chunks, _options, _chunkBody);
    }

    private void RunChunk(int c)
    {
        int start = (int)((long)Envs * c / _chunks);
        int end = (int)((long)Envs * (c + 1) / _chunks);
        RunRange(start, end);
    }

    private void RunRange(int start, int end)
    {
        nint m = Model.Handle;
        int nq = Nq, nv = Nv, nu = Nu;
        for (int e = start; e < end; e++)
        {
            nint d = _dataPtr[e];
            double* q = _qpos[e];
            double* v = _qvel[e];
            float* qRow = _argQpos + (long)e * nq;
            float* vRow = _argQvel + (long)e * nv;
            bool reset = _argReset != null && _argReset[e] != 0;
            if (reset)
            {
                for (int i = 0; i < nq; i++) q[i] = qRow[i];
                for (int i = 0; i < nv; i++) v[i] = vRow[i];
                _data[e].ClearHistory();
                _argReset[e] = 0;
                if (_argForward != 0)
                {
                    // mj_forward may renormalize quaternions in qpos (in float64); put the given row
                    // back so that the state is exactly the one loaded.
                    mj_forward(m, d);
                    for (int i = 0; i < nq; i++) q[i] = qRow[i];
                }
            }
            if (_argCtrl != null)
            {
                double* c = _ctrl[e];
                float* cRow = _argCtrl + (long)e * nu;
                for (int i = 0; i < nu; i++) c[i] = cRow[i];
            }
            for (int s = 0; s < _argFrameSkip; s++) mj_step(m, d);
            for (int i = 0; i < nq; i++) qRow[i] = (float)q[i];
            for (int i = 0; i < nv; i++) vRow[i] = (float)v[i];
        }
    }

    public void Dispose()
    {
        foreach (var d in _data) d?.Dispose();
    }
}
