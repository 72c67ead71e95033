using EpgFast.Backends;
using EpgFast.Kernels.Memory;
using EpgFast.Kernels.Tasks;

namespace EpgFast.Tasks;

/// <summary>The buffers and target handling every <see cref="IEnvBatch"/> shares.</summary>
public abstract class EnvBatchBase : IEnvBatch
{
    private readonly List<IDisposable> _owned = [];

    protected EnvBatchBase(Device device, int envs, int obsDim, int actDim, GoalRegion region, float radiusMin, float radiusMax)
    {
        if (envs < 1) throw new EpgException($"the number of environments must be at least 1 (got {envs})", 2);
        if (!(radiusMin >= 0 && radiusMax >= radiusMin))
            throw new EpgException($"target radius range [{radiusMin}, {radiusMax}] is not a range of non-negative radii", 2);
        Device = device;
        Envs = envs;
        ObsDim = obsDim;
        ActDim = actDim;
        Region = region;
        RadiusMin = radiusMin;
        RadiusMax = radiusMax;
        Observations = Own(device.Allocate<float>(envs * obsDim));
        Rewards = Own(device.Allocate<float>(envs));
        Dones = Own(device.Allocate<float>(envs));
        Terminals = Own(device.Allocate<float>(envs));
        Positions = Own(device.Allocate<float>(envs * 2));
        Targets = Own(device.Allocate<float>(envs * 2));
        EpisodeReturns = Own(device.Allocate<float>(envs));
        LastReturns = Own(device.Allocate<float>(envs));
        LastDistances = Own(device.Allocate<float>(envs));
        LastLengths = Own(device.Allocate<int>(envs));
        FinishedEpisodes = Own(device.Allocate<int>(envs));
        StepsInEpisode = Own(device.Allocate<int>(envs));
        EpisodeIndex = Own(device.Allocate<int>(envs));
    }

    public abstract string Name { get; }

    public Device Device { get; }

    public int Envs { get; }

    public int ObsDim { get; }

    public int ActDim { get; }

    public abstract int MaxEpisodeSteps { get; }

    public abstract double ControlDt { get; }

    /// <summary>The region <see cref="SampleTargets"/> uses by default.</summary>
    public GoalRegion Region { get; }

    public float RadiusMin { get; }

    public float RadiusMax { get; }

    public DeviceBuffer<float> Observations { get; }

    public DeviceBuffer<float> Rewards { get; }

    public DeviceBuffer<float> Dones { get; }

    public DeviceBuffer<float> Terminals { get; }

    public DeviceBuffer<float> Positions { get; }

    public DeviceBuffer<float> Targets { get; }

    public DeviceBuffer<float> EpisodeReturns { get; }

    public DeviceBuffer<float> LastReturns { get; }

    public DeviceBuffer<float> LastDistances { get; }

    public DeviceBuffer<int> LastLengths { get; }

    public DeviceBuffer<int> FinishedEpisodes { get; }

    /// <summary>steps: (Envs), steps taken in the current episode</summary>
    public DeviceBuffer<int> StepsInEpisode { get; }

    /// <summary>episodes: (Envs), index of the current episode (keys its reset noise)</summary>
    public DeviceBuffer<int> EpisodeIndex { get; }

    public void SetTargets(ReadOnlySpan<float> xy)
    {
        if (xy.Length != 2 * Envs) throw new ArgumentException($"targets need {2 * Envs} values (Envs x 2), got {xy.Length}");
        Targets.CopyFrom(xy);
    }

    public void SampleTargets(ulong seed, ReadOnlySpan<int> taskIds, GoalRegion? region = null)
    {
        if (taskIds.Length != Envs) throw new ArgumentException($"need one task id per env ({Envs}), got {taskIds.Length}");
        Targets.CopyFrom(GoalTasks.Targets(seed, taskIds, region ?? Region, RadiusMin, RadiusMax));
    }

    public int StreamBase { get; set; }

    public int StreamPeriod { get; set; }

    /// <summary>The reset-noise key of the last <see cref="Reset"/> (seed and streams).</summary>
    protected EnvResetKey ResetKey { get; private set; }

    public void Reset(ulong seed)
    {
        ResetKey = new EnvResetKey { Seed = seed, StreamBase = StreamBase, StreamPeriod = StreamPeriod };
        Device.WithViews(new ResetCode(this));
    }

    public void Step(DeviceBuffer<float> actions)
    {
        if (actions.Length != Envs * ActDim)
            throw new ArgumentException($"actions need {Envs * ActDim} values (Envs {Envs} x ActDim {ActDim}), got {actions.Length}");
        _step ??= new StepCode(this);
        _step.Actions = actions;
        Device.WithViews(_step);
    }

    private StepCode? _step; // reused every env step: the per-step path allocates nothing

    private sealed record ResetCode(EnvBatchBase Env) : IViewCode<bool>
    {
        public bool Run<TF, TI>() where TF : struct, IView<float> where TI : struct, IView<int>
        {
            Env.ResetT<TF, TI>();
            return true;
        }
    }

    private sealed class StepCode(EnvBatchBase env) : IViewCode<bool>
    {
        public DeviceBuffer<float>? Actions;

        public bool Run<TF, TI>() where TF : struct, IView<float> where TI : struct, IView<int>
        {
            env.StepT<TF, TI>(Actions!);
            return true;
        }
    }

    /// <summary>Reset with the device's view types (<see cref="ResetKey"/> is set).</summary>
    protected abstract void ResetT<TF, TI>() where TF : struct, IView<float> where TI : struct, IView<int>;

    /// <summary>Step with the device's view types (actions already checked).</summary>
    protected abstract void StepT<TF, TI>(DeviceBuffer<float> actions) where TF : struct, IView<float> where TI : struct, IView<int>;

    /// <summary>The episode bookkeeping views the task kernels share.</summary>
    protected EpisodeLog<TF, TI> Log<TF, TI>() where TF : struct, IView<float> where TI : struct, IView<int> => new()
    {
        Rewards = Rewards.View<TF>(),
        Dones = Dones.View<TF>(),
        Positions = Positions.View<TF>(),
        EpisodeReturn = EpisodeReturns.View<TF>(),
        LastReturn = LastReturns.View<TF>(),
        LastDistance = LastDistances.View<TF>(),
        Steps = StepsInEpisode.View<TI>(),
        Episodes = EpisodeIndex.View<TI>(),
        LastLength = LastLengths.View<TI>(),
        Finished = FinishedEpisodes.View<TI>(),
    };

    protected T Own<T>(T disposable) where T : IDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    public virtual void Dispose()
    {
        foreach (var d in _owned) d.Dispose();
        _owned.Clear();
    }
}
