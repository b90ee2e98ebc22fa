using System.Globalization;
using Google.Protobuf.Collections;
using LokiSharp.Ingester.Otlp.Protos;
using LokiSharp.Ingester.Push;
using LokiSharp.LogQL.Labels;

namespace LokiSharp.Ingester.Otlp;

/// <summary>
/// Turns an OTLP logs export into a Loki push as Loki 3.x does: attributes the tenant's <c>otlp_config</c> makes
/// index labels (by default the default list of resource attributes) become the stream labels, with a
/// <c>service_name</c> fallback; dropped ones vanish; every other attribute and the log record's own fields become
/// structured metadata; the body becomes the line.
/// </summary>
public static class OtlpLogsMapper
{
    private const string ServiceNameAttribute = "service.name";
    private const string ServiceNameLabel = "service_name";
    private const string UnknownService = "unknown_service";
    private const string EventName = "event_name";

    /// <summary>Maps <paramref name="request"/> into a new batch (format <c>otlp</c>) that the caller disposes.</summary>
    /// <param name="request">The decoded export.</param>
    /// <param name="mapping">The attribute rules and service-name settings.</param>
    /// <param name="nowNs">The timestamp of records that carry neither a time nor an observed time.</param>
    /// <exception cref="PushRequestException">400 for an attribute name Loki cannot turn into a label name.</exception>
    public static PushBatch ToBatch(ExportLogsServiceRequest request, OtlpMapping mapping, long nowNs)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(mapping);

        // Records of different resources that map to the same labels share one stream, in first-seen order.
        var streams = new Dictionary<string, List<MappedEntry>>(StringComparer.Ordinal);
        var order = new List<string>();
        var recordCount = 0;
        foreach (var resourceLogs in request.ResourceLogs)
        {
            foreach (var scopeLogs in resourceLogs.ScopeLogs)
            {
                recordCount += scopeLogs.LogRecords.Count;
            }
        }

        if (recordCount > 0)
        {
            List<LabelPair>? recordLabels = null;
            foreach (var resourceLogs in request.ResourceLogs)
            {
                var (labelSet, resourceMetadata) = ResourceAttributes(resourceLogs.Resource, mapping);
                var labels = labelSet.ToString();
                if (!streams.TryGetValue(labels, out var entries))
                {
                    entries = [];
                    streams[labels] = entries;
                    order.Add(labels);
                }

                foreach (var scopeLogs in resourceLogs.ScopeLogs)
                {
                    var scopeMetadata = ScopeAttributes(scopeLogs.Scope, mapping);
                    foreach (var record in scopeLogs.LogRecords)
                    {
                        var metadata = RecordMetadata(record, mapping, ref recordLabels);
                        metadata.AddRange(resourceMetadata);
                        metadata.AddRange(scopeMetadata);
                        var entry = new MappedEntry(Timestamp(record, nowNs), OtlpAttributeText.Value(record.Body), metadata);
                        if (recordLabels is not { Count: > 0 })
                        {
                            entries.Add(entry);
                            continue;
                        }

                        // Log attributes made index labels put the record in a stream of its own labels.
                        var combined = CombinedLabels(labelSet, recordLabels);
                        recordLabels.Clear();
                        if (!streams.TryGetValue(combined, out var recordEntries))
                        {
                            recordEntries = [];
                            streams[combined] = recordEntries;
                            order.Add(combined);
                        }

                        recordEntries.Add(entry);
                    }
                }
            }
        }

        var batch = new PushBatch { Format = "otlp" };
        foreach (var labels in order)
        {
            var entries = streams[labels];
            if (entries.Count == 0)
            {
                continue;
            }

            batch.BeginStream(labels);
            foreach (var entry in entries)
            {
                batch.AddEntry(entry.TimestampNs, entry.Line);
                foreach (var pair in entry.Metadata)
                {
                    batch.AddMetadata(pair.Name, pair.Value);
                }
            }
        }

        return batch;
    }

    /// <summary>The record's time, else its observed time, else now.</summary>
    public static long Timestamp(LogRecord record, long nowNs)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.TimeUnixNano != 0)
        {
            return unchecked((long)record.TimeUnixNano);
        }

        return record.ObservedTimeUnixNano != 0 ? unchecked((long)record.ObservedTimeUnixNano) : nowNs;
    }

    private static (LabelSet Labels, List<MetadataPair> Metadata) ResourceAttributes(Resource? resource, OtlpMapping mapping)
    {
        // A later attribute with the same label name wins, as in Loki's label map.
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var metadata = new List<MetadataPair>();
        var hasServiceName = false;
        if (resource is not null)
        {
            foreach (var attribute in resource.Attributes)
            {
                if (attribute.Key == ServiceNameAttribute && !hasServiceName)
                {
                    hasServiceName = OtlpAttributeText.Value(attribute.Value).Length > 0;
                }

                switch (OtlpMapping.ActionFor(mapping.ResourceAttributes, attribute.Key))
                {
                    case OtlpAttributeAction.IndexLabel:
                        Flatten(attribute.Key, attribute.Value, "", (name, value) => labels[name] = value);
                        break;
                    case OtlpAttributeAction.StructuredMetadata:
                        Flatten(attribute.Key, attribute.Value, "", (name, value) => metadata.Add(new MetadataPair(name, value)));
                        break;
                }
            }
        }

        if (!hasServiceName && mapping.DiscoverServiceName.Count > 0)
        {
            var service = UnknownService;
            foreach (var name in mapping.DiscoverServiceName)
            {
                if (labels.GetValueOrDefault(name) is { Length: > 0 } value)
                {
                    service = value;
                    break;
                }
            }

            labels[ServiceNameLabel] = service;
        }

        return (ToLabelSet(labels), metadata);
    }

    // Resource labels overlaid with a record's own index labels; the record's value wins for a shared name.
    private static string CombinedLabels(LabelSet resourceLabels, List<LabelPair> recordLabels)
    {
        var merged = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in resourceLabels)
        {
            merged[pair.Name] = pair.Value;
        }

        foreach (var pair in recordLabels)
        {
            merged[pair.Name] = pair.Value;
        }

        return ToLabelSet(merged).ToString();
    }

    private static LabelSet ToLabelSet(Dictionary<string, string> labels)
    {
        var pairs = new List<LabelPair>(labels.Count);
        foreach (var (name, value) in labels)
        {
            pairs.Add(new LabelPair(name, value));
        }

        return LabelSet.From(pairs);
    }

    private static List<MetadataPair> ScopeAttributes(InstrumentationScope? scope, OtlpMapping mapping)
    {
        var metadata = new List<MetadataPair>();
        if (scope is null)
        {
            return metadata;
        }

        AddAttributes(scope.Attributes, mapping.ScopeAttributes, metadata, null, skipEventName: false);
        if (scope.Name.Length > 0)
        {
            metadata.Add(new MetadataPair("scope_name", scope.Name));
        }

        if (scope.Version.Length > 0)
        {
            metadata.Add(new MetadataPair("scope_version", scope.Version));
        }

        if (scope.DroppedAttributesCount != 0)
        {
            metadata.Add(new MetadataPair("scope_dropped_attributes_count", Decimal(scope.DroppedAttributesCount)));
        }

        return metadata;
    }

    // The record's structured metadata; index labels from its attributes go to labels, created on first use.
    private static List<MetadataPair> RecordMetadata(LogRecord record, OtlpMapping mapping, ref List<LabelPair>? labels)
    {
        var metadata = new List<MetadataPair>(record.Attributes.Count + 8);
        if (mapping.LogAttributes.Count > 0 || mapping.SeverityTextAsLabel)
        {
            labels ??= [];
        }

        // The record's own event_name field takes precedence over an attribute of that name.
        AddAttributes(record.Attributes, mapping.LogAttributes, metadata, labels, skipEventName: record.EventName.Length > 0);

        // Without a time the observed time is already the entry's timestamp, so it is not repeated.
        if (record.TimeUnixNano != 0 && record.ObservedTimeUnixNano != 0)
        {
            metadata.Add(new MetadataPair("observed_timestamp", unchecked((long)record.ObservedTimeUnixNano).ToString(CultureInfo.InvariantCulture)));
        }

        if (record.SeverityNumber != SeverityNumber.Unspecified)
        {
            metadata.Add(new MetadataPair("severity_number", ((int)record.SeverityNumber).ToString(CultureInfo.InvariantCulture)));
        }

        if (record.SeverityText.Length > 0)
        {
            if (mapping.SeverityTextAsLabel)
            {
                labels!.Add(new LabelPair("severity_text", record.SeverityText));
            }

            metadata.Add(new MetadataPair("severity_text", record.SeverityText));
        }

        if (record.DroppedAttributesCount != 0)
        {
            metadata.Add(new MetadataPair("dropped_attributes_count", Decimal(record.DroppedAttributesCount)));
        }

        if (record.Flags != 0)
        {
            metadata.Add(new MetadataPair("flags", Decimal(record.Flags)));
        }

        if (Id(record.TraceId, 16, "trace_id") is { } traceId)
        {
            metadata.Add(new MetadataPair("trace_id", traceId));
        }

        if (Id(record.SpanId, 8, "span_id") is { } spanId)
        {
            metadata.Add(new MetadataPair("span_id", spanId));
        }

        if (record.EventName.Length > 0)
        {
            metadata.Add(new MetadataPair(EventName, record.EventName));
        }

        return metadata;
    }

    // OTLP ids are fixed-size; the Collector rejects any other length while decoding.
    private static string? Id(Google.Protobuf.ByteString id, int size, string field)
    {
        if (id.Length != 0 && id.Length != size)
        {
            throw new PushRequestException(400, $"invalid {field}: length mismatch, want {size} bytes, got {id.Length}");
        }

        return OtlpAttributeText.HexId(id);
    }

    private static void AddAttributes(RepeatedField<KeyValue> attributes, IReadOnlyList<OtlpAttributeRule> rules, List<MetadataPair> metadata,
        List<LabelPair>? labels, bool skipEventName)
    {
        foreach (var attribute in attributes)
        {
            if (skipEventName && attribute.Key == EventName)
            {
                continue;
            }

            switch (rules.Count == 0 ? OtlpAttributeAction.StructuredMetadata : OtlpMapping.ActionFor(rules, attribute.Key))
            {
                case OtlpAttributeAction.StructuredMetadata:
                    Flatten(attribute.Key, attribute.Value, "", (name, value) => metadata.Add(new MetadataPair(name, value)));
                    break;
                case OtlpAttributeAction.IndexLabel when labels is not null:
                    Flatten(attribute.Key, attribute.Value, "", (name, value) => labels.Add(new LabelPair(name, value)));
                    break;
            }
        }
    }

    // A map value becomes one pair per leaf, named parent_child; any other value is one pair with its text.
    private static void Flatten(string key, AnyValue? value, string prefix, Action<string, string> add)
    {
        var name = OtlpAttributeText.LabelName(prefix.Length == 0 ? key : prefix + "_" + key);
        if (value?.ValueCase == AnyValue.ValueOneofCase.KvlistValue)
        {
            foreach (var child in value.KvlistValue.Values)
            {
                Flatten(child.Key, child.Value, name, add);
            }

            return;
        }

        add(name, OtlpAttributeText.Value(value));
    }

    private static string Decimal(uint value) => value.ToString(CultureInfo.InvariantCulture);

    private readonly record struct MappedEntry(long TimestampNs, string Line, List<MetadataPair> Metadata);
}
