using EpgFast.Backends;

namespace EpgFast.Physics;

/// <summary>Integrators an engine can be asked for.</summary>
public enum Integrator
{
    /// <summary>Semi-implicit Euler (MuJoCo's default; the kernel simulator's).</summary>
    Euler,
    /// <summary>4th-order Runge-Kutta (Gym's Ant setting).</summary>
    Rk4,
}

/// <summary>Engine options that every engine understands; null fields keep the model file's values.</summary>
public sealed record EngineOptions
{
    /// <summary>Override of the model's integrator (null: the file's; the project's ant.xml says Euler).</summary>
    public Integrator? Integrator { get; init; }

    /// <summary>Override of the model's timestep in seconds.</summary>
    public double? Timestep { get; init; }

    /// <summary>Disables contacts and joint limits, as &lt;option&gt;&lt;flag contact="disable" limit="disable"/&gt; would.</summary>
    public bool DisableContactAndLimits { get; init; }
}

/// <summary>
/// Opens a physics engine by <see cref="EngineKind"/> (MuJoCo or the kernel simulator): the one place to add engines.
/// </summary>
public static class PhysicsFactory
{
    /// <summary>Parses an --engine value (kernel, mujoco).</summary>
    public static EngineKind ParseEngine(string name) => name.Trim().ToLowerInvariant() switch
    {
        "mujoco" => EngineKind.MuJoCo,
        "kernel" => EngineKind.Kernel,
        _ => throw new EpgException($"--engine must be kernel or mujoco (got '{name}')", 2),
    };

    /// <summary>
    /// A batch of <paramref name="envs"/> worlds of the model at <paramref name="modelPath"/> on
    /// <paramref name="device"/>. MuJoCo needs the CPU launcher (its threads step the worlds).
    /// </summary>
    public static IPhysicsBatch Create(EngineKind engine, Device device, string modelPath, int envs, EngineOptions? options = null)
    {
        switch (engine)
        {
            case EngineKind.MuJoCo:
                if (device is not CpuDevice cpu)
                    throw new EpgException($"--engine mujoco steps on CPU threads and needs --backend cpu (got {device.Kind.ToString().ToLowerInvariant()})", 2);
                return new MuJoCoPhysics(cpu, modelPath, envs, options);
            case EngineKind.Kernel:
                return new KernelPhysics(device, modelPath, envs, options);
            default:
                throw new EpgException($"unknown engine {engine}", 2);
        }
    }
}
