using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text;
using LokiSharp.Ingester.Limits;
using LokiSharp.Ingester.Push;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Syntax;
using LokiSharp.LogQL.Text;
using LokiSharp.Storage.Chunks;

namespace LokiSharp.Ingester.Distribution;

/// <summary>
/// An accepted entry: line bytes still in the push batch's arena, metadata sanitised and enriched. <c>Shared</c> is the
/// number of <c>Metadata</c> among the arrays shared by entries with no metadata of their own
/// (<see cref="PushValidator.SharedEncodingAt"/>), or -1: found once here, the WAL and the head take its encoding by it.
/// </summary>
public readonly record struct ValidatedEntry(long TimestampNs, int LineStart, int LineLength, LabelPair[] Metadata, int Shared = -1);

/// <summary>A stream of a push that passed label validation, with its accepted entries.</summary>
public sealed class ValidatedStream(LabelSet labels, int capacity = 0)
{
    /// <summary>Stream labels, including an added <c>service_name</c>.</summary>
    public LabelSet Labels { get; private set; } = labels;

    /// <summary>Accepted entries in request order.</summary>
    public List<ValidatedEntry> Entries { get; } = new(capacity);

    /// <summary>Line plus metadata bytes of the accepted entries.</summary>
    public long Bytes { get; set; }

    /// <summary>The shared metadata arrays the entries use: bit <c>i</c> for <see cref="ValidatedEntry"/>'s <c>Shared</c> <c>i</c>.</summary>
    public int SharedUsed { get; set; }

    /// <summary>Where the ingester keeps the head stream of the pushed label text (null for streams made elsewhere).</summary>
    internal Head.HeadStreamSlot? Slot { get; private set; }

    // Made ready for another stream of a later push, keeping the entries' capacity.
    internal void Reuse(LabelSet labels, int capacity, Head.HeadStreamSlot? slot)
    {
        Labels = labels;
        Slot = slot;
        Entries.Clear();
        Entries.EnsureCapacity(capacity);
        Bytes = 0;
        SharedUsed = 0;
    }
}

/// <summary>The outcome of validating one push: what may be written and the grouped errors of the rest.</summary>
public sealed class ValidatedPush
{
    // Streams (with their entry lists) of an earlier push, for the next one (see PushValidator.Return); a push's streams
    // and entries are what validation allocated most, per push and stream. What is kept is bounded in entries in all
    // (64 Ki of 32 bytes: 2 MiB per kept push), so a burst of huge pushes does not stay resident.
    private const int MaxSpareStreams = 1024;
    private const int MaxSpareEntries = 64 * 1024;
    private readonly List<ValidatedStream> _spare = [];
    private int _spareEntries;

    public List<ValidatedStream> Streams { get; } = [];

    public GroupedErrors Errors { get; } = new();

    /// <summary>Accepted lines across streams.</summary>
    public long Lines { get; set; }

    /// <summary>Accepted bytes (line + metadata) across streams.</summary>
    public long Bytes { get; set; }

    internal ValidatedStream NewStream(LabelSet labels, int capacity, Head.HeadStreamSlot? slot)
    {
        ValidatedStream stream;
        if (_spare.Count == 0)
        {
            stream = new ValidatedStream(labels, capacity);
        }
        else
        {
            stream = _spare[^1];
            _spare.RemoveAt(_spare.Count - 1);
            _spareEntries -= stream.Entries.Capacity;
        }

        stream.Reuse(labels, capacity, slot);
        return stream;
    }

    // A stream validation made and did not keep (no entry passed).
    internal void Recycle(ValidatedStream stream)
    {
        if (_spare.Count < MaxSpareStreams && _spareEntries + stream.Entries.Capacity <= MaxSpareEntries)
        {
            _spare.Add(stream);
            _spareEntries += stream.Entries.Capacity;
        }
    }

    // Empty again, its streams kept for reuse (within bounds, so one huge push does not stay resident).
    internal void Clear()
    {
        foreach (var stream in Streams)
        {
            Recycle(stream);
        }

        Streams.Clear();
        if (Streams.Capacity > MaxSpareStreams)
        {
            Streams.Capacity = 0;
        }

        Errors.Clear();
        Lines = 0;
        Bytes = 0;
    }
}

/// <summary>
/// The distributor's checks on a decoded push, with Loki's messages: stream labels (parse, count, name and
/// value lengths), entries (age, future, line size with optional truncation, structured metadata), then the
/// 3.x enrichment (<c>service_name</c>, metadata name sanitising, <c>detected_level</c>).
/// </summary>
public sealed class PushValidator
{
    private const int MaxCachedLabels = 100_000;
    private const string ServiceName = "service_name";
    private const string UnknownService = "unknown_service";

    private readonly ConcurrentDictionary<string, (LabelSet? Labels, string? Error)> _labelCache = new(StringComparer.Ordinal);

    // What an accepted stream's label text came to under one tenant's limits: a client sends the same streams push
    // after push, and building the final label set, its text and its level once per push and stream showed up.
    private readonly ConcurrentDictionary<string, AcceptedLabels> _acceptedCache = new(StringComparer.Ordinal);

    // The same by label text object, in slots by its identity hash: read without locks, a slot written whole.
    private readonly AcceptedLabels?[] _recentAccepted = new AcceptedLabels?[4096];
    private readonly IngesterMetrics _metrics;
    private readonly TimeProvider _time;

    // Results of finished pushes, ready for the next ones (a few: as many as pushes run at once, roughly).
    private readonly SpareObjects<ValidatedPush> _spare = new(4);

    public PushValidator(IngesterMetrics metrics, TimeProvider time)
    {
        _metrics = metrics;
        _time = time;
    }

    /// <summary>
    /// Validates every stream and entry of <paramref name="batch"/>. The caller may hand the result back with
    /// <see cref="Return"/> once nothing of it is used any more.
    /// </summary>
    public ValidatedPush Validate(string tenant, PushBatch batch, IngestionLimits limits)
    {
        var result = Rent();
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds() * 1_000_000;
        var oldest = limits.RejectOldSamples ? now - limits.RejectOldSamplesMaxAge.Ticks * 100 : long.MinValue;
        var newest = now + limits.CreationGracePeriod.Ticks * 100;
        var format = batch.Format;
        var retention = limits.RetentionHours;
        var discoverLevel = limits.DiscoverLogLevels && limits.AllowStructuredMetadata;

        foreach (var stream in batch.Streams)
        {
            var entries = batch.EntriesOf(stream);
            if (entries.IsEmpty)
            {
                continue;
            }

            // The OTLP mapper has already applied service-name discovery to the resource's index labels only; Loki
            // adds no service_name to OTLP streams afterwards (e.g. when otlp_config leaves service.name unindexed).
            var addServiceName = format != "otlp";
            var accepted = Accepted(stream.Labels, limits, addServiceName, out var labelError, out var reason);
            if (accepted is null)
            {
                result.Errors.Add(labelError!);
                _metrics.Discard(reason!, tenant, retention, format, entries.Length, EntriesSize(batch, entries));
                continue;
            }

            var (labels, labelsText, labelLevel, _, _, _, slot) = accepted;
            var validated = result.NewStream(labels, entries.Length, slot);
            foreach (ref readonly var entry in entries)
            {
                var lineLength = entry.LineLength;
                if (limits.MaxLineSizeTruncate && limits.MaxLineSize > 0 && lineLength > limits.MaxLineSize)
                {
                    lineLength = (int)limits.MaxLineSize;
                }

                var metadata = batch.Metadata(entry);
                var metadataSize = metadata.IsEmpty ? 0 : MetadataSize(metadata);
                var size = lineLength + metadataSize;
                string? error = null;
                string? discardReason = null;
                if (entry.TimestampNs < oldest)
                {
                    error = $"entry for stream '{labelsText}' has timestamp too old: {GoTimestamp.FormatRfc3339(entry.TimestampNs)}, " +
                        $"oldest acceptable timestamp is: {GoTimestamp.FormatRfc3339(oldest)}";
                    discardReason = "greater_than_max_sample_age";
                }
                else if (entry.TimestampNs > newest)
                {
                    error = $"entry for stream '{labelsText}' has timestamp too new: {GoTimestamp.FormatRfc3339(entry.TimestampNs)}";
                    discardReason = "too_far_in_future";
                }
                else if (limits.MaxLineSize > 0 && lineLength > limits.MaxLineSize)
                {
                    error = $"max entry size '{limits.MaxLineSize}' bytes exceeded for stream '{labelsText}' " +
                        $"while adding an entry with length '{lineLength}' bytes";
                    discardReason = "line_too_long";
                }
                else if (metadata.Length > 0 && !limits.AllowStructuredMetadata)
                {
                    error = $"stream '{labelsText}' includes structured metadata, but this feature is disallowed. " +
                        $"Please see `limits_config.allow_structured_metadata` or contact your Loki administrator to enable it";
                    discardReason = "disallowed_structured_metadata";
                }
                else if (limits.MaxStructuredMetadataSize > 0 && metadataSize > limits.MaxStructuredMetadataSize)
                {
                    error = $"stream '{labelsText}' has structured metadata too large: '{metadataSize}' bytes, " +
                        $"limit: '{limits.MaxStructuredMetadataSize}' bytes. Please see `limits_config.max_structured_metadata_size` " +
                        $"or contact your Loki administrator to increase it";
                    discardReason = "structured_metadata_too_large";
                }
                else if (limits.MaxStructuredMetadataEntriesCount > 0 && metadata.Length > limits.MaxStructuredMetadataEntriesCount)
                {
                    error = $"stream '{labelsText}' has too many structured metadata labels: '{metadata.Length}', " +
                        $"limit: '{limits.MaxStructuredMetadataEntriesCount}'. " +
                        $"Please see `limits_config.max_structured_metadata_entries_count` or contact your Loki administrator to increase it";
                    discardReason = "structured_metadata_too_many";
                }

                if (error is not null)
                {
                    result.Errors.Add(error);
                    _metrics.Discard(discardReason!, tenant, retention, format, 1, size);
                    continue;
                }

                var enriched = Enrich(labelLevel, metadata, batch.Line(entry)[..lineLength], discoverLevel, out var shared);
                var timestamp = entry.TimestampNs;
                if (limits.IncrementDuplicateTimestamp && validated.Entries.Count > 0)
                {
                    var previous = validated.Entries[^1];
                    if (previous.TimestampNs >= timestamp && !batch.Line(entry)[..lineLength].SequenceEqual(LineOf(batch, previous)))
                    {
                        timestamp = previous.TimestampNs + 1;
                    }
                }

                validated.Entries.Add(new ValidatedEntry(timestamp, entry.LineStart, lineLength, enriched, shared));
                validated.Bytes += size;
                validated.SharedUsed |= shared >= 0 ? 1 << shared : 0;
            }

            if (validated.Entries.Count > 0)
            {
                result.Streams.Add(validated);
                result.Lines += validated.Entries.Count;
                result.Bytes += validated.Bytes;
            }
            else
            {
                result.Recycle(validated);
            }
        }

        return result;
    }

    /// <summary>Takes back a result of <see cref="Validate"/> that nothing refers to any more (its streams and entries are reused).</summary>
    public void Return(ValidatedPush push)
    {
        push.Clear();
        _spare.Give(push);
    }

    private ValidatedPush Rent() => _spare.Take() ?? new ValidatedPush();

    private static ReadOnlySpan<byte> LineOf(PushBatch batch, ValidatedEntry entry) => batch.Bytes(entry.LineStart, entry.LineLength);

    // The limits are part of the entry: overrides reloaded at runtime bring a new limits object, so a stale entry is
    // never reused for them.
    // Key is the label text as pushed (the dictionary's key; the object itself for the recent slots).
    private sealed record AcceptedLabels(LabelSet Labels, string Text, string? Level, IngestionLimits Limits, bool AddServiceName, string Key,
        Head.HeadStreamSlot Slot)
    {
        public bool Serves(IngestionLimits limits, bool addServiceName) => ReferenceEquals(Limits, limits) && AddServiceName == addServiceName;
    }

    // What the label text of a pushed stream comes to, from the recent slots (the decoder hands the same text object push
    // after push: found without hashing it), else the cache by text, else validated now; null with Loki's error if invalid.
    private AcceptedLabels? Accepted(string text, IngestionLimits limits, bool addServiceName, out string? error, out string? reason)
    {
        (error, reason) = (null, null);
        ref var recent = ref _recentAccepted[RuntimeHelpers.GetHashCode(text) & (_recentAccepted.Length - 1)];
        var accepted = Volatile.Read(ref recent);
        if (accepted is not null && ReferenceEquals(accepted.Key, text) && accepted.Serves(limits, addServiceName))
        {
            return accepted;
        }

        if (!_acceptedCache.TryGetValue(text, out accepted) || !accepted.Serves(limits, addServiceName))
        {
            (var valid, error, reason) = ValidateLabels(text, limits, addServiceName);
            if (valid is null)
            {
                return null;
            }

            accepted = new AcceptedLabels(valid, valid.ToString(), LevelDetector.FromLabels(valid), limits, addServiceName, text, new());
            if (_acceptedCache.Count >= MaxCachedLabels)
            {
                _acceptedCache.Clear();
            }

            _acceptedCache[text] = accepted;
        }

        Volatile.Write(ref recent, ReferenceEquals(accepted.Key, text) ? accepted : accepted with { Key = text });
        return accepted;
    }

    private (LabelSet? Labels, string? Error, string? Reason) ValidateLabels(string text, IngestionLimits limits, bool addServiceName)
    {
        var (parsed, parseError) = Parse(text);
        if (parsed is null)
        {
            return (null, $"error parsing labels '{text}' with error: {parseError}", "invalid_labels");
        }

        if (parsed.Count == 0)
        {
            return (null, "error at least one label pair is required per stream", "missing_labels");
        }

        var count = parsed.Count - (parsed.Get(ServiceName) is null ? 0 : 1);
        if (count > limits.MaxLabelNamesPerSeries)
        {
            return (null, $"entry for stream '{text}' has {count} label names; limit {limits.MaxLabelNamesPerSeries}", "max_label_names_per_series");
        }

        foreach (var pair in parsed)
        {
            if (Encoding.UTF8.GetByteCount(pair.Name) > limits.MaxLabelNameLength)
            {
                return (null, $"stream '{text}' has label name too long: '{pair.Name}'", "label_name_too_long");
            }

            if (Encoding.UTF8.GetByteCount(pair.Value) > limits.MaxLabelValueLength)
            {
                return (null, $"stream '{text}' has label value too long: '{pair.Value}'", "label_value_too_long");
            }
        }

        return (addServiceName ? WithServiceName(parsed, limits) : parsed, null, null);
    }

    private (LabelSet? Labels, string? Error) Parse(string text)
    {
        if (_labelCache.TryGetValue(text, out var cached))
        {
            return cached;
        }

        (LabelSet?, string?) result;
        try
        {
            result = (LabelSetParser.Parse(text), null);
        }
        catch (LogQLParseException e)
        {
            result = (null, e.Message);
        }

        if (_labelCache.Count >= MaxCachedLabels)
        {
            _labelCache.Clear();
        }

        _labelCache[text] = result;
        return result;
    }

    private static LabelSet WithServiceName(LabelSet labels, IngestionLimits limits)
    {
        if (limits.DiscoverServiceName.Count == 0 || labels.Get(ServiceName) is not null)
        {
            return labels;
        }

        var service = UnknownService;
        foreach (var name in limits.DiscoverServiceName)
        {
            if (labels.Get(name) is { Length: > 0 } value)
            {
                service = value;
                break;
            }
        }

        var pairs = new List<LabelPair>(labels.Count + 1);
        pairs.AddRange(labels);
        pairs.Add(new LabelPair(ServiceName, service));
        return LabelSet.From(pairs);
    }

    // The entry's metadata; shared is its number among the shared arrays, or -1.
    private static LabelPair[] Enrich(string? labelLevel, ReadOnlySpan<MetadataPair> metadata, ReadOnlySpan<byte> line, bool discoverLevel,
        out int shared)
    {
        var hasLevel = false;
        var count = metadata.Length;
        shared = -1;
        if (count == 0)
        {
            return discoverLevel ? LevelOnly(LevelDetector.Detect(labelLevel, metadata, line), out shared) : [];
        }

        var pairs = new LabelPair[count + (discoverLevel ? 1 : 0)];
        for (var i = 0; i < count; i++)
        {
            var name = SanitiseName(metadata[i].Name);
            var value = metadata[i].Value.Contains('\uFFFD', StringComparison.Ordinal)
                ? metadata[i].Value.Replace("\uFFFD", "", StringComparison.Ordinal)
                : metadata[i].Value;
            if (name == LevelDetector.DetectedLevel)
            {
                hasLevel = true;
                value = LevelDetector.Normalise(value);
            }

            pairs[i] = new LabelPair(name, value);
        }

        if (!discoverLevel || hasLevel)
        {
            return discoverLevel ? pairs[..count] : pairs;
        }

        pairs[count] = new LabelPair(LevelDetector.DetectedLevel, LevelDetector.Detect(labelLevel, metadata, line));
        return pairs;
    }

    // The detector answers with its own level strings, so comparing references finds the shared array without hashing
    // the level per entry; a level given otherwise (an equal string elsewhere) still finds it by value.
    private static LabelPair[] LevelOnly(string level, out int shared)
    {
        for (var i = 0; i < Shared.Length; i++)
        {
            if (ReferenceEquals(Shared[i].Pairs[0].Value, level))
            {
                shared = i;
                return Shared[i].Pairs;
            }
        }

        if (SharedByLevel.TryGetValue(level, out shared))
        {
            return Shared[shared].Pairs;
        }

        shared = -1;
        return [new LabelPair(LevelDetector.DetectedLevel, level)];
    }

    /// <summary>
    /// The chunk encoding (<see cref="StructuredMetadata"/>) of shared array number <paramref name="index"/>
    /// (<see cref="ValidatedEntry"/>'s <c>Shared</c>): the head and the WAL copy those bytes instead of encoding the same
    /// pair for every entry. The array is shared: never write to it.
    /// </summary>
    public static byte[] SharedEncodingAt(int index) => Shared[index].Encoded;

    /// <summary>How many shared arrays there are (the <c>Shared</c> numbers of <see cref="ValidatedEntry"/> run below it).</summary>
    public static int SharedCount => Shared.Length;

    // Most entries carry no metadata of their own, only the detected level: they share one array per level
    // (metadata arrays are never written after validation), found by level value.
    private static readonly (LabelPair[] Pairs, byte[] Encoded)[] Shared = EncodeShared();

    private static readonly Dictionary<string, int> SharedByLevel =
        Enumerable.Range(0, Shared.Length).ToDictionary(i => Shared[i].Pairs[0].Value, StringComparer.Ordinal);

    private static (LabelPair[] Pairs, byte[] Encoded)[] EncodeShared() =>
        Array.ConvertAll((string[])["info", "unknown", "error", "warn", "debug", "trace", "critical", "fatal"], level =>
        {
            LabelPair[] pairs = [new LabelPair(LevelDetector.DetectedLevel, level)];
            var writer = new System.Buffers.ArrayBufferWriter<byte>();
            StructuredMetadata.Encode(writer, pairs);
            return (pairs, writer.WrittenSpan.ToArray());
        });

    /// <summary>Loki's structured-metadata name rule: non-alphanumerics become <c>_</c>, runs collapse, a leading digit gets <c>key_</c>.</summary>
    public static string SanitiseName(string name)
    {
        var clean = true;
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_') || (c == '_' && i > 0 && name[i - 1] == '_'))
            {
                clean = false;
                break;
            }
        }

        if (clean && name.Length > 0 && !char.IsAsciiDigit(name[0]))
        {
            return name;
        }

        var sb = new StringBuilder(name.Length + 4);
        foreach (var c in name)
        {
            var mapped = char.IsAsciiLetterOrDigit(c) ? c : '_';
            if (mapped == '_' && sb.Length > 0 && sb[^1] == '_')
            {
                continue;
            }

            sb.Append(mapped);
        }

        if (sb.Length > 0 && char.IsAsciiDigit(sb[0]))
        {
            sb.Insert(0, "key_");
        }

        return sb.ToString();
    }

    private static int MetadataSize(ReadOnlySpan<MetadataPair> metadata)
    {
        var size = 0;
        foreach (var pair in metadata)
        {
            size += Encoding.UTF8.GetByteCount(pair.Name) + Encoding.UTF8.GetByteCount(pair.Value);
        }

        return size;
    }

    private static long EntriesSize(PushBatch batch, ReadOnlySpan<PushEntry> entries)
    {
        long size = 0;
        foreach (ref readonly var entry in entries)
        {
            size += entry.LineLength + MetadataSize(batch.Metadata(entry));
        }

        return size;
    }
}
