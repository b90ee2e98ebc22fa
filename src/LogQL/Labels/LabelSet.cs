using System.Collections;
using System.Text;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Labels;

/// <summary>One label: a name and its value.</summary>
public readonly record struct LabelPair(string Name, string Value);

/// <summary>
/// An immutable set of labels sorted by name, as Loki identifies a stream. Its string form is Loki's
/// canonical <c>{a="1", b="2"}</c>.
/// </summary>
public sealed class LabelSet : IReadOnlyList<LabelPair>, IEquatable<LabelSet>
{
    private readonly LabelPair[] _pairs;
    private string? _text;

    // 0 until computed: sets are looked up in dictionaries many times (per sample when every line is its own series).
    private int _hash;

    /// <summary>The set with no labels.</summary>
    public static LabelSet Empty { get; } = new([]);

    private LabelSet(LabelPair[] sortedPairs) => _pairs = sortedPairs;

    private LabelSet(LabelPair[] sortedPairs, int hash)
    {
        _pairs = sortedPairs;
        _hash = hash;
    }

    /// <summary>
    /// Wraps pairs already sorted by name with distinct names (taking ownership of the array), with their
    /// <see cref="GetHashCode"/> when the caller has computed it (0 when not).
    /// </summary>
    internal static LabelSet FromSorted(LabelPair[] sortedPairs, int hash = 0) =>
        sortedPairs.Length == 0 ? Empty : new LabelSet(sortedPairs, hash);

    /// <summary>Builds a set from pairs in any order; a later duplicate name replaces an earlier one.</summary>
    public static LabelSet From(IEnumerable<LabelPair> pairs)
    {
        var list = new List<LabelPair>(pairs);
        list.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        var deduped = new List<LabelPair>(list.Count);
        foreach (var pair in list)
        {
            if (deduped.Count > 0 && deduped[^1].Name == pair.Name)
            {
                deduped[^1] = pair;
            }
            else
            {
                deduped.Add(pair);
            }
        }

        return deduped.Count == 0 ? Empty : new LabelSet([.. deduped]);
    }

    /// <summary>Builds a set from name/value pairs.</summary>
    public static LabelSet From(params ReadOnlySpan<(string Name, string Value)> pairs)
    {
        var list = new List<LabelPair>(pairs.Length);
        foreach (var (name, value) in pairs)
        {
            list.Add(new LabelPair(name, value));
        }

        return From(list);
    }

    /// <inheritdoc />
    public int Count => _pairs.Length;

    /// <inheritdoc />
    public LabelPair this[int index] => _pairs[index];

    /// <summary>The pairs in name order.</summary>
    public ReadOnlySpan<LabelPair> AsSpan() => _pairs;

    /// <summary>The value of label <paramref name="name"/>, or null when absent.</summary>
    public string? Get(string name)
    {
        var lo = 0;
        var hi = _pairs.Length - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var cmp = string.CompareOrdinal(_pairs[mid].Name, name);
            if (cmp == 0)
            {
                return _pairs[mid].Value;
            }

            if (cmp < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return null;
    }

    /// <summary>Loki's canonical form: <c>{a="1", b="2"}</c>, values quoted as Go does.</summary>
    public override string ToString()
    {
        if (_text is not null)
        {
            return _text;
        }

        var sb = new StringBuilder(2 + (_pairs.Length * 16));
        sb.Append('{');
        for (var i = 0; i < _pairs.Length; i++)
        {
            if (i > 0)
            {
                sb.Append(", ");
            }

            sb.Append(_pairs[i].Name).Append('=');
            GoString.AppendQuoted(sb, _pairs[i].Value);
        }

        sb.Append('}');
        return _text = sb.ToString();
    }

    /// <inheritdoc />
    public bool Equals(LabelSet? other)
    {
        if (other is null)
        {
            return false;
        }

        if (ReferenceEquals(this, other))
        {
            return true;
        }

        return _pairs.AsSpan().SequenceEqual(other._pairs);
    }

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as LabelSet);

    /// <inheritdoc />
    /// <remarks>
    /// The pipeline's order-independent hash (<see cref="Pipeline.LabelsResultCache.HashOf"/>), so sets the pipeline
    /// builds arrive with it already computed; computed once otherwise.
    /// </remarks>
    public override int GetHashCode()
    {
        if (_hash == 0)
        {
            _hash = Pipeline.LabelsResultCache.HashOf(_pairs);
        }

        return _hash;
    }

    /// <inheritdoc />
    public IEnumerator<LabelPair> GetEnumerator() => ((IEnumerable<LabelPair>)_pairs).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
