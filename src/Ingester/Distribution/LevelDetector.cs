using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
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
    public static string Detect(LabelSet labels, ReadOnlySpan<Push.MetadataPair> metadata, ReadOnlySpan<byte> line) =>
        Detect(FromLabels(labels), metadata, line);

    /// <summary>The level a stream's labels give all its entries, or null; computed once per stream of a push.</summary>
    public static string? FromLabels(LabelSet labels)
    {
        foreach (var field in LevelFields)
        {
            if (labels.Get(field) is { } value)
            {
                return Normalise(value);
            }
        }

        return null;
    }

    /// <summary>The level for an entry, given what <see cref="FromLabels"/> found for its stream.</summary>
    public static string Detect(string? labelLevel, ReadOnlySpan<Push.MetadataPair> metadata, ReadOnlySpan<byte> line)
    {
        if (labelLevel is not null)
        {
            return labelLevel;
        }

        // Most entries carry no metadata: the loops below would still walk every level field per entry.
        return metadata.IsEmpty ? FromLine(line) : FromMetadata(metadata) ?? FromLine(line);
    }

    private static string? FromMetadata(ReadOnlySpan<Push.MetadataPair> metadata)
    {
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

        return null;
    }

    /// <summary>Loki's level spellings mapped onto its level names; anything else is kept as is.</summary>
    public static string Normalise(string level) => NormaliseOrNull(level.AsSpan()) ?? level;

    // Case-insensitive, allocation-free: this runs for every pushed entry.
    // The spellings Loki recognises and the level each stands for.
    private static readonly (string Word, string Level)[] Spellings =
    [
        ("trc", "trace"), ("dbg", "debug"), ("inf", "info"), ("wrn", "warn"), ("err", "error"),
        ("info", "info"), ("warn", "warn"), ("trace", "trace"), ("debug", "debug"), ("error", "error"),
        ("fatal", "fatal"), ("warning", "warn"), ("critical", "critical"), ("information", "info"),
    ];

    private static string? NormaliseOrNull(ReadOnlySpan<char> level)
    {
        foreach (var (word, normalised) in Spellings)
        {
            if (level.Equals(word, StringComparison.OrdinalIgnoreCase))
            {
                return normalised;
            }
        }

        return null;
    }

    // The same on UTF-8 bytes, so a level read from a line never becomes a string.
    private static string? NormaliseOrNull(ReadOnlySpan<byte> level)
    {
        foreach (var (word, normalised) in Spellings)
        {
            if (level.Length == word.Length && Ascii.EqualsIgnoreCase(level, word))
            {
                return normalised;
            }
        }

        return null;
    }

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
        string? level = null;
        if (trimmed.Length >= 2 && trimmed[0] == (byte)'{' && trimmed[^1] == (byte)'}')
        {
            level = JsonLevel(trimmed);
        }
        else if (MayHoldLevelKey(line))
        {
            level = LogfmtLevel(line);
        }

        return level ?? FromText(line);
    }

    // The known level of the first level field, or null (also when its value is no level).
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

                var isLevelField = IsLevelField(ref reader);
                reader.Read();
                if (isLevelField && reader.TokenType == System.Text.Json.JsonTokenType.String)
                {
                    return reader.ValueIsEscaped || reader.HasValueSequence ? NormaliseOrNull(reader.GetString().AsSpan()) : NormaliseOrNull(reader.ValueSpan);
                }
            }
        }
        catch (System.Text.Json.JsonException)
        {
            // Not JSON after all: fall back to the text scan.
        }

        return null;
    }

    private static bool IsLevelField(ref System.Text.Json.Utf8JsonReader reader)
    {
        foreach (var field in LevelFieldsUtf8)
        {
            if (reader.ValueTextEquals(field))
            {
                return true;
            }
        }

        return false;
    }

    private static readonly byte[][] LevelFieldsUtf8 = Array.ConvertAll(LevelFields, Encoding.UTF8.GetBytes);

    // Whether some '=' follows the last three letters of a level field (vel, lvl, ity, ext in any case): a level key is
    // always right before an '=', so a line without such an '=' (most logfmt-like lines: access logs, SQL) has none, and
    // the logfmt scan, which would split the whole line into keys and values, cannot find one.
    private const int SuffixVel = ('v' << 16) | ('e' << 8) | 'l';
    private const int SuffixLvl = ('l' << 16) | ('v' << 8) | 'l';
    private const int SuffixIty = ('i' << 16) | ('t' << 8) | 'y';
    private const int SuffixExt = ('e' << 16) | ('x' << 8) | 't';

    private static bool MayHoldLevelKey(ReadOnlySpan<byte> line)
    {
        var at = line.IndexOf((byte)'=');
        while (at >= 0)
        {
            if (at >= 3)
            {
                var suffix = ((line[at - 3] | 0x20) << 16) | ((line[at - 2] | 0x20) << 8) | (line[at - 1] | 0x20);
                if (suffix is SuffixVel or SuffixLvl or SuffixIty or SuffixExt)
                {
                    return true;
                }
            }

            var next = line[(at + 1)..].IndexOf((byte)'=');
            at = next < 0 ? -1 : at + 1 + next;
        }

        return false;
    }

    // The known level of the most preferred level key present, or null (also when that key's value is no level).
    // Once the most preferred key of all is seen nothing later can change the answer, so the scan stops there.
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
            var keyLength = line[i..].IndexOfAny((byte)'=', (byte)' ');
            i = keyLength < 0 ? line.Length : i + keyLength;
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
                var valueLength = line[i..].IndexOf((byte)' ');
                i = valueLength < 0 ? line.Length : i + valueLength;
                valueEnd = i;
            }

            // Most keys have a length no level field has and are passed over without comparing.
            if (key.Length >= 64 || (LevelFieldLengths & (1UL << key.Length)) == 0)
            {
                continue;
            }

            for (var f = 0; f < best; f++)
            {
                if (Ascii.EqualsIgnoreCase(key, LevelFields[f]))
                {
                    best = f;
                    result = NormaliseOrNull(line[valueStart..valueEnd]);
                    if (best == 0)
                    {
                        return result;
                    }

                    break;
                }
            }
        }

        return result;
    }

    private static readonly ulong LevelFieldLengths = LengthsOf(LevelFields);

    private static ulong LengthsOf(string[] fields)
    {
        var lengths = 0UL;
        foreach (var field in fields)
        {
            lengths |= 1UL << field.Length;
        }

        return lengths;
    }

    // Loki's rule: of the level words, the one with the earliest bounded occurrence wins; at the same position the
    // earlier word of the list. Scanning candidate positions (the start and every byte after a left boundary) in
    // order gives that in one pass. Most lines hold no level word at all and are scanned to their end, so the scan
    // takes 32 positions at a time: a nibble-table lookup of each byte gives the positions whose byte may start a level
    // word and whose previous byte is a left boundary, and only those are checked.
    private static string FromText(ReadOnlySpan<byte> line)
    {
        if (line.IsEmpty)
        {
            return "unknown";
        }

        if (LevelWordAt(line, 0) is { } first)
        {
            return first;
        }

        var i = 1;
        if (Avx2.IsSupported)
        {
            for (; i + Vector256<byte>.Count <= line.Length; i += Vector256<byte>.Count)
            {
                var candidates = CandidateMask(Vector256.Create(line[(i - 1)..]), Vector256.Create(line[i..]));
                while (candidates != 0)
                {
                    var position = i + BitOperations.TrailingZeroCount(candidates);
                    candidates &= candidates - 1;
                    if (LevelWordAt(line, position) is { } level)
                    {
                        return level;
                    }
                }
            }
        }

        var after = StartsCandidate;
        var letters = LevelWordLetters;
        for (; i < line.Length; i++)
        {
            if (after[line[i - 1]] && letters[line[i]] && LevelWordAt(line, i) is { } level)
            {
                return level;
            }
        }

        return "unknown";
    }

    // Bit k set when current[k] may start a level word (its first letter, either case) and previous[k], the byte
    // before it, is a left boundary: the vector form of the StartsCandidate and LevelWordLetters tables.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint CandidateMask(Vector256<byte> previous, Vector256<byte> current)
    {
        var outside = Vector256.Equals(InSet(current, LetterLowNibbles, LetterHighNibbles), Vector256<byte>.Zero)
            | Vector256.Equals(InSet(previous, BoundaryLowNibbles, BoundaryHighNibbles), Vector256<byte>.Zero);
        return ~outside.ExtractMostSignificantBits();
    }

    // Nonzero where the byte is in the set whose tables these are (see NibbleTables): one lookup per nibble, two
    // instructions where comparing with each member took one per member.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> InSet(Vector256<byte> bytes, Vector256<byte> lowNibbles, Vector256<byte> highNibbles)
    {
        var nibble = Vector256.Create((byte)0x0F);
        var low = Avx2.Shuffle(lowNibbles, bytes & nibble);
        var high = Avx2.Shuffle(highNibbles, (bytes.AsUInt16() >>> 4).AsByte() & nibble);
        return low & high;
    }

    // Tables for an ASCII byte set by high nibble: each high nibble the set uses gets a bit, set in the high table at
    // that nibble and in the low table at the low nibbles of the members under it, so low[b & 15] & high[b >> 4] is
    // nonzero exactly for members (a set of ASCII bytes has at most 8 high nibbles). Both 16-byte halves alike, as
    // the shuffle looks up within each half.
    private static Vector256<byte> NibbleTable(bool[] members, bool highNibbles)
    {
        if (Array.IndexOf(members, true, 128) >= 0)
        {
            throw new InvalidOperationException("the nibble tables hold ASCII sets only");
        }

        var table = new byte[32];
        for (var b = 0; b < 128; b++)
        {
            if (members[b])
            {
                var bit = (byte)(1 << (b >> 4));
                for (var half = 0; half < 32; half += 16)
                {
                    table[half + (highNibbles ? b >> 4 : b & 15)] |= bit;
                }
            }
        }

        return Vector256.Create(table);
    }

    // Bytes after which a level word may start.
    private static readonly bool[] StartsCandidate = BoundaryTable();

    // Bytes a level word may start with, in either case.
    private static readonly bool[] LevelWordLetters = FirstLetterTable(LevelWords);

    // The two sets above as nibble tables, for the 32-byte scan (after them: statics start in the order written).
    private static readonly Vector256<byte> LetterLowNibbles = NibbleTable(LevelWordLetters, highNibbles: false);
    private static readonly Vector256<byte> LetterHighNibbles = NibbleTable(LevelWordLetters, highNibbles: true);
    private static readonly Vector256<byte> BoundaryLowNibbles = NibbleTable(StartsCandidate, highNibbles: false);
    private static readonly Vector256<byte> BoundaryHighNibbles = NibbleTable(StartsCandidate, highNibbles: true);

    private static bool[] FirstLetterTable((string Word, string Level)[] words)
    {
        var table = new bool[256];
        foreach (var (word, _) in words)
        {
            table[char.ToLowerInvariant(word[0])] = true;
            table[char.ToUpperInvariant(word[0])] = true;
        }

        return table;
    }

    private static bool[] BoundaryTable()
    {
        var table = new bool[256];
        for (var b = 0; b < table.Length; b++)
        {
            table[b] = IsLeftBoundary((byte)b);
        }

        return table;
    }

    // Only the words starting with the letter at the position can match there; among those, list order decides.
    private static string? LevelWordAt(ReadOnlySpan<byte> line, int position)
    {
        var letter = (uint)((line[position] | 0x20) - 'a');
        if (letter >= (uint)LevelWordsByLetter.Length)
        {
            return null;
        }

        foreach (var (word, level) in LevelWordsByLetter[letter])
        {
            // The second letter first: most words in text starting with one of these letters fail there.
            var end = position + word.Length;
            if (end <= line.Length && (line[position + 1] | 0x20) == word[1]
                && Ascii.EqualsIgnoreCase(line.Slice(position, word.Length), word)
                && (end == line.Length || IsRightBoundary(line[end])))
            {
                return level;
            }
        }

        return null;
    }

    private static readonly (byte[] Word, string Level)[][] LevelWordsByLetter = ByFirstLetter(LevelWords);

    private static (byte[] Word, string Level)[][] ByFirstLetter((string Word, string Level)[] words)
    {
        var byLetter = new (byte[] Word, string Level)[26][];
        for (var letter = 0; letter < byLetter.Length; letter++)
        {
            var starting = new List<(byte[] Word, string Level)>();
            foreach (var (word, level) in words)
            {
                if (word[0] == 'a' + letter)
                {
                    starting.Add((Encoding.UTF8.GetBytes(word), level));
                }
            }

            byLetter[letter] = [.. starting];
        }

        return byLetter;
    }

    private static bool IsLeftBoundary(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'[' or (byte)'(' or (byte)'{'
        or (byte)'"' or (byte)'\'' or (byte)'=' or (byte)'|';

    private static bool IsRightBoundary(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'[' or (byte)']' or (byte)'('
        or (byte)')' or (byte)'{' or (byte)'}' or (byte)':' or (byte)',' or (byte)'!' or (byte)'"' or (byte)'\'' or (byte)'=' or (byte)'|';
}
