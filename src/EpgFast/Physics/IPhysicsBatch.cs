using EpgFast.Backends;

namespace EpgFast.Physics;

/// <summary>Which physics engine steps the bodies.</summary>
public enum EngineKind
{
    /// <summary>The vectorized simulator in kernels (CPU launcher or CUDA).</summary>
    Kernel,
    /// <summary>MuJoCo 2.2.2 through P/Invoke, one mjData per environment, across CPU threads.</summary>
    MuJoCo,
}

/// <summary>
/// A batch of <see cref="Envs"/> worlds of one model stepped together. The engine-agnostic
/// contract that tasks (observation, reward, termination, resets) are written against: tasks
/// are kernels on <see cref="Device"/> that read and write the state buffers below and never
/// know which engine steps the bodies.
/// <para>
/// State buffers are the engine's state after the last <see cref="Step"/>, in float32, on
/// <see cref="Device"/>. To reset environment e, a task writes its new qpos/qvel rows and sets
/// ResetFlags[e] = 1; the engine loads those rows at the start of the next <see cref="Step"/>
/// (or <see cref="Sync"/>) and clears the flag. Rows without the flag are never read back
/// (so an engine may keep its own, more precise, state).
/// </para>
/// </summary>
public interface IPhysicsBatch : IDisposable
{
    EngineKind Engine { get; }

    Device Device { get; }

    int Envs { get; }

    int Nq { get; }

    int Nv { get; }

    int Nu { get; }

    /// <summary>Physics timestep in seconds (the model's option timestep).</summary>
    double Timestep { get; }

    /// <summary>The model's initial configuration. qpos0: (Nq)</summary>
    float[] Qpos0 { get; }

    /// <summary>qpos: (Envs, Nq)</summary>
    DeviceBuffer<float> Qpos { get; }

    /// <summary>qvel: (Envs, Nv)</summary>
    DeviceBuffer<float> Qvel { get; }

    /// <summary>ctrl: (Envs, Nu), written by the caller; the engine clamps to each actuator's ctrlrange.</summary>
    DeviceBuffer<float> Ctrl { get; }

    /// <summary>resetFlags: (Envs), 1 where a task wrote a new state into Qpos/Qvel.</summary>
    DeviceBuffer<int> ResetFlags { get; }

    /// <summary>Loads flagged resets, then advances every environment <paramref name="frameSkip"/> physics steps under Ctrl.</summary>
    void Step(int frameSkip);

    /// <summary>Loads flagged resets without stepping (Qpos/Qvel then hold exactly the loaded state).</summary>
    void Sync();
}
