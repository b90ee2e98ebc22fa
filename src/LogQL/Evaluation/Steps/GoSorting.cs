namespace LokiSharp.LogQL.Evaluation.Steps;

/// <summary>
/// Go's <c>container/heap</c> and small-slice <c>sort.Sort</c> over a list with a "less" function. topk/bottomk
/// select through such a heap, so reproducing its exact sift order reproduces which of several equal values Loki
/// keeps.
/// </summary>
internal static class GoSorting
{
    public static void HeapPush<T>(List<T> heap, T item, Func<T, T, bool> less)
    {
        heap.Add(item);
        var j = heap.Count - 1;
        while (true)
        {
            var i = (j - 1) / 2;
            if (i == j || !less(heap[j], heap[i]))
            {
                break;
            }

            (heap[i], heap[j]) = (heap[j], heap[i]);
            j = i;
        }
    }

    public static T HeapPop<T>(List<T> heap, Func<T, T, bool> less)
    {
        var n = heap.Count - 1;
        (heap[0], heap[n]) = (heap[n], heap[0]);
        var i = 0;
        while (true)
        {
            var j1 = (2 * i) + 1;
            if (j1 >= n)
            {
                break;
            }

            var j = j1;
            var j2 = j1 + 1;
            if (j2 < n && less(heap[j2], heap[j1]))
            {
                j = j2;
            }

            if (!less(heap[j], heap[i]))
            {
                break;
            }

            (heap[i], heap[j]) = (heap[j], heap[i]);
            i = j;
        }

        var item = heap[n];
        heap.RemoveAt(n);
        return item;
    }

    /// <summary>
    /// Sorts with a "less" function. Go sorts up to 12 elements by insertion sort, reproduced here exactly; longer
    /// lists use a stable merge sort, which agrees with Go whenever no two elements compare equal.
    /// </summary>
    public static void Sort<T>(List<T> items, Func<T, T, bool> less)
    {
        if (items.Count <= 12)
        {
            for (var i = 1; i < items.Count; i++)
            {
                for (var j = i; j > 0 && less(items[j], items[j - 1]); j--)
                {
                    (items[j], items[j - 1]) = (items[j - 1], items[j]);
                }
            }

            return;
        }

        var buffer = new T[items.Count];
        var source = items.ToArray();
        MergeSort(source, buffer, 0, source.Length, less);
        for (var i = 0; i < source.Length; i++)
        {
            items[i] = source[i];
        }
    }

    private static void MergeSort<T>(T[] items, T[] buffer, int lo, int hi, Func<T, T, bool> less)
    {
        if (hi - lo < 2)
        {
            return;
        }

        var mid = (lo + hi) / 2;
        MergeSort(items, buffer, lo, mid, less);
        MergeSort(items, buffer, mid, hi, less);
        int left = lo, right = mid, k = lo;
        while (left < mid && right < hi)
        {
            buffer[k++] = less(items[right], items[left]) ? items[right++] : items[left++];
        }

        while (left < mid)
        {
            buffer[k++] = items[left++];
        }

        while (right < hi)
        {
            buffer[k++] = items[right++];
        }

        Array.Copy(buffer, lo, items, lo, hi - lo);
    }
}
