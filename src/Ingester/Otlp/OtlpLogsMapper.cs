using Google.Protobuf.Collections;
using LokiSharp.Ingester.Otlp.Protos;
using LokiSharp.Ingester.Push;
using LokiSharp.LogQL.Labels;
using System.Globalization;

namespace LokiSharp.Ingester.Otlp;

/// <summary>
/// Turns an OTLP logs export into a Loki push as Loki 3.x does: index-label resource attributes become the
/// stream labels (with a <c>service_name</c> fallback), every other resource, scope and log attribute and the
/// log record's own fields become structured metadata, the body becomes the line.
/// </summary>
public static class OtlpLogsMapper
{
    private const string ServiceNameAttribute = "service.name";
    private const string ServiceNameLabel = "service_name";
    private const string UnknownService = "unknown_service";
    private const string EventName = "event_name";

    /// <summary>Maps <paramref name="request"/> into a new batch (format <c>otlp</c>) that the caller disposes.</summary>
    /// <param name="request">The decoded export.</param>
    /// <param name="mapping">Index-label and service-name settings.</param>
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
            foreach (var resourceLogs in request.ResourceLogs)
            {
                var (labels, resourceMetadata) = ResourceAttributes(resourceLogs.Resource, mapping);
                if (!streams.TryGetValue(labels, out var entries))
                {
                    entries = [];
                    streams[labels] = entries;
                    order.Add(labels);
                }

                foreach (var scopeLogs in resourceLogs.ScopeLogs)
                {
                    var scopeMetadata = ScopeAttributes(scopeLogs.Scope);
                    foreach (var record in scopeLogs.LogRecords)
                    {
                        var metadata = RecordMetadata(record);
                        metadata.AddRange(resourceMetadata);
                        metadata.AddRange(scopeMetadata);
                        entries.Add(new MappedEntry(Timestamp(record, nowNs), OtlpAttributeText.Value(record.Body), metadata));
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

    private static (string Labels, List<MetadataPair> Metadata) ResourceAttributes(Resource? resource, OtlpMapping mapping)
    {
        var labels = new List<LabelPair>();
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

                if (mapping.IndexLabelAttributes.Contains(attribute.Key))
                {
                    Flatten(attribute.Key, attribute.Value, "", (name, value) => labels.Add(new LabelPair(name, value)));
                }
                else
                {
                    Flatten(attribute.Key, attribute.Value, "", (name, value) => metadata.Add(new MetadataPair(name, value)));
                }
            }
        }

        // A later attribute with the same label name wins, as in Loki's label map.
        var set = LabelSet.From(labels);
        if (!hasServiceName && mapping.DiscoverServiceName.Count > 0)
        {
            var service = UnknownService;
            foreach (var name in mapping.DiscoverServiceName)
            {
                if (set.Get(name) is { Length: > 0 } value)
                {
                    service = value;
                    break;
                }
            }

            set = LabelSet.From([.. set, new LabelPair(ServiceNameLabel, service)]);
        }

        return (set.ToString(), metadata);
    }

    private static List<MetadataPair> ScopeAttributes(InstrumentationScope? scope)
    {
        var metadata = new List<MetadataPair>();
        if (scope is null)
        {
            return metadata;
        }

        AddAttributes(scope.Attributes, metadata, skipEventName: false);
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

    private static List<MetadataPair> RecordMetadata(LogRecord record)
    {
        var metadata = new List<MetadataPair>(record.Attributes.Count + 8);

        // The record's own event_name field takes precedence over an attribute of that name.
        AddAttributes(record.Attributes, metadata, skipEventName: record.EventName.Length > 0);

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

    private static void AddAttributes(RepeatedField<KeyValue> attributes, List<MetadataPair> metadata, bool skipEventName)
    {
        foreach (var attribute in attributes)
        {
            if (skipEventName && attribute.Key == EventName)
            {
                continue;
            }

            Flatten(attribute.Key, attribute.Value, "", (name, value) => metadata.Add(new MetadataPair(name, value)));
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
