using System.Text;
using LokiSharp.LogQL.Labels;

namespace LokiSharp.Ingester.Distribution;

/// <summary>
/// Loki 3's <c>detected_level</c>: from a level-like stream label or structured metadata, else sniffed from the
/// line (a JSON or logfmt level field, else the earliest level word in the text), normalised to
/// trace/debug/info/warn/error/critical/fatal, or <c>unknown</c>.
/// </summary>
public static class LevelDetector
{
    /// <summary>The structured-metadata name Loki writes the level under.</summary>
    public const string DetectedLevel = "detected_level";

    private static readonly string[] LevelFields =
    [
        "level", "LEVEL", "Level", "log.level", "severity", "SEVERITY", "Severity", "SeverityText", "lvl", "LVL", "Lvl",
        "severity_text", "Severity_Text", "SEVERITY_TEXT",
    ];

    private static readonly (string Word, string Level)[] LevelWords =
    [
        ("trace", "trace"), ("debug", "debug"), ("fatal", "fatal"), ("critical", "critical"), ("error", "error"),
        ("err", "error"), ("warning", "warn"), ("warn", "warn"), ("info", "info"),
    ];

    /// <summary>The level for an entry.</summary>
    public static string Detect(LabelSet labels, ReadOnlySpan<Push.MetadataPair> metadata, ReadOnlySpan<byte> line)
    {
        foreach (var field in LevelFields)
        {
            if (labels.Get(field) is { } value)
            {
                return Normalise(value);
            }
        }

        foreach (var field in LevelFields)
        {
            foreach (var pair in metadata)
            {
                if (pair.Name == field)
                {
                    return Normalise(pair.Value);
                }
            }
        }

        foreach (var pair in metadata)
        {
            if (pair.Name == "severity_number")
            {
                return FromOtlpSeverity(pair.Value);
            }
        }

        return FromLine(line);
    }

    /// <summary>Loki's level spellings mapped onto its level names; anything else is kept as is.</summary>
    public static string Normalise(string level) => level.ToUpperInvariant() switch
    {
        "TRACE" or "TRC" => "trace",
        "DEBUG" or "DBG" => "debug",
        "INFO" or "INF" or "INFORMATION" => "info",
        "WARN" or "WRN" or "WARNING" => "warn",
        "ERROR" or "ERR" => "error",
        "CRITICAL" => "critical",
        "FATAL" => "fatal",
        _ => level,
    };

    private static string FromOtlpSeverity(string text) => int.TryParse(text, out var number)
        ? number switch
        {
            0 => "unknown",
            <= 4 => "trace",
            <= 8 => "debug",
            <= 12 => "info",
            <= 16 => "warn",
            <= 20 => "error",
            <= 24 => "fatal",
            _ => "unknown",
        }
        : "info";

    private static string FromLine(ReadOnlySpan<byte> line)
    {
        var trimmed = line.Trim(" \t\r\n"u8);
        string? value = null;
        if (trimmed.Length >= 2 && trimmed[0] == (byte)'{' && trimmed[^1] == (byte)'}')
        {
            value = JsonLevel(trimmed);
        }
        else if (line.IndexOf((byte)'=') >= 0)
        {
            value = LogfmtLevel(line);
        }

        if (value is not null)
        {
            var normalised = Normalise(value);
            if (normalised is "trace" or "debug" or "info" or "warn" or "error" or "critical" or "fatal")
            {
                return normalised;
            }
        }

        return FromText(line);
    }

    private static string? JsonLevel(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new System.Text.Json.Utf8JsonReader(json);
            while (reader.Read())
            {
                if (reader.TokenType != System.Text.Json.JsonTokenType.PropertyName)
                {
                    continue;
                }

                var name = reader.GetString();
                reader.Read();
                if (reader.TokenType == System.Text.Json.JsonTokenType.String && Array.IndexOf(LevelFields, name) >= 0)
                {
                    return reader.GetString();
                }
            }
        }
        catch (System.Text.Json.JsonException)
        {
            // Not JSON after all: fall back to the text scan.
        }

        return null;
    }

    private static string? LogfmtLevel(ReadOnlySpan<byte> line)
    {
        var best = LevelFields.Length;
        string? result = null;
        var i = 0;
        while (i < line.Length)
        {
            while (i < line.Length && line[i] == (byte)' ')
            {
                i++;
            }

            var keyStart = i;
            while (i < line.Length && line[i] != (byte)'=' && line[i] != (byte)' ')
            {
                i++;
            }

            var key = line[keyStart..i];
            if (i >= line.Length || line[i] != (byte)'=')
            {
                continue;
            }

            i++;
            int valueStart;
            int valueEnd;
            if (i < line.Length && line[i] == (byte)'"')
            {
                valueStart = ++i;
                while (i < line.Length && line[i] != (byte)'"')
                {
                    i += line[i] == (byte)'\\' ? 2 : 1;
                }

                valueEnd = Math.Min(i, line.Length);
                i++;
            }
            else
            {
                valueStart = i;
                while (i < line.Length && line[i] != (byte)' ')
                {
                    i++;
                }

                valueEnd = i;
            }

            for (var f = 0; f < best; f++)
            {
                if (Ascii.EqualsIgnoreCase(key, LevelFields[f]))
                {
                    best = f;
                    result = Encoding.UTF8.GetString(line[valueStart..valueEnd]);
                    break;
                }
            }
        }

        return result;
    }

    private static string FromText(ReadOnlySpan<byte> line)
    {
        var bestIndex = int.MaxValue;
        var best = "unknown";
        foreach (var (word, level) in LevelWords)
        {
            var position = IndexOfBoundedWord(line, word);
            if (position >= 0 && position < bestIndex)
            {
                bestIndex = position;
                best = level;
                if (position == 0)
                {
                    break;
                }
            }
        }

        return best;
    }

    // Case-insensitive search for a level word standing on its own (left boundary excludes ':').
    private static int IndexOfBoundedWord(ReadOnlySpan<byte> line, string word)
    {
        Span<byte> lower = stackalloc byte[word.Length];
        Encoding.ASCII.GetBytes(word, lower);
        var offset = 0;
        while (offset <= line.Length - word.Length)
        {
            var found = IndexOfIgnoreCase(line[offset..], lower);
            if (found < 0)
            {
                return -1;
            }

            var position = offset + found;
            var end = position + word.Length;
            if ((position == 0 || IsLeftBoundary(line[position - 1])) && (end >= line.Length || IsRightBoundary(line[end])))
            {
                return position;
            }

            offset = position + 1;
        }

        return -1;
    }

    private static int IndexOfIgnoreCase(ReadOnlySpan<byte> haystack, ReadOnlySpan<byte> lowerNeedle)
    {
        var upperFirst = (byte)(lowerNeedle[0] - 32);
        var offset = 0;
        while (true)
        {
            var rest = haystack[offset..];
            var index = rest.IndexOfAny(lowerNeedle[0], upperFirst);
            if (index < 0 || rest.Length - index < lowerNeedle.Length)
            {
                return -1;
            }

            if (Ascii.EqualsIgnoreCase(rest.Slice(index, lowerNeedle.Length), lowerNeedle))
            {
                return offset + index;
            }

            offset += index + 1;
        }
    }

    private static bool IsLeftBoundary(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'[' or (byte)'(' or (byte)'{'
        or (byte)'"' or (byte)'\'' or (byte)'=' or (byte)'|';

    private static bool IsRightBoundary(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'[' or (byte)']' or (byte)'('
        or (byte)')' or (byte)'{' or (byte)'}' or (byte)':' or (byte)',' or (byte)'!' or (byte)'"' or (byte)'\'' or (byte)'=' or (byte)'|';
}
