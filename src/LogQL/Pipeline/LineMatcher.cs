using System.Text;
using System.Text.RegularExpressions;
using LokiSharp.LogQL.Literals;

namespace LokiSharp.LogQL.Pipeline;

/// <summary>A compiled test on a log line's bytes; used for line filters and, on label values, for label filters.</summary>
public abstract class LineMatcher
{
    /// <summary>Whether the line passes.</summary>
    public abstract bool Matches(ReadOnlySpan<byte> line);

    /// <summary>Matches everything.</summary>
    public static LineMatcher True { get; } = new TrueMatcher();

    private sealed class TrueMatcher : LineMatcher
    {
        public override bool Matches(ReadOnlySpan<byte> line) => true;
    }
}

/// <summary>Lines that are not empty (the simplification of <c>.+</c>).</summary>
internal sealed class NonEmptyMatcher : LineMatcher
{
    public override bool Matches(ReadOnlySpan<byte> line) => !line.IsEmpty;
}

/// <summary>Case-sensitive substring search, vectorised by <see cref="MemoryExtensions.IndexOf{T}(ReadOnlySpan{T}, ReadOnlySpan{T})"/>.</summary>
internal sealed class ContainsMatcher(byte[] literal) : LineMatcher
{
    public byte[] Literal { get; } = literal;

    public override bool Matches(ReadOnlySpan<byte> line) => line.IndexOf(Literal) >= 0;
}

/// <summary>ASCII case-insensitive substring search (see <see cref="IgnoreCaseLiteral"/>).</summary>
internal sealed class ContainsIgnoreCaseMatcher(byte[] asciiLiteral) : LineMatcher
{
    public IgnoreCaseLiteral Literal { get; } = new(asciiLiteral);

    public override bool Matches(ReadOnlySpan<byte> line) => Literal.IsFoundIn(line);
}

/// <summary>
/// An ASCII fast path that is exact only on ASCII input (e.g. a case-insensitive literal with k or s, which RE2 also
/// folds to U+212A and U+017F): lines holding any other byte go to the full matcher.
/// </summary>
internal sealed class AsciiFastPathMatcher(LineMatcher ascii, LineMatcher full) : LineMatcher
{
    public override bool Matches(ReadOnlySpan<byte> line) => Ascii.IsValid(line) ? ascii.Matches(line) : full.Matches(line);
}

/// <summary>Whole-value equality, optionally ASCII case-insensitive (label filters' literal regexes).</summary>
internal sealed class EqualsMatcher(byte[] literal, bool ignoreCase) : LineMatcher
{
    public override bool Matches(ReadOnlySpan<byte> line) =>
        ignoreCase ? line.Length == literal.Length && Ascii.EqualsIgnoreCase(line, literal) : line.SequenceEqual(literal);
}

/// <summary>Matches when any operand matches.</summary>
internal sealed class AnyMatcher(LineMatcher[] operands) : LineMatcher
{
    public LineMatcher[] Operands { get; } = operands;

    public override bool Matches(ReadOnlySpan<byte> line)
    {
        foreach (var operand in Operands)
        {
            if (operand.Matches(line))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>Negation.</summary>
internal sealed class NotMatcher(LineMatcher inner) : LineMatcher
{
    public override bool Matches(ReadOnlySpan<byte> line) => !inner.Matches(line);
}

/// <summary>
/// A regex on the linear-time engine. The UTF-8 line is decoded into a reusable buffer (invalid bytes become
/// U+FFFD, as RE2 sees them), so matching allocates nothing.
/// </summary>
internal sealed class RegexMatcher(Regex regex) : LineMatcher
{
    private char[] _buffer = new char[512];

    public Regex Regex { get; } = regex;

    public override bool Matches(ReadOnlySpan<byte> line)
    {
        if (_buffer.Length < line.Length)
        {
            _buffer = new char[Math.Max(line.Length, _buffer.Length * 2)];
        }

        var n = Encoding.UTF8.GetChars(line, _buffer);
        return Regex.IsMatch(_buffer.AsSpan(0, n));
    }
}
