using ILGPU;
using EpgFast.Kernels.Memory;

namespace EpgFast.Kernels.Launch;

/// <summary>
/// A group kernel: a struct that carries its arguments and runs one whole thread group, with a block of
/// shared floats and barriers. One source, two launchers:
/// <list type="bullet">
/// <item>on the GPU (<see cref="GroupKernelEntry.Run{TKernel}"/>) a group is <see cref="GroupSize"/> threads;
/// <see cref="IGroupContext.Lane"/> is the thread index, the shared floats are CUDA dynamic shared memory and
/// <see cref="IGroupContext.Barrier"/> is <c>__syncthreads</c>;</item>
/// <item>on the CPU launcher one CPU thread runs the whole group: Lane = 0, GroupSize = 1, the shared floats
/// are a per-thread scratch block and Barrier() does nothing.</item>
/// </list>
/// So the body must be written as phases separated by barriers, each phase a loop over its work items strided
/// by the context's group size: <c>for (int i = g.Lane; i &lt; n; i += g.GroupSize) ...; g.Barrier();</c>.
/// Every thread must reach every barrier (no barrier inside a lane-dependent branch or loop).
/// Same rules as <see cref="IKernel"/> otherwise: no allocation, exceptions, managed arrays or bool fields.
/// </summary>
public interface IGroupKernel
{
    /// <summary>GPU threads per group (the CPU launcher runs each group on one thread).</summary>
    int GroupSize { get; }

    /// <summary>Shared floats a group needs when it has <see cref="GroupSize"/> threads (an upper bound for fewer).</summary>
    int SharedFloats { get; }

    /// <summary>Runs group <see cref="IGroupContext.GroupIndex"/> (its lane's share of it, on the GPU).</summary>
    void Execute<TG>(ref TG g) where TG : struct, IGroupContext;
}

/// <summary>What a group kernel sees of its group: its index, its lane, the shared floats and the barrier.</summary>
public interface IGroupContext
{
    /// <summary>Index of this group in the launch, 0 .. groups - 1.</summary>
    int GroupIndex { get; }

    /// <summary>This thread's index in the group, 0 .. GroupSize - 1 (always 0 on the CPU launcher).</summary>
    int Lane { get; }

    /// <summary>Threads running this group (the kernel's GroupSize on the GPU, 1 on the CPU launcher).</summary>
    int GroupSize { get; }

    /// <summary>Reads shared float <paramref name="index"/>.</summary>
    float Shared(int index);

    /// <summary>Writes shared float <paramref name="index"/>.</summary>
    void SetShared(int index, float value);

    /// <summary>Waits until every thread of the group has reached this point (and its shared writes are visible).</summary>
    void Barrier();
}

/// <summary>The GPU context: ILGPU group intrinsics and dynamic shared memory.</summary>
public readonly struct GpuGroupContext : IGroupContext
{
    private readonly ArrayView<float> _shared;

    public GpuGroupContext(ArrayView<float> shared) => _shared = shared;

    public int GroupIndex => Grid.IdxX;
    public int Lane => Group.IdxX;
    public int GroupSize => Group.DimX;
    public float Shared(int index) => _shared[index];
    public void SetShared(int index, float value) => _shared[index] = value;
    public void Barrier() => Group.Barrier();
}

/// <summary>The CPU launcher's context: one thread runs the whole group over a private scratch block.</summary>
public readonly unsafe struct CpuGroupContext : IGroupContext
{
    private readonly CpuView<float> _shared;
    private readonly int _group;

    public CpuGroupContext(CpuView<float> shared, int group)
    {
        _shared = shared;
        _group = group;
    }

    public int GroupIndex => _group;
    public int Lane => 0;
    public int GroupSize => 1;
    public float Shared(int index) => _shared[index];
    public void SetShared(int index, float value)
    {
        CpuView<float> s = _shared;
        s[index] = value;
    }
    public void Barrier()
    {
    }
}

/// <summary>The one ILGPU entry point every <see cref="IGroupKernel"/> is launched through (explicitly grouped, dynamic shared memory).</summary>
public static class GroupKernelEntry
{
    /// <summary>ILGPU kernel: this thread's part of group Grid.IdxX of <paramref name="kernel"/>.</summary>
    public static void Run<TKernel>(TKernel kernel) where TKernel : struct, IGroupKernel
    {
        var g = new GpuGroupContext(SharedMemory.GetDynamic<float>());
        kernel.Execute(ref g);
    }
}
