using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Pipeline;

/// <summary>Where a label of a processed entry came from, as Loki 3 reports it.</summary>
public enum LabelCategory
{
    /// <summary>A label of the stream selector's stream.</summary>
    Stream,

    /// <summary>Structured metadata attached to the entry.</summary>
    StructuredMetadata,

    /// <summary>Extracted or written by a pipeline stage (parsers, <c>label_format</c>), plus the error labels.</summary>
    Parsed,
}

/// <summary>Names of the labels the pipeline treats specially.</summary>
public static class PipelineLabels
{
    /// <summary><c>__error__</c>: the kind of the first error a stage raised.</summary>
    public const string Error = "__error__";

    /// <summary><c>__error_details__</c>: the error's text.</summary>
    public const string ErrorDetails = "__error_details__";

    /// <summary><c>__preserve_error__</c>: set when a metric query groups by <c>__error__</c>.</summary>
    public const string PreserveError = "__preserve_error__";

    /// <summary>The suffix a parsed label gets when its name is taken by a stream label or metadata.</summary>
    public const string DuplicateSuffix = "_extracted";

    /// <summary><c>JSONParserErr</c></summary>
    public const string JsonParserError = "JSONParserErr";

    /// <summary><c>LogfmtParserErr</c></summary>
    public const string LogfmtParserError = "LogfmtParserErr";

    /// <summary><c>LabelFilterErr</c></summary>
    public const string LabelFilterError = "LabelFilterErr";

    /// <summary><c>TemplateFormatErr</c></summary>
    public const string TemplateFormatError = "TemplateFormatErr";

    /// <summary><c>SampleExtractionErr</c></summary>
    public const string SampleExtractionError = "SampleExtractionErr";

    /// <summary>The JSON key of a packed entry's original line (promtail's <c>pack</c> stage).</summary>
    public const string PackedEntryKey = "_entry";
}

/// <summary>
/// The mutable label state of one entry while it runs through a pipeline: the stream's labels (never copied),
/// deletions, and the labels added per category, plus the error labels. One instance per stream pipeline, reset per
/// entry, so processing an entry allocates nothing until a stage creates a value.
/// </summary>
public sealed class LineLabels
{
    private readonly LabelSet _stream;
    private readonly LabelsResultCache _results;
    private LabelPair[] _metadata = new LabelPair[4];
    private const int MetadataNameSlots = 4;
    private readonly string?[] _metadataSources = new string?[MetadataNameSlots];
    private readonly string?[] _metadataNames = new string?[MetadataNameSlots];
    private readonly bool[] _metadataShadows = new bool[MetadataNameSlots];
    private int _metadataCount;
    // One bit per metadata name added for the entry (see MaskBit): most "is it metadata?" answers need no comparison.
    private ulong _metadataMask;
    private LabelPair[] _parsed = new LabelPair[8];
    private int _parsedCount;
    private string[] _deleted = new string[4];
    private int _deletedCount;
    // Names parsers extracted for the current entry; a short list beats hashing for the few labels a line has.
    private string[] _extracted = new string[16];
    private int _extractedCount;
    // One bit per extracted name (see MaskBit), so most "not extracted yet" answers need no comparison.
    private ulong _extractedMask;
    private LabelPair[] _scratch = new LabelPair[16];
    // The previous entry's result and its cached pair order, when its labels were the stream's then parsed ones.
    private LabelsResult? _lastResult;
    private LabelPair[]? _lastOrder;
    // Whether a metadata or parsed label shadows a stream label (Snapshot must then filter the stream's pairs).
    private bool _streamShadowed;
    // The sum of the stream pairs' hash terms, computed on first use (see LabelsResultCache.HashTerm).
    private int? _streamHash;
    // The hash terms of the parsed labels, while parsers alone added labels (see SetExtracted).
    private int _parsedHash;
    private bool _parsedHashValid = true;

    internal LineLabels(LabelSet stream, LabelsResultCache results)
    {
        _stream = stream;
        _results = results;
        StreamNames = results.NamesOf(stream);
    }

    /// <summary>The same object for every stream with the same label names (see <see cref="LabelsResultCache.NamesOf"/>).</summary>
    internal object StreamNames { get; }

    /// <summary>The stream's labels.</summary>
    public LabelSet Stream => _stream;

    /// <summary>The <c>__error__</c> value, empty when no error.</summary>
    public string Error { get; set; } = string.Empty;

    /// <summary>The <c>__error_details__</c> value, empty when none.</summary>
    public string ErrorDetails { get; set; } = string.Empty;

    /// <summary>Whether <c>__error__</c> is set.</summary>
    public bool HasError => Error.Length != 0;

    /// <summary>Whether nothing was added or deleted and no error is set.</summary>
    public bool IsUnchanged => _metadataCount == 0 && _parsedCount == 0 && _deletedCount == 0 && Error.Length == 0 && ErrorDetails.Length == 0;

    /// <summary>Whether the entry carries structured metadata labels.</summary>
    internal bool HasMetadata => _metadataCount != 0;

    /// <summary>Clears everything but the stream labels, ready for the next entry.</summary>
    public void Reset()
    {
        // Stale references past the counts are left in place: they are overwritten by the next entry, and the arrays
        // belong to this stream pipeline alone.
        _metadataCount = 0;
        _metadataMask = 0;
        _parsedCount = 0;
        _deletedCount = 0;
        _extractedCount = 0;
        _extractedMask = 0;
        _streamShadowed = false;
        _parsedHash = 0;
        _parsedHashValid = true;

        Error = string.Empty;
        ErrorDetails = string.Empty;
    }

    /// <summary>Sets an error and its details (details left alone when null).</summary>
    public void SetError(string error, string? details)
    {
        Error = error;
        if (details is not null)
        {
            ErrorDetails = details;
        }
    }

    /// <summary>
    /// Adds the entry's structured metadata (right after <see cref="Reset"/>): a name taken by a stream label gets the
    /// <c>_extracted</c> suffix; <c>__error__</c>/<c>__error_details__</c> set the error state.
    /// </summary>
    public void AddStructuredMetadata(ReadOnlySpan<LabelPair> metadata)
    {
        for (var i = 0; i < metadata.Length; i++)
        {
            var pair = metadata[i];
            var name = MetadataName(i, pair.Name, out var shadowsStream);
            if (name == PipelineLabels.Error)
            {
                Error = pair.Value;
                continue;
            }

            if (name == PipelineLabels.ErrorDetails)
            {
                ErrorDetails = pair.Value;
                continue;
            }

            _parsedHashValid = false;
            _streamShadowed |= shadowsStream;
            _metadataMask |= MaskBit(name);
            Upsert(ref _metadata, ref _metadataCount, new LabelPair(name, pair.Value));
        }
    }

    // Entries of a stream mostly carry the same metadata names in the same order (as the same strings, from the
    // decoder's cache): the name each position resolved to last time is reused without searching the stream labels.
    private string MetadataName(int position, string name, out bool shadowsStream)
    {
        if (position < MetadataNameSlots && ReferenceEquals(_metadataSources[position], name))
        {
            shadowsStream = _metadataShadows[position];
            return _metadataNames[position]!;
        }

        var resolved = _stream.Get(name) is not null ? name + PipelineLabels.DuplicateSuffix : name;
        shadowsStream = StreamHas(resolved);
        if (position < MetadataNameSlots)
        {
            _metadataSources[position] = name;
            _metadataNames[position] = resolved;
            _metadataShadows[position] = shadowsStream;
        }

        return resolved;
    }

    /// <summary>Whether the stream (before deletions) has label <paramref name="name"/>.</summary>
    public bool StreamHas(string name) => _stream.Get(name) is not null;

    /// <summary>Whether structured metadata currently holds <paramref name="name"/>.</summary>
    public bool MetadataHas(string name) => (_metadataMask & MaskBit(name)) != 0 && IndexOf(_metadata, _metadataCount, name) >= 0;

    /// <summary>
    /// The name a parser must write <paramref name="name"/> under: with <c>_extracted</c> appended when a stream
    /// label or structured metadata already has it.
    /// </summary>
    public string ParsedName(string name) =>
        StreamHas(name) || MetadataHas(name) ? name + PipelineLabels.DuplicateSuffix : name;

    /// <summary>Whether a parser stage already extracted <paramref name="name"/> for this entry (first value wins).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public bool WasExtracted(string name) => (_extractedMask & MaskBit(name)) != 0 && IsExtracted(name);

    private bool IsExtracted(string name)
    {
        for (var i = 0; i < _extractedCount; i++)
        {
            var e = _extracted[i];
            if (ReferenceEquals(e, name) || (e.Length == name.Length && e == name))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The current value of a label, or null when absent (the error labels are not looked up here).</summary>
    public string? Get(string name)
    {
        var i = IndexOf(_parsed, _parsedCount, name);
        if (i >= 0)
        {
            return _parsed[i].Value;
        }

        i = IndexOf(_metadata, _metadataCount, name);
        if (i >= 0)
        {
            return _metadata[i].Value;
        }

        for (var d = 0; d < _deletedCount; d++)
        {
            if (_deleted[d] == name)
            {
                return null;
            }
        }

        var value = _stream.Get(name);
        return string.IsNullOrEmpty(value) ? null : value;
    }

    /// <summary>The value a filter or template reads: <c>__error__</c> included, <c>""</c> when absent.</summary>
    public string GetForFilter(string name) =>
        name == PipelineLabels.Error ? Error : Get(name) ?? string.Empty;

    /// <summary>Sets a label in a category; parsed values take precedence over metadata, which beats stream labels.</summary>
    public void Set(LabelCategory category, string name, string value)
    {
        _parsedHashValid = false;
        if (!_streamShadowed && StreamHas(name))
        {
            _streamShadowed = true;
        }

        if (category == LabelCategory.Parsed)
        {
            RemoveAt(ref _metadata, ref _metadataCount, name);
        }
        else if (category == LabelCategory.StructuredMetadata && IndexOf(_parsed, _parsedCount, name) >= 0)
        {
            return;
        }

        if (category == LabelCategory.Parsed)
        {
            Upsert(ref _parsed, ref _parsedCount, new LabelPair(name, value));

            // Later parser stages skip names an earlier one extracted.
            if (!WasExtracted(name))
            {
                if (_extractedCount == _extracted.Length)
                {
                    Array.Resize(ref _extracted, _extracted.Length * 2);
                }

                _extracted[_extractedCount++] = name;
                _extractedMask |= MaskBit(name);
            }
        }
        else
        {
            _metadataMask |= MaskBit(name);
            Upsert(ref _metadata, ref _metadataCount, new LabelPair(name, value));
        }
    }

    /// <summary>
    /// A parser's <see cref="Set"/> of a name it resolved with <see cref="ParsedName"/> and checked with
    /// <see cref="WasExtracted"/> (so it is not parsed yet); <paramref name="shadowsStream"/> tells whether the stream
    /// has a label of that name.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal void SetExtracted(string name, string value, bool shadowsStream, int hashTerm)
    {
        if ((_metadataMask & MaskBit(name)) != 0 || _parsedCount == _parsed.Length || _extractedCount == _extracted.Length)
        {
            PrepareExtracted(name);
        }

        _parsedHash += hashTerm;
        _streamShadowed |= shadowsStream;
        _parsed[_parsedCount++] = new LabelPair(name, value);
        _extracted[_extractedCount++] = name;
        _extractedMask |= MaskBit(name);
    }

    // SetExtracted's rare cases: metadata of the same name gives way, and full arrays grow.
    private void PrepareExtracted(string name)
    {
        if (MetadataHas(name))
        {
            RemoveAt(ref _metadata, ref _metadataCount, name);
            _parsedHashValid = false;
        }

        if (_parsedCount == _parsed.Length)
        {
            Array.Resize(ref _parsed, _parsed.Length * 2);
        }

        if (_extractedCount == _extracted.Length)
        {
            Array.Resize(ref _extracted, _extracted.Length * 2);
        }
    }

    // A name's bit in _extractedMask, from its length and first character (no hashing of the whole name).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static ulong MaskBit(string name) => 1UL << ((name.Length * 7 + (name.Length == 0 ? 0 : name[0])) & 63);

    /// <summary>Deletes a label from every category (and hides the stream's label of that name).</summary>
    public void Delete(string name)
    {
        _parsedHashValid = false;
        RemoveAt(ref _parsed, ref _parsedCount, name);
        RemoveAt(ref _metadata, ref _metadataCount, name);
        if (_deletedCount == _deleted.Length)
        {
            Array.Resize(ref _deleted, _deleted.Length * 2);
        }

        _deleted[_deletedCount++] = name;
    }

    /// <summary>The category of a present label.</summary>
    public LabelCategory CategoryOf(string name) =>
        IndexOf(_parsed, _parsedCount, name) >= 0 ? LabelCategory.Parsed
        : IndexOf(_metadata, _metadataCount, name) >= 0 ? LabelCategory.StructuredMetadata
        : LabelCategory.Stream;

    /// <summary>
    /// Every current label, unsorted (stream labels first, then metadata, then parsed, then the error labels) into
    /// a buffer owned by this instance and valid until the next call.
    /// </summary>
    public ReadOnlySpan<LabelPair> Snapshot(bool includeErrors = true)
    {
        var needed = _stream.Count + _metadataCount + _parsedCount + 2;
        if (_scratch.Length < needed)
        {
            _scratch = new LabelPair[Math.Max(needed, _scratch.Length * 2)];
        }

        var n = 0;
        if (StreamWhole)
        {
            _stream.AsSpan().CopyTo(_scratch);
            n = _stream.Count;
        }
        else
        {
            foreach (var pair in _stream.AsSpan())
            {
                if (IsDeleted(pair.Name) || IndexOf(_metadata, _metadataCount, pair.Name) >= 0 || IndexOf(_parsed, _parsedCount, pair.Name) >= 0)
                {
                    continue;
                }

                _scratch[n++] = pair;
            }
        }

        // Metadata and parsed names never overlap: setting a parsed label removes the metadata one.
        Array.Copy(_metadata, 0, _scratch, n, _metadataCount);
        n += _metadataCount;
        Array.Copy(_parsed, 0, _scratch, n, _parsedCount);
        n += _parsedCount;
        if (includeErrors)
        {
            if (Error.Length != 0)
            {
                _scratch[n++] = new LabelPair(PipelineLabels.Error, Error);
            }

            if (ErrorDetails.Length != 0)
            {
                _scratch[n++] = new LabelPair(PipelineLabels.ErrorDetails, ErrorDetails);
            }
        }

        return _scratch.AsSpan(0, n);
    }

    /// <summary>The entry's labels, categorised; cached per distinct label set, so repeated sets cost no allocation.</summary>
    public LabelsResult ToResult()
    {
        if (IsUnchanged)
        {
            return _results.ForStream(_stream);
        }

        // Labels of a stream's stream pairs followed by parsed ones only: equal to the previous entry's when every
        // parsed pair is, which spares the snapshot and the table lookup.
        var plain = StreamWhole && _metadataCount == 0 && Error.Length == 0 && ErrorDetails.Length == 0;
        if (plain && _lastOrder is not null && SameParsedAs(_lastOrder))
        {
            return _lastResult!;
        }

        var labels = Snapshot();
        int hash;
        if (StreamWhole)
        {
            // The stream's part of the order-independent hash is the same for every entry of the stream.
            _streamHash ??= LabelsResultCache.HashOf(_stream.AsSpan()) - _stream.Count;
            hash = _streamHash.Value + labels.Length;
            if (_parsedHashValid && _metadataCount == 0)
            {
                hash += _parsedHash;
                foreach (var pair in labels[(_stream.Count + _parsedCount)..])
                {
                    hash += LabelsResultCache.HashTerm(pair);
                }
            }
            else
            {
                foreach (var pair in labels[_stream.Count..])
                {
                    hash += LabelsResultCache.HashTerm(pair);
                }
            }
        }
        else
        {
            hash = LabelsResultCache.HashOf(labels);
        }

        var result = _results.Get(labels, hash, this, out var order);
        _lastOrder = plain ? order : null;
        _lastResult = result;
        return result;
    }

    // Whether the parsed pairs are those that follow the stream's pairs in order (the previous plain entry's labels).
    private bool SameParsedAs(LabelPair[] order)
    {
        var offset = _stream.Count;
        if (order.Length != offset + _parsedCount)
        {
            return false;
        }

        for (var i = 0; i < _parsedCount; i++)
        {
            var a = _parsed[i];
            var b = order[offset + i];
            if (!ReferenceEquals(a.Name, b.Name) || !(ReferenceEquals(a.Value, b.Value) || a.Value == b.Value))
            {
                return false;
            }
        }

        return true;
    }

    // Whether every stream label is part of the entry's labels as is (nothing deleted or shadowed).
    private bool StreamWhole => !_streamShadowed && _deletedCount == 0;

    private bool IsDeleted(string name)
    {
        for (var d = 0; d < _deletedCount; d++)
        {
            if (_deleted[d] == name)
            {
                return true;
            }
        }

        return false;
    }

    private static int IndexOf(LabelPair[] pairs, int count, string name)
    {
        for (var i = 0; i < count; i++)
        {
            var n = pairs[i].Name;
            if (ReferenceEquals(n, name) || (n.Length == name.Length && n == name))
            {
                return i;
            }
        }

        return -1;
    }

    // Replaces the pair of the same name, or appends it.
    private static void Upsert(ref LabelPair[] pairs, ref int count, LabelPair pair)
    {
        var i = IndexOf(pairs, count, pair.Name);
        if (i >= 0)
        {
            pairs[i] = pair;
            return;
        }

        if (count == pairs.Length)
        {
            Array.Resize(ref pairs, pairs.Length * 2);
        }

        pairs[count++] = pair;
    }

    private static void RemoveAt(ref LabelPair[] pairs, ref int count, string name)
    {
        var i = IndexOf(pairs, count, name);
        if (i < 0)
        {
            return;
        }

        Array.Copy(pairs, i + 1, pairs, i, count - i - 1);
        pairs[--count] = default;
    }
}
