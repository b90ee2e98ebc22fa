using System.Text;
using System.Text.RegularExpressions;
using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Pipeline;

/// <summary><c>| regexp "re"</c>: each named group becomes a label (unmatched optional groups give <c>""</c>).</summary>
public sealed class RegexpParserStep : PipelineStage
{
    private readonly Regex _regex;
    private readonly (int Group, string Name)[] _groups;

    internal RegexpParserStep(Regex regex, (int Group, string Name)[] groups)
    {
        _regex = regex;
        _groups = groups;
    }

    /// <inheritdoc />
    public override bool Process(long timestampNs, ref ReadOnlySpan<byte> line, LineLabels labels)
    {
        var match = _regex.Match(Encoding.UTF8.GetString(line));
        if (!match.Success)
        {
            return true;
        }

        foreach (var (group, name) in _groups)
        {
            var key = labels.ParsedName(name);
            if (labels.WasExtracted(key))
            {
                continue;
            }

            var g = match.Groups[group];
            labels.Set(LabelCategory.Parsed, key, g.Success ? g.Value : string.Empty);
        }

        return true;
    }
}

/// <summary>
/// <c>| pattern "&lt;ip&gt; - &lt;_&gt; [&lt;ts&gt;]"</c>: a leading literal must start the line; each capture runs to the next
/// literal (or the end); a missing literal ends extraction with the capture taking the rest.
/// </summary>
public sealed class PatternParserStep : PipelineStage
{
    // Literal nodes are byte arrays, captures are keys (null for <_>); consecutive captures are rejected at build.
    private readonly byte[]? _leading;
    private readonly (ParsedKey? Key, byte[]? Following)[] _captures;

    // Captures after the last named one extract nothing, so the scan stops there.
    private readonly int _lastNamed;

    internal PatternParserStep(byte[]? leading, (string? Name, byte[]? Following)[] captures)
    {
        _leading = leading;
        _captures = new (ParsedKey?, byte[]?)[captures.Length];
        _lastNamed = -1;
        for (var i = 0; i < captures.Length; i++)
        {
            var (name, following) = captures[i];
            _captures[i] = (name is null ? null : new ParsedKey(name), following);
            if (name is not null)
            {
                _lastNamed = i;
            }
        }
    }

    /// <inheritdoc />
    public override bool Process(long timestampNs, ref ReadOnlySpan<byte> line, LineLabels labels)
    {
        if (line.IsEmpty)
        {
            return true;
        }

        var rest = line;
        if (_leading is not null)
        {
            if (!rest.StartsWith(_leading))
            {
                return true;
            }

            rest = rest[_leading.Length..];
        }

        for (var c = 0; c <= _lastNamed; c++)
        {
            var (key, following) = _captures[c];
            ReadOnlySpan<byte> value;
            var stop = false;
            var i = following is null ? -1 : rest.IndexOf(following);
            if (i < 0)
            {
                value = rest;
                stop = true;
            }
            else
            {
                value = rest[..i];
                rest = rest[(i + following!.Length)..];
            }

            if (key is not null)
            {
                // As ParsedName/WasExtracted/Set would, with the name resolved once per stream and repeated values reused.
                var name = key.Resolve(labels, null, out _, out var shadowsStream);
                if (!labels.WasExtracted(name))
                {
                    var text = key.Decode(value);
                    labels.SetExtracted(name, text, shadowsStream, key.HashTerm(name, text));
                }
            }

            if (stop)
            {
                break;
            }
        }

        return true;
    }
}

/// <summary><c>| drop a, b="x"</c>: removes labels (matchers only when the value matches); dropping an error label clears it.</summary>
public sealed class DropLabelsStep(IReadOnlyList<(string Name, LabelMatcher? Matcher)> items) : PipelineStage
{
    /// <inheritdoc />
    public override bool Process(long timestampNs, ref ReadOnlySpan<byte> line, LineLabels labels)
    {
        foreach (var (name, matcher) in items)
        {
            if (name == PipelineLabels.Error)
            {
                if (matcher is null || matcher.Matches(labels.Error))
                {
                    labels.Error = string.Empty;
                }

                continue;
            }

            if (name == PipelineLabels.ErrorDetails)
            {
                if (matcher is null || matcher.Matches(labels.ErrorDetails))
                {
                    labels.ErrorDetails = string.Empty;
                }

                continue;
            }

            var value = labels.Get(name);
            if (value is not null && (matcher is null || matcher.Matches(value)))
            {
                labels.Delete(name);
            }
        }

        return true;
    }
}

/// <summary><c>| keep a, b="x"</c>: removes every label not listed (error labels always stay).</summary>
public sealed class KeepLabelsStep(IReadOnlyList<(string Name, LabelMatcher? Matcher)> items) : PipelineStage
{
    private readonly List<string> _remove = [];

    /// <inheritdoc />
    public override bool Process(long timestampNs, ref ReadOnlySpan<byte> line, LineLabels labels)
    {
        if (items.Count == 0)
        {
            return true;
        }

        _remove.Clear();
        foreach (var pair in labels.Snapshot(includeErrors: false))
        {
            if (pair.Name is PipelineLabels.Error or PipelineLabels.ErrorDetails or PipelineLabels.PreserveError)
            {
                continue;
            }

            var keep = false;
            foreach (var (name, matcher) in items)
            {
                if (name == pair.Name && (matcher is null || matcher.Matches(pair.Value)))
                {
                    keep = true;
                    break;
                }
            }

            if (!keep)
            {
                _remove.Add(pair.Name);
            }
        }

        foreach (var name in _remove)
        {
            labels.Delete(name);
        }

        return true;
    }
}

/// <summary><c>| decolorize</c>: strips ANSI escape sequences from the line.</summary>
public sealed class DecolorizeStep : PipelineStage
{
    private byte[] _buffer = new byte[512];

    /// <inheritdoc />
    public override bool RewritesLine => true;

    /// <inheritdoc />
    public override bool Process(long timestampNs, ref ReadOnlySpan<byte> line, LineLabels labels)
    {
        // Fast path: nothing to strip unless ESC (0x1B) or the C1 CSI (U+009B, UTF-8 C2 9B) occurs.
        if (line.IndexOf((byte)0x1B) < 0 && line.IndexOf("\u009B"u8) < 0)
        {
            return true;
        }

        if (_buffer.Length < line.Length)
        {
            _buffer = new byte[line.Length * 2];
        }

        var w = 0;
        var i = 0;
        while (i < line.Length)
        {
            var introducer = line[i] == 0x1B ? 1 : (line[i] == 0xC2 && i + 1 < line.Length && line[i + 1] == 0x9B ? 2 : 0);
            if (introducer > 0)
            {
                var end = AnsiSequenceEnd(line, i + introducer);
                if (end > 0)
                {
                    i = end;
                    continue;
                }
            }

            _buffer[w++] = line[i++];
        }

        line = _buffer.AsSpan(0, w);
        return true;
    }

    // The sequence grammar Loki strips: [[\]()#;?]* then either an OSC-like "[A-Za-z0-9]*(;[A-Za-z0-9]*)* BEL" or a
    // CSI-like "(\d{1,4}(;\d{0,4})*)? final" with a final byte from [\dA-PRZcf-ntqry=><~]. Returns the end, or -1.
    private static int AnsiSequenceEnd(ReadOnlySpan<byte> s, int i)
    {
        while (i < s.Length && s[i] is (byte)'[' or (byte)']' or (byte)'(' or (byte)')' or (byte)'#' or (byte)';' or (byte)'?')
        {
            i++;
        }

        // First alternative: alphanumerics and semicolons terminated by BEL.
        var j = i;
        while (j < s.Length && (char.IsAsciiLetterOrDigit((char)s[j]) || s[j] == ';'))
        {
            j++;
        }

        if (j < s.Length && s[j] == 0x07)
        {
            return j + 1;
        }

        // Second alternative: up to four digits, then ;-separated groups of up to four digits, then a final byte.
        j = i;
        var digits = 0;
        while (j < s.Length && digits < 4 && char.IsAsciiDigit((char)s[j]))
        {
            j++;
            digits++;
        }

        if (digits > 0)
        {
            while (j < s.Length && s[j] == ';')
            {
                var k = j + 1;
                var d = 0;
                while (k < s.Length && d < 4 && char.IsAsciiDigit((char)s[k]))
                {
                    k++;
                    d++;
                }

                j = k;
            }
        }

        if (j < s.Length && IsFinal(s[j]))
        {
            return j + 1;
        }

        // Without parameters, a lone final byte right after the introducer still forms a sequence.
        return i < s.Length && IsFinal(s[i]) ? i + 1 : -1;
    }

    private static bool IsFinal(byte b) =>
        char.IsAsciiDigit((char)b) || (b >= 'A' && b <= 'P') || b == 'R' || b == 'Z' || b == 'c' || (b >= 'f' && b <= 'n') ||
        b is (byte)'q' or (byte)'r' or (byte)'t' or (byte)'y' or (byte)'=' or (byte)'>' or (byte)'<' or (byte)'~';
}
