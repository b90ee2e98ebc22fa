namespace LokiSharp.LogQL.Pipeline;

/// <summary>
/// The captures of a lone pattern parser that decide a sample's output labels when the sample keeps named labels: those
/// whose name, or its <c>_extracted</c> form (when the stream takes the name), is kept. With no structured metadata
/// nothing else varies within a stream (the parser drops no line, sets no error and leaves the line as it is), so
/// equal bytes in these captures give the same sample labels.
/// </summary>
internal sealed class PatternOutputKey
{
    // Longer capture values are not memoised (the entry takes the general path).
    public const int MaxValueLength = 254;

    private PatternOutputKey(PatternParserStep step, int[] captures)
    {
        Step = step;
        Captures = captures;
        Last = captures.Length == 0 ? -1 : captures[^1];
    }

    public PatternParserStep Step { get; }

    /// <summary>The deciding captures' indices, ascending.</summary>
    public int[] Captures { get; }

    /// <summary>The last deciding capture (-1 when none: every entry of a stream gets the same labels).</summary>
    public int Last { get; }

    public static PatternOutputKey? For(LogPipeline pipeline, SampleValueSource source, OutputLabelMode mode, HashSet<string> kept)
    {
        if (pipeline.Stages is not [PatternParserStep step] || source == SampleValueSource.Unwrap ||
            mode is not (OutputLabelMode.Keep or OutputLabelMode.None))
        {
            return null;
        }

        var captures = new List<int>();
        for (var c = 0; c < step.CaptureCount; c++)
        {
            if (step.CaptureName(c) is not { } name)
            {
                continue;
            }

            if (name is PipelineLabels.Error or PipelineLabels.ErrorDetails)
            {
                // An error label makes the sample keep every label.
                return null;
            }

            if (mode == OutputLabelMode.Keep && (kept.Contains(name) || kept.Contains(name + PipelineLabels.DuplicateSuffix)))
            {
                captures.Add(c);
            }
        }

        return new PatternOutputKey(step, [.. captures]);
    }

    /// <summary>
    /// Writes the key of <paramref name="line"/> to <paramref name="key"/> (grown as needed): per deciding capture, its
    /// length + 1 (0 when the scan does not reach it) and its bytes. Returns the key's length, or -1 when a value is too
    /// long to memoise.
    /// </summary>
    public int Write(ReadOnlySpan<byte> line, ref byte[] key, int[] starts, int[] lengths)
    {
        if (Last < 0)
        {
            return 0;
        }

        Step.Locate(line, Last, starts, lengths);
        var n = 0;
        foreach (var c in Captures)
        {
            var start = starts[c];
            var length = start < 0 ? 0 : lengths[c];
            if (length > MaxValueLength)
            {
                return -1;
            }

            if (key.Length < n + 1 + length)
            {
                Array.Resize(ref key, Math.Max(key.Length * 2, n + 1 + length));
            }

            key[n++] = start < 0 ? (byte)0 : (byte)(length + 1);
            line.Slice(start < 0 ? 0 : start, length).CopyTo(key.AsSpan(n));
            n += length;
        }

        return n;
    }
}
