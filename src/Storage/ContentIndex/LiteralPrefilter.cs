using System.Text;
using LokiSharp.LogQL.Literals;

namespace LokiSharp.Storage.ContentIndex;

/// <summary>
/// The content index's pre-filter: literals every returned line must contain, a list of requirements, each met by any
/// one of its alternatives, compared as UTF-8 bytes, case-sensitively or ignoring ASCII case (a pipeline's
/// <c>LogPipeline.LiteralRequirements</c>). Readers use it to skip blocks through their n-gram content filters and
/// to drop non-matching lines before handing them out; the query's own line filters still run on what passes.
/// </summary>
public sealed class LiteralPrefilter
{
    private readonly Requirement[] _requirements;

    /// <summary>Creates a filter requiring every literal (compared as UTF-8 bytes, case-sensitive).</summary>
    public LiteralPrefilter(params IEnumerable<string> literals)
    {
        var list = new List<Requirement>();
        foreach (var literal in literals)
        {
            if (literal.Length > 0)
            {
                list.Add(new Requirement([Encoding.UTF8.GetBytes(literal)], null));
            }
        }

        _requirements = [.. list];
    }

    /// <summary>
    /// Creates a filter from a pipeline's literal requirements. A case-insensitive literal must be ASCII; with a k or s
    /// it also admits every line holding non-ASCII bytes (RE2 folds those letters to U+212A and U+017F).
    /// </summary>
    public LiteralPrefilter(IReadOnlyList<LiteralRequirement> requirements)
    {
        var list = new List<Requirement>(requirements.Count);
        foreach (var requirement in requirements)
        {
            if (requirement.AnyOf.Count == 0 || (requirement.IgnoreCase && !AllAscii(requirement.AnyOf)))
            {
                continue;
            }

            var alternatives = new byte[requirement.AnyOf.Count][];
            var ignoreCase = requirement.IgnoreCase ? new IgnoreCaseLiteral[alternatives.Length] : null;
            var emptyAlternative = false;
            for (var i = 0; i < alternatives.Length; i++)
            {
                var literal = requirement.AnyOf[i];
                emptyAlternative |= literal.Length == 0;
                alternatives[i] = literal;
                if (ignoreCase is not null)
                {
                    ignoreCase[i] = new IgnoreCaseLiteral(literal);
                }
            }

            if (!emptyAlternative)
            {
                list.Add(new Requirement(alternatives, ignoreCase));
            }
        }

        _requirements = [.. list];
    }

    /// <summary>Whether the filter requires anything (a filter without requirements passes every line).</summary>
    public bool IsEmpty => _requirements.Length == 0;

    /// <summary>The case-sensitive single literals (UTF-8), the requirements a plain substring test captures.</summary>
    public IReadOnlyList<byte[]> Literals
    {
        get
        {
            var literals = new List<byte[]>();
            foreach (var r in _requirements)
            {
                if (r.IgnoreCase is null && r.Alternatives.Length == 1)
                {
                    literals.Add(r.Alternatives[0]);
                }
            }

            return literals;
        }
    }

    /// <summary>Whether a block with this content filter and id filter (either may be empty) may hold a matching line.</summary>
    public bool MayMatchBlock(ReadOnlySpan<byte> blockFilter, ReadOnlySpan<byte> idFilter = default)
    {
        if (blockFilter.IsEmpty && idFilter.IsEmpty)
        {
            return true;
        }

        foreach (var r in _requirements)
        {
            var any = false;
            for (var i = 0; i < r.Alternatives.Length && !any; i++)
            {
                any = r.IgnoreCase is { } ci
                    ? NGramFilter.MayContainIgnoreCase(blockFilter, ci[i].Lower)
                    : NGramFilter.AllSet(idFilter, r.IdProbes[i]) && NGramFilter.AllSet(blockFilter, r.TextProbes[i]);
            }

            if (!any)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The columns of transposed id filters of one size (<paramref name="rows"/>[p] has bit c set when column c's filter
    /// has bit p) whose filter may hold a matching line, into <paramref name="result"/> (one bit per column). It answers
    /// as <see cref="MayMatchBlock"/> would from the id filter alone: an alternative it cannot test (ignoring case, or
    /// without an id run) lets every column through, and the text filter is left to the caller's own check.
    /// </summary>
    internal void MayMatchColumns(ulong[][] rows, Span<ulong> result)
    {
        result.Fill(ulong.MaxValue);
        var mask = (uint)rows.Length - 1;
        var any = new ulong[result.Length];
        var alternative = new ulong[result.Length];
        foreach (var r in _requirements)
        {
            Array.Clear(any);
            var untested = false;
            for (var i = 0; i < r.Alternatives.Length && !untested; i++)
            {
                if (r.IgnoreCase is not null || r.IdProbes[i] is not { } probe)
                {
                    untested = true;
                    continue;
                }

                alternative.AsSpan().Fill(ulong.MaxValue);
                foreach (var h in probe)
                {
                    var row = rows[h & mask];
                    for (var w = 0; w < alternative.Length; w++)
                    {
                        alternative[w] &= row[w];
                    }
                }

                for (var w = 0; w < any.Length; w++)
                {
                    any[w] |= alternative[w];
                }
            }

            if (!untested)
            {
                for (var w = 0; w < result.Length; w++)
                {
                    result[w] &= any[w];
                }
            }
        }
    }

    /// <summary>Whether <paramref name="line"/> meets every requirement.</summary>
    public bool Matches(ReadOnlySpan<byte> line)
    {
        foreach (var r in _requirements)
        {
            if (!r.IsMetBy(line))
            {
                return false;
            }
        }

        return true;
    }

    private static bool AllAscii(IReadOnlyList<byte[]> literals)
    {
        foreach (var literal in literals)
        {
            if (!Ascii.IsValid(literal))
            {
                return false;
            }
        }

        return true;
    }

    private sealed class Requirement(byte[][] alternatives, IgnoreCaseLiteral[]? ignoreCase)
    {
        public byte[][] Alternatives { get; } = alternatives;

        public IgnoreCaseLiteral[]? IgnoreCase { get; } = ignoreCase;

        // Each alternative's gram hashes, derived once per query rather than once per block tested (a needle search
        // tests every block of every stream).
        public uint[]?[] TextProbes { get; } = [.. alternatives.Select(a => NGramFilter.TextProbe(a))];

        public uint[]?[] IdProbes { get; } = [.. alternatives.Select(a => NGramFilter.IdProbe(a))];

        public bool IsMetBy(ReadOnlySpan<byte> line)
        {
            if (IgnoreCase is { } ci)
            {
                var foldsBeyondAscii = false;
                foreach (var literal in ci)
                {
                    if (literal.IsFoundIn(line))
                    {
                        return true;
                    }

                    foldsBeyondAscii |= literal.FoldsBeyondAscii;
                }

                return foldsBeyondAscii && !Ascii.IsValid(line);
            }

            foreach (var literal in Alternatives)
            {
                if (line.IndexOf(literal) >= 0)
                {
                    return true;
                }
            }

            return false;
        }
    }
}
