using System.Reflection;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using EpgFast.Kernels.Launch;
using EpgFast.Kernels.Memory;

namespace EpgFast.Backends;

/// <summary>
/// Compiles kernels to PTX with ILGPU's PTX backend, without a GPU: proves every kernel the
/// engine launches can run on CUDA (sm_90, Hopper).
/// </summary>
public static class PtxCompiler
{
    /// <summary>Every kernel struct in the kernels assembly, closed over the GPU view types.</summary>
    public static IReadOnlyList<Type> AllGpuKernelTypes()
    {
        var asm = typeof(IKernel).Assembly;
        var result = new List<Type>();
        foreach (var t in asm.GetTypes())
        {
            if (!t.IsValueType || !(typeof(IKernel).IsAssignableFrom(t) || typeof(IGroupKernel).IsAssignableFrom(t))) continue;
            if (!t.IsGenericTypeDefinition)
            {
                result.Add(t);
                continue;
            }
            var args = t.GetGenericArguments().Select(GpuViewFor).ToArray();
            result.Add(t.MakeGenericType(args));
        }
        return result.OrderBy(t => t.FullName, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// ILGPU accepts only blittable kernel arguments (no bool, char or references); it finds out
    /// only when a kernel is loaded on a device, so check the struct's fields here.
    /// </summary>
    public static void CheckBlittable(Type t, string path)
    {
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(GpuView<>)) return;
        if (t.IsPrimitive && t != typeof(bool) && t != typeof(char)) return;
        if (t.IsEnum) return;
        if (!t.IsValueType || t == typeof(bool) || t == typeof(char))
            throw new InvalidOperationException($"kernel argument {path} has type {t.Name}, which ILGPU cannot pass to a kernel");
        foreach (var f in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            CheckBlittable(f.FieldType, $"{path}.{f.Name}");
    }

    /// <summary>
    /// What a kernel's type parameter is on the GPU: an IView&lt;T&gt; is GpuView&lt;T&gt;; an ILanes&lt;TV&gt; is ScalarLanes and
    /// its lane value (an unmanaged parameter with no interface constraint) float.
    /// </summary>
    private static Type GpuViewFor(Type parameter)
    {
        var constraints = parameter.GetGenericParameterConstraints();
        foreach (var c in constraints)
        {
            if (c.IsGenericType && c.GetGenericTypeDefinition() == typeof(IView<>))
                return typeof(GpuView<>).MakeGenericType(c.GetGenericArguments()[0]);
            if (c.IsGenericType && c.GetGenericTypeDefinition() == typeof(ILanes<>))
                return typeof(ScalarLanes);
        }
        if (constraints.All(c => c == typeof(ValueType)) && parameter.GenericParameterAttributes.HasFlag(GenericParameterAttributes.NotNullableValueTypeConstraint))
            return typeof(float);
        throw new InvalidOperationException($"kernel type parameter {parameter.Name} is not an IView<T>, ILanes<TV> or a lane value");
    }

    /// <summary>
    /// The newest PTX ISA that NVIDIA's ptxas 11.8 (Debian's nvidia-cuda-toolkit, what `build.ps1 ptxas` fetches) accepts:
    /// PTX 7.8. ILGPU's own setting, so the header is written as `.version 7.8` with no text edit.
    /// </summary>
    public static readonly CudaInstructionSet PtxasIsa = CudaInstructionSet.ISA_78;

    /// <summary>The PTX text of one kernel type (closed over GpuView), for inspection.</summary>
    internal static string CompileToPtx(Type kernelType) => CompileAll(new[] { kernelType }, keepText: true, CudaInstructionSet.ISA_80)[0].Ptx!;

    /// <summary>Compiles the launcher entry for each kernel type; returns (type, PTX text length) or throws on the first failure.</summary>
    public static IReadOnlyList<(Type Kernel, int PtxChars)> CompileAll(IEnumerable<Type>? kernelTypes = null)
        => CompileAll(kernelTypes, keepText: false, CudaInstructionSet.ISA_80).Select(r => (r.Kernel, r.PtxChars)).ToList();

    /// <summary>
    /// The PTX text of each kernel type (default: every kernel) for sm_90 at PTX ISA <paramref name="isa"/>
    /// (default <see cref="PtxasIsa"/>, what ptxas 11.8 assembles).
    /// </summary>
    public static IReadOnlyList<(Type Kernel, string Ptx)> CompileAllText(IEnumerable<Type>? kernelTypes = null, CudaInstructionSet? isa = null)
        => CompileAll(kernelTypes, keepText: true, isa ?? PtxasIsa).Select(r => (r.Kernel, r.Ptx!)).ToList();

    private static List<(Type Kernel, int PtxChars, string? Ptx)> CompileAll(IEnumerable<Type>? kernelTypes, bool keepText, CudaInstructionSet isa)
    {
        using var context = Context.Create(b => b.Cuda().EnableAlgorithms().Optimize(OptimizationLevel.O2));
        using var backend = new PTXBackend(context, CudaArchitecture.SM_90, isa, null!);
        var run = typeof(KernelEntry).GetMethod(nameof(KernelEntry.Run), BindingFlags.Public | BindingFlags.Static)!;
        var runGroups = typeof(GroupKernelEntry).GetMethod(nameof(GroupKernelEntry.Run), BindingFlags.Public | BindingFlags.Static)!;
        var results = new List<(Type, int, string?)>();
        foreach (var kt in kernelTypes ?? AllGpuKernelTypes())
        {
            CheckBlittable(kt, kt.Name);
            // IKernel: implicitly grouped, one work item per thread; IGroupKernel: explicitly grouped with dynamic shared memory.
            var entry = typeof(IGroupKernel).IsAssignableFrom(kt)
                ? EntryPointDescription.FromExplicitlyGroupedKernel(runGroups.MakeGenericMethod(kt))
                : EntryPointDescription.FromImplicitlyGroupedKernel(run.MakeGenericMethod(kt));
            var compiled = (PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty);
            results.Add((kt, compiled.PTXAssembly.Length, keepText ? compiled.PTXAssembly : null));
        }
        return results;
    }
}
