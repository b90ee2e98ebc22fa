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
        private readonly Dictionary<string, LabelSet> _several = new(StringComparer.Ordinal);
        private readonly LabelPair[] _scratch;

        public LabelProjection(IEnumerable<string> names)
        {
            _names = [.. new SortedSet<string>(names, StringComparer.Ordinal)];
            _scratch = new LabelPair[_names.Length];
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
            var key = new System.Text.StringBuilder();
            foreach (var name in _names)
            {
                var value = ValueOf(labels, name);
                if (value is null)
                {
                    key.Append('-');
                    continue;
                }

                // Length-prefixed, so values holding the separators cannot collide.
                key.Append(value.Length).Append(':').Append(value);
                _scratch[n++] = new LabelPair(name, value);
            }

            var text = key.ToString();
            if (!_several.TryGetValue(text, out var found))
            {
                found = n == 0 ? LabelSet.Empty : LabelSet.FromSorted(_scratch.AsSpan(0, n).ToArray());
                Intern(_several, text, found);
            }

            return found;
        }

        private static void Intern(Dictionary<string, LabelSet> table, string key, LabelSet set)
        {
            if (table.Count >= MaxInterned)
            {
                table.Clear();
            }

            table.Add(key, set);
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
