using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Labels;

/// <summary>The four label comparison operators of a stream selector.</summary>
public enum MatchType
{
    /// <summary><c>=</c></summary>
    Equal,

    /// <summary><c>!=</c></summary>
    NotEqual,

    /// <summary><c>=~</c>, a fully anchored regular expression.</summary>
    Regex,

    /// <summary><c>!~</c>, a fully anchored regular expression that must not match.</summary>
    NotRegex,
}

/// <summary>One label matcher of a stream selector, such as <c>app=~"web.*"</c>.</summary>
public sealed class LabelMatcher : IEquatable<LabelMatcher>
{
    // Building a linear-time regex costs 0.1-0.3 ms, ten times a whole query's parse; dashboards repeat the same
    // selectors, so compiled regexes (thread-safe, immutable) are shared by pattern. Bounded: cleared when full.
    private const int CacheCapacity = 256;
    private static readonly ConcurrentDictionary<string, Regex> Compiled = new(StringComparer.Ordinal);

    private readonly Regex? _regex;

    /// <summary>
    /// Creates a matcher. Regex values are RE2 syntax matched as Prometheus does, <c>^(?s:value)$</c> (anchored,
    /// <c>.</c> matching newlines), on .NET's linear-time engine: label values come from clients, and no value
    /// can make a match slow.
    /// </summary>
    /// <exception cref="ArgumentException">The regular expression does not compile; the message is Go's.</exception>
    public LabelMatcher(string name, MatchType type, string value)
    {
        Name = name;
        Type = type;
        Value = value;
        if (type is MatchType.Regex or MatchType.NotRegex)
        {
            _regex = Compiled.TryGetValue(value, out var cached) ? cached : Compile(value);
        }
    }

    private static Regex Compile(string value)
    {
        // Go's errors quote the whole expression Prometheus compiles, so it is validated in that form.
        var error = GoRegex.Validate("^(?s:" + value + ")$");
        var regex = error is null ? Re2Regex.TryCompileValidated("(?s:" + value + ")", anchored: true, out error) : null;
        if (regex is null)
        {
            throw new ArgumentException(error ?? "error parsing regexp: `" + value + "`");
        }

        if (Compiled.Count >= CacheCapacity)
        {
            Compiled.Clear();
        }

        Compiled[value] = regex;
        return regex;
    }

    /// <summary>The label name.</summary>
    public string Name { get; }

    /// <summary>The operator.</summary>
    public MatchType Type { get; }

    /// <summary>The literal value or regular expression source.</summary>
    public string Value { get; }

    /// <summary>Whether a label value (empty when the label is absent) satisfies the matcher.</summary>
    public bool Matches(string value) => Matches(value.AsSpan());

    /// <summary>Whether a label value (empty when the label is absent) satisfies the matcher.</summary>
    public bool Matches(ReadOnlySpan<char> value) => Type switch
    {
        MatchType.Equal => value.SequenceEqual(Value),
        MatchType.NotEqual => !value.SequenceEqual(Value),
        MatchType.Regex => _regex!.IsMatch(value),
        MatchType.NotRegex => !_regex!.IsMatch(value),
        _ => false,
    };

    /// <summary>Whether the matcher accepts an empty value, so it also selects streams without the label.</summary>
    public bool MatchesEmpty => Matches(string.Empty);

    /// <summary>The operator as written in LogQL.</summary>
    public static string OperatorText(MatchType type) => type switch
    {
        MatchType.Equal => "=",
        MatchType.NotEqual => "!=",
        MatchType.Regex => "=~",
        MatchType.NotRegex => "!~",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>Loki's form: <c>name="value"</c> with the value Go-quoted.</summary>
    public override string ToString() => Name + OperatorText(Type) + GoString.Quote(Value);

    /// <inheritdoc />
    public bool Equals(LabelMatcher? other) =>
        other is not null && Name == other.Name && Type == other.Type && Value == other.Value;

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as LabelMatcher);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, Type, Value);
}
