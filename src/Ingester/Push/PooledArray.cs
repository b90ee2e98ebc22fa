using System.Buffers;
using System.Runtime.CompilerServices;

namespace LokiSharp.Ingester.Push;

/// <summary>
/// Growing and giving back arrays from <see cref="ArrayPool{T}.Shared"/> that a push or a head block fills item by item,
/// instead of lists regrown for every push. Arrays of types holding references are cleared on return, so the pool does
/// not keep what they pointed to alive.
/// </summary>
internal static class PooledArray
{
    /// <summary>Replaces <paramref name="array"/> by a pooled one at least twice as long (and at least
    /// <paramref name="minimum"/>), holding its first <paramref name="count"/> items; the old one goes back.</summary>
    public static void Grow<T>(ref T[] array, int count, int minimum = 16)
    {
        var bigger = ArrayPool<T>.Shared.Rent(Math.Max(minimum, array.Length * 2));
        array.AsSpan(0, count).CopyTo(bigger);
        Return(ref array);
        array = bigger;
    }

    /// <summary>Gives <paramref name="array"/> back to the pool (unless it is empty) and leaves it empty.</summary>
    public static void Return<T>(ref T[] array)
    {
        if (array.Length > 0)
        {
            ArrayPool<T>.Shared.Return(array, clearArray: RuntimeHelpers.IsReferenceOrContainsReferences<T>());
        }

        array = [];
    }
}
