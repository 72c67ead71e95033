using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EpgFast.Kernels.Memory;

/// <summary>
/// Lanes: Width consecutive floats handled as one value <typeparamref name="TV"/>, the second small abstraction a
/// kernel can be generic over (beside <see cref="IView{T}"/>). A lanes kernel walks its vector dimension in steps
/// of Width, so one source serves both launchers:
/// <list type="bullet">
/// <item>on the GPU (and under ILGPU's CPU accelerator) with <see cref="ScalarLanes"/>: Width 1, TV = float, one
/// element per thread at a time, exactly the scalar loop;</item>
/// <item>on the CPU launcher with <see cref="Lanes8"/> or <see cref="Lanes16"/>: Width 8 or 16, TV =
/// Vector256&lt;float&gt; or Vector512&lt;float&gt;, the loop becomes SIMD (these read <see cref="CpuView{T}"/> pointers and
/// are never compiled by ILGPU).</item>
/// </list>
/// Every operation rounds like its scalar counterpart (no fused multiply-add), so the widths agree to the bit
/// where the kernel sums in the same order.
/// </summary>
public interface ILanes<TV> where TV : unmanaged
{
    /// <summary>Floats per value.</summary>
    int Width { get; }

    /// <summary>view[index .. index + Width).</summary>
    TV Load<TF>(TF view, int index) where TF : struct, IView<float>;

    /// <summary>view[index .. index + Width) = v.</summary>
    void Store<TF>(TF view, int index, TV v) where TF : struct, IView<float>;

    /// <summary>Every lane x.</summary>
    TV Splat(float x);

    TV Sub(TV a, TV b);

    TV Mul(TV a, TV b);

    /// <summary>a * b + c, rounded twice (as the scalar kernels compute it).</summary>
    TV MulAdd(TV a, TV b, TV c);

    /// <summary>Lane-wise <c>Act.Tanh</c> (the same operations in the same order).</summary>
    TV Tanh(TV z);

    /// <summary>Lane <paramref name="i"/> of v.</summary>
    float Lane(TV v, int i);

    /// <summary>The sum of the lanes (in the vector unit's order, not necessarily left to right).</summary>
    float Sum(TV v);
}

/// <summary>One float: the GPU's lanes (each thread its own element).</summary>
public readonly struct ScalarLanes : ILanes<float>
{
    public int Width => 1;

    public float Load<TF>(TF view, int index) where TF : struct, IView<float> => view[index];

    public void Store<TF>(TF view, int index, float v) where TF : struct, IView<float> => view[index] = v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Splat(float x) => x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Sub(float a, float b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Mul(float a, float b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float MulAdd(float a, float b, float c) => a * b + c;

    public float Tanh(float z) => Networks.Act.Tanh(z);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Lane(float v, int i) => v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Sum(float v) => v;
}

/// <summary>Eight floats in a Vector256 (AVX2): CPU launcher only.</summary>
public readonly unsafe struct Lanes8 : ILanes<Vector256<float>>
{
    public int Width => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Load<TF>(TF view, int index) where TF : struct, IView<float>
        => Vector256.Load(CpuLanes.Address(view, index, 8));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store<TF>(TF view, int index, Vector256<float> v) where TF : struct, IView<float>
        => v.Store(CpuLanes.Address(view, index, 8));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Splat(float x) => Vector256.Create(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Sub(Vector256<float> a, Vector256<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Mul(Vector256<float> a, Vector256<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> MulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => a * b + c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Lane(Vector256<float> v, int i) => v.GetElement(i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Sum(Vector256<float> v) => Vector256.Sum(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Tanh(Vector256<float> z)
    {
        // Act.Tanh, lane-wise: see there for the method
        var a = Vector256.Min(Vector256.Abs(z), Vector256.Create(9f));
        var r = a * Vector256.Create(-2.88539008f) + Vector256.Create(12582912f);
        var k = r.AsInt32() - Vector256.Create(0x4B400000);
        var kf = r - Vector256.Create(12582912f);
        var f = (Vector256.Create(-2f) * a - kf * Vector256.Create(0.693145751953125f)) - kf * Vector256.Create(1.42860677e-6f);
        var f2 = f * f;
        var q = (Vector256.Create(0.5f) + f * Vector256.Create(1f / 6f))
            + f2 * ((Vector256.Create(1f / 24f) + f * Vector256.Create(1f / 120f)) + f2 * (Vector256.Create(1f / 720f) + f * Vector256.Create(1f / 5040f)));
        var em = f + f2 * q;
        var scale = Vector256.ShiftLeft(k + Vector256.Create(127), 23).AsSingle();
        var se = scale * em;
        var one = Vector256.Create(1f);
        var num = (one - scale) - se;
        var den = (one + scale) + se;
        var sign = ((z.AsInt32() & Vector256.Create(int.MinValue)) | Vector256.Create(0x3F800000)).AsSingle();
        return sign * num / den;
    }
}

/// <summary>Sixteen floats in a Vector512 (AVX-512): CPU launcher only.</summary>
public readonly unsafe struct Lanes16 : ILanes<Vector512<float>>
{
    public int Width => 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Load<TF>(TF view, int index) where TF : struct, IView<float>
        => Vector512.Load(CpuLanes.Address(view, index, 16));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store<TF>(TF view, int index, Vector512<float> v) where TF : struct, IView<float>
        => v.Store(CpuLanes.Address(view, index, 16));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Splat(float x) => Vector512.Create(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Sub(Vector512<float> a, Vector512<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Mul(Vector512<float> a, Vector512<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> MulAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => a * b + c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Lane(Vector512<float> v, int i) => v.GetElement(i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Sum(Vector512<float> v) => Vector512.Sum(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Tanh(Vector512<float> z)
    {
        // Act.Tanh, lane-wise: see there for the method
        var a = Vector512.Min(Vector512.Abs(z), Vector512.Create(9f));
        var r = a * Vector512.Create(-2.88539008f) + Vector512.Create(12582912f);
        var k = r.AsInt32() - Vector512.Create(0x4B400000);
        var kf = r - Vector512.Create(12582912f);
        var f = (Vector512.Create(-2f) * a - kf * Vector512.Create(0.693145751953125f)) - kf * Vector512.Create(1.42860677e-6f);
        var f2 = f * f;
        var q = (Vector512.Create(0.5f) + f * Vector512.Create(1f / 6f))
            + f2 * ((Vector512.Create(1f / 24f) + f * Vector512.Create(1f / 120f)) + f2 * (Vector512.Create(1f / 720f) + f * Vector512.Create(1f / 5040f)));
        var em = f + f2 * q;
        var scale = Vector512.ShiftLeft(k + Vector512.Create(127), 23).AsSingle();
        var se = scale * em;
        var one = Vector512.Create(1f);
        var num = (one - scale) - se;
        var den = (one + scale) + se;
        var sign = ((z.AsInt32() & Vector512.Create(int.MinValue)) | Vector512.Create(0x3F800000)).AsSingle();
        return sign * num / den;
    }
}

/// <summary>Addresses for the CPU lanes: a <see cref="CpuView{T}"/> of floats seen through the generic view type.</summary>
internal static unsafe class CpuLanes
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float* Address<TF>(TF view, int index, int width) where TF : struct, IView<float>
    {
        Debug.Assert(typeof(TF) == typeof(CpuView<float>), "SIMD lanes run on the CPU launcher's views only");
        Debug.Assert(index >= 0 && index + width <= view.Length, $"lanes [{index}, {index + width}) outside [0, {view.Length})");
        return Unsafe.As<TF, CpuView<float>>(ref view).Pointer + (uint)index;
    }
}
