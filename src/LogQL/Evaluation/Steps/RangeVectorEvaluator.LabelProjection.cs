using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Evaluation.Steps;

/// <content>
/// The labels a series is handed on with when the aggregation above reads only some of them.
/// </content>
internal sealed partial class RangeVectorEvaluator
{
    /// <summary>
    /// A series' labels kept to the names a <c>by</c> aggregation above groups on, one shared set per distinct kept
    /// values: when every line is its own series, its full labels need not exist as objects at all. Series stay identified
    /// by their full labels (their pairs in the slice logs); only what the steps hand on is projected.
    /// </summary>
    private sealed class LabelProjection
    {
        // Distinct kept values met by the query; bounded against high-cardinality groupings.
        private const int MaxInterned = 65_536;
        private readonly string[] _names;
        private readonly Dictionary<string, LabelSet> _single = new(StringComparer.Ordinal);
        // By each name's value (null when absent): looked up with the scratch values, so a series met again costs no key.
        private readonly Dictionary<string?[], LabelSet> _several = new(ValuesComparer.Instance);
        private readonly LabelPair[] _scratch;
        private readonly string?[] _values;

        public LabelProjection(IEnumerable<string> names)
        {
            _names = [.. new SortedSet<string>(names, StringComparer.Ordinal)];
            _scratch = new LabelPair[_names.Length];
            _values = new string?[_names.Length];
        }

        /// <summary>The kept labels of a series' sorted pairs <paramref name="labels"/>, as a <c>by</c> grouping keeps them.</summary>
        public LabelSet Of(ReadOnlySpan<LabelPair> labels)
        {
            if (_names.Length == 0)
            {
                return LabelSet.Empty;
            }

            if (_names.Length == 1)
            {
                var value = ValueOf(labels, _names[0]);
                if (value is null)
                {
                    return LabelSet.Empty;
                }

                if (!_single.TryGetValue(value, out var set))
                {
                    set = LabelSet.FromSorted([new LabelPair(_names[0], value)]);
                    Intern(_single, value, set);
                }

                return set;
            }

            var n = 0;
            for (var i = 0; i < _names.Length; i++)
            {
                var value = _values[i] = ValueOf(labels, _names[i]);
                if (value is not null)
                {
                    _scratch[n++] = new LabelPair(_names[i], value);
                }
            }

            if (!_several.TryGetValue(_values, out var found))
            {
                found = n == 0 ? LabelSet.Empty : LabelSet.FromSorted(_scratch.AsSpan(0, n).ToArray());
                Intern(_several, [.. _values], found);
            }

            return found;
        }

        private static void Intern<TKey>(Dictionary<TKey, LabelSet> table, TKey key, LabelSet set)
            where TKey : notnull
        {
            if (table.Count >= MaxInterned)
            {
                table.Clear();
            }

            table.Add(key, set);
        }

        /// <summary>Value lists compared value by value (ordinal; an absent value equals only an absent one).</summary>
        private sealed class ValuesComparer : IEqualityComparer<string?[]>
        {
            public static ValuesComparer Instance { get; } = new();

            public bool Equals(string?[]? x, string?[]? y) =>
                x is not null && y is not null && x.AsSpan().SequenceEqual(y, StringComparer.Ordinal);

            public int GetHashCode(string?[] values)
            {
                var hash = default(HashCode);
                foreach (var value in values)
                {
                    hash.Add(value is null ? -1 : StringComparer.Ordinal.GetHashCode(value));
                }

                return hash.ToHashCode();
            }
        }

        private static string? ValueOf(ReadOnlySpan<LabelPair> labels, string name)
        {
            foreach (var pair in labels)
            {
                if (string.Equals(pair.Name, name, StringComparison.Ordinal))
                {
                    return pair.Value;
                }
            }

            return null;
        }
    }
}
