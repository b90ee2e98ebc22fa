using System.Globalization;
using System.Text;

namespace LokiSharp.LogQL.Pipeline;

/// <summary>One step of a json parameter path: a member name or an array index.</summary>
internal readonly record struct JsonPathSegment(byte[]? Key, int Index);

/// <summary>Json parameter paths (<c>a.b</c>, <c>a["b c"]</c>, <c>list[0]</c>) and their lookup in a line.</summary>
internal static class JsonPath
{
    /// <summary>Parses a path; returns null and an error text when it is not valid.</summary>
    public static JsonPathSegment[]? TryParse(string expression, out string? error)
    {
        error = null;
        var segments = new List<JsonPathSegment>();
        var i = 0;
        var s = expression;
        var expectField = true;
        while (i < s.Length)
        {
            var c = s[i];
            if (c is ' ' or '\t' or '\n')
            {
                i++;
                continue;
            }

            if (c == '.')
            {
                if (segments.Count == 0 || expectField)
                {
                    error = "syntax error: unexpected DOT";
                    return null;
                }

                expectField = true;
                i++;
                if (i >= s.Length || !(char.IsAsciiLetter(s[i]) || s[i] == '_'))
                {
                    error = i >= s.Length
                        ? "syntax error: unexpected $end, expecting FIELD"
                        : "syntax error: unexpected " + Describe(s[i]) + ", expecting FIELD";
                    return null;
                }

                continue;
            }

            if (char.IsAsciiLetter(c) || c == '_')
            {
                if (!expectField)
                {
                    error = "syntax error: unexpected FIELD";
                    return null;
                }

                var start = i;
                while (i < s.Length && (char.IsAsciiLetterOrDigit(s[i]) || s[i] == '_'))
                {
                    i++;
                }

                segments.Add(new JsonPathSegment(Encoding.UTF8.GetBytes(s[start..i]), -1));
                expectField = false;
                continue;
            }

            if (c == '[')
            {
                i++;
                while (i < s.Length && s[i] is ' ' or '\t' or '\n')
                {
                    i++;
                }

                if (i < s.Length && s[i] == '"')
                {
                    var close = i + 1;
                    while (close < s.Length && s[close] != '"' && s[close] != ']')
                    {
                        close++;
                    }

                    segments.Add(new JsonPathSegment(Encoding.UTF8.GetBytes(s[(i + 1)..close]), -1));
                    i = close < s.Length && s[close] == '"' ? close + 1 : close;
                }
                else if (i < s.Length && char.IsAsciiDigit(s[i]))
                {
                    var start = i;
                    while (i < s.Length && char.IsAsciiDigit(s[i]))
                    {
                        i++;
                    }

                    if (i < s.Length && s[i] == '.')
                    {
                        error = "cannot use float as array index";
                        return null;
                    }

                    if (!int.TryParse(s.AsSpan(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                    {
                        error = "strconv.Atoi: parsing \"" + s[start..i] + "\": value out of range";
                        return null;
                    }

                    segments.Add(new JsonPathSegment(null, index));
                }
                else
                {
                    error = i >= s.Length ? "syntax error: unexpected $end" : "unexpected char " + s[i];
                    return null;
                }

                while (i < s.Length && s[i] is ' ' or '\t' or '\n')
                {
                    i++;
                }

                if (i >= s.Length || s[i] != ']')
                {
                    error = i >= s.Length ? "syntax error: unexpected $end, expecting RSB" : "non-integer value: " + s[i];
                    return null;
                }

                i++;
                expectField = false;
                continue;
            }

            error = "unexpected char " + c;
            return null;
        }

        if (segments.Count == 0)
        {
            error = "syntax error: unexpected $end";
            return null;
        }

        return [.. segments];
    }

    private static string Describe(char c) => char.IsAsciiDigit(c) ? "INDEX" : c == '[' ? "LSB" : c == '.' ? "DOT" : c.ToString();

    /// <summary>
    /// Finds the value at <paramref name="path"/>; <paramref name="found"/> is false when the path does not exist.
    /// Returns an error text when the JSON on the way is malformed.
    /// </summary>
    public static string? Find(ReadOnlySpan<byte> data, JsonPathSegment[] path, out int start, out int length, out JsonKind kind,
        out bool escaped, out bool found)
    {
        found = false;
        var error = JsonScanner.ReadValue(data, 0, out start, out length, out kind, out escaped, out _);
        if (error is not null)
        {
            return error;
        }

        foreach (var segment in path)
        {
            var container = data.Slice(start, length);
            var baseOffset = start;
            if (segment.Key is { } key)
            {
                if (kind != JsonKind.Object)
                {
                    return null;
                }

                error = FindMember(container, key, out var ms, out length, out kind, out escaped, out var hit);
                if (error is not null || !hit)
                {
                    return error;
                }

                start = baseOffset + ms;
            }
            else
            {
                if (kind != JsonKind.Array)
                {
                    return null;
                }

                error = FindElement(container, segment.Index, out var es, out length, out kind, out escaped, out var hit);
                if (error is not null || !hit)
                {
                    return error;
                }

                start = baseOffset + es;
            }
        }

        found = true;
        return null;
    }

    private static string? FindMember(ReadOnlySpan<byte> obj, byte[] key, out int start, out int length, out JsonKind kind, out bool escaped, out bool hit)
    {
        start = length = 0;
        kind = JsonKind.Null;
        escaped = hit = false;
        var offset = JsonScanner.NextToken(obj, 1);
        byte[]? buffer = null;
        while (offset >= 0 && offset < obj.Length)
        {
            if (obj[offset] == '}')
            {
                return null;
            }

            if (obj[offset] != '"')
            {
                return JsonScanner.MalformedObject;
            }

            var se = JsonScanner.StringEnd(obj[(offset + 1)..], out var keyEscaped);
            if (se < 0)
            {
                return JsonScanner.MalformedJson;
            }

            var name = obj.Slice(offset + 1, se - 1);
            if (keyEscaped)
            {
                buffer ??= new byte[name.Length];
                if (JsonScanner.Unescape(name, ref buffer, out var n))
                {
                    name = buffer.AsSpan(0, n);
                }
            }

            offset = JsonScanner.NextToken(obj, offset + 1 + se);
            if (offset < 0 || obj[offset] != ':')
            {
                return JsonScanner.MalformedJson;
            }

            var error = JsonScanner.ReadValue(obj, offset + 1, out start, out length, out kind, out escaped, out var end);
            if (error is not null)
            {
                return error;
            }

            if (name.SequenceEqual(key))
            {
                hit = true;
                return null;
            }

            offset = JsonScanner.NextToken(obj, end);
            if (offset < 0)
            {
                return JsonScanner.MalformedObject;
            }

            if (obj[offset] == ',')
            {
                offset = JsonScanner.NextToken(obj, offset + 1);
            }
        }

        return null;
    }

    private static string? FindElement(ReadOnlySpan<byte> array, int index, out int start, out int length, out JsonKind kind, out bool escaped, out bool hit)
    {
        start = length = 0;
        kind = JsonKind.Null;
        escaped = hit = false;
        var offset = JsonScanner.NextToken(array, 1);
        var i = 0;
        while (offset >= 0 && offset < array.Length && array[offset] != ']')
        {
            var error = JsonScanner.ReadValue(array, offset, out start, out length, out kind, out escaped, out var end);
            if (error is not null)
            {
                return error;
            }

            if (i == index)
            {
                hit = true;
                return null;
            }

            i++;
            offset = JsonScanner.NextToken(array, end);
            if (offset < 0)
            {
                return JsonScanner.MalformedArray;
            }

            if (array[offset] == ',')
            {
                offset = JsonScanner.NextToken(array, offset + 1);
            }
        }

        return null;
    }
}
