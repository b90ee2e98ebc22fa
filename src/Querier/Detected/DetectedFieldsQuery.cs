using System.Text;
using System.Text.Json;
using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Evaluation;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Pipeline;
using LokiSharp.Querier.Logs;
using LokiSharp.Querier.Responses;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Querier.Detected;

/// <summary>One field of <c>detected_fields</c>.</summary>
/// <param name="Label">The field name.</param>
/// <param name="Type">string, int, float, boolean, duration or bytes.</param>
/// <param name="Cardinality">Distinct values seen.</param>
/// <param name="Parsers">json and/or logfmt; null for structured metadata.</param>
/// <param name="JsonPath">The original JSON keys of a json-parsed field, else null.</param>
public sealed record DetectedField(string Label, string Type, long Cardinality, IReadOnlyList<string>? Parsers, IReadOnlyList<string>? JsonPath);

/// <summary>
/// Loki 3's <c>detected_fields</c> and <c>detected_field/{name}/values</c>: the newest <c>line_limit</c> lines of
/// the query, each line's structured metadata plus its fields as the query's parsers left them and as a json
/// parser (or, failing that, logfmt) finds them; a field's type is the type of its value in the last line looked
/// at (the oldest), as Loki does. The lines read and the distinct values kept are reserved in
/// <paramref name="memory"/>; skipped corrupt data goes to <paramref name="warnings"/>.
/// </summary>
public sealed class DetectedFieldsQuery(IReadOnlyList<ILogSource> sources, QueryMemoryBudget? memory = null, QueryWarnings? warnings = null)
{
    private static readonly string[] Json = ["json"];
    private static readonly string[] Logfmt = ["logfmt"];

    /// <summary>Fields of the selected lines, at most <paramref name="fieldLimit"/>, sorted by name.</summary>
    public List<DetectedField> Fields(string tenant, LogSelectorExpr selector, long start, long end, int lineLimit, int fieldLimit,
        CancellationToken cancellationToken)
    {
        var fields = new Dictionary<string, FieldState>(StringComparer.Ordinal);
        foreach (var entry in Lines(tenant, selector, start, end, lineLimit, cancellationToken))
        {
            foreach (var (name, values) in entry.Metadata)
            {
                var field = GetOrAdd(fields, name, fieldLimit, parsers: null);
                field?.Observe(values, memory);
            }

            foreach (var (name, values) in entry.Parsed)
            {
                var field = GetOrAdd(fields, name, fieldLimit, entry.Parsers);
                if (field is null)
                {
                    continue;
                }

                if (entry.Parsers is not null)
                {
                    field.AddParsers(entry.Parsers);
                }

                if (entry.JsonPaths is not null)
                {
                    field.JsonPath = entry.JsonPaths.GetValueOrDefault(name);
                }

                field.Observe(values, memory);
            }
        }

        var result = new List<DetectedField>(fields.Count);
        foreach (var (name, field) in fields)
        {
            result.Add(new DetectedField(name, field.Type, field.Values.Count, field.Parsers is { Count: > 0 } ? field.Parsers : null, field.JsonPath));
        }

        result.Sort(static (a, b) => string.CompareOrdinal(a.Label, b.Label));
        return result;
    }

    /// <summary>Distinct values of field <paramref name="name"/>, at most <paramref name="limit"/>, sorted.</summary>
    public List<string> Values(string tenant, LogSelectorExpr selector, long start, long end, int lineLimit, string name, int limit,
        CancellationToken cancellationToken)
    {
        var values = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in Lines(tenant, selector, start, end, lineLimit, cancellationToken))
        {
            if (values.Count >= limit)
            {
                break;
            }

            if (entry.Metadata.TryGetValue(name, out var metadata))
            {
                foreach (var value in metadata)
                {
                    Keep(values, value, memory);
                }
            }

            if (entry.Parsed.TryGetValue(name, out var parsed))
            {
                foreach (var value in parsed)
                {
                    Keep(values, FieldTypes.NormaliseValue(value), memory);
                }
            }
        }

        var result = values.ToList();
        result.Sort(StringComparer.Ordinal);
        return result;
    }

    // A distinct value is held until the response is written: its string and its JSON text.
    private static void Keep(HashSet<string> values, string value, QueryMemoryBudget? memory)
    {
        if (values.Add(value))
        {
            memory?.Reserve(QueryMemoryBudget.ObjectOverhead + (3L * value.Length));
        }
    }

    private static FieldState? GetOrAdd(Dictionary<string, FieldState> fields, string name, int limit, string[]? parsers)
    {
        if (fields.TryGetValue(name, out var field))
        {
            return field;
        }

        if (fields.Count >= limit)
        {
            return null;
        }

        field = new FieldState(parsers is null ? null : [.. parsers]);
        fields[name] = field;
        return field;
    }

    /// <summary>What one line contributes: its metadata and parsed fields with their distinct values.</summary>
    private sealed record LineFields(Dictionary<string, List<string>> Metadata, Dictionary<string, List<string>> Parsed,
        string[]? Parsers, Dictionary<string, string[]>? JsonPaths);

    private IEnumerable<LineFields> Lines(string tenant, LogSelectorExpr selector, long start, long end, int lineLimit,
        CancellationToken cancellationToken)
    {
        var result = new LogQueryEngine(sources, memory, warnings)
            .Select(new LogQuery(tenant, selector, start, end, lineLimit, Direction.Backward), cancellationToken);
        var json = LogPipeline.Compile([new JsonParserExpr(default)]);
        var logfmt = LogPipeline.Compile([new LogfmtParserExpr(false, false, default)]);
        var jsonStages = new Dictionary<LabelSet, StreamPipeline>();
        var logfmtStages = new Dictionary<LabelSet, StreamPipeline>();
        foreach (var entry in result.Entries)
        {
            var metadata = Group(entry.Labels.StructuredMetadata);
            var parsed = Group(entry.Labels.Parsed);

            // The fields the query's own parsers found are left out of the labels the detection parsers see, so a
            // re-parsed key keeps its name instead of getting an _extracted suffix.
            var stream = entry.Labels.Stream;
            var line = Encoding.UTF8.GetBytes(entry.Line);
            string[]? parsers = null;
            Dictionary<string, string[]>? jsonPaths = null;
            if (TryParse(json, jsonStages, stream, line, parsed))
            {
                parsers = Json;
                jsonPaths = JsonPaths(entry.Line, stream);
            }
            else if (TryParse(logfmt, logfmtStages, stream, line, parsed))
            {
                parsers = Logfmt;
            }

            yield return new LineFields(metadata, parsed, parsers, jsonPaths);
        }
    }

    private static bool TryParse(LogPipeline pipeline, Dictionary<LabelSet, StreamPipeline> stages, LabelSet stream, byte[] line,
        Dictionary<string, List<string>> parsed)
    {
        if (!stages.TryGetValue(stream, out var stage))
        {
            stages[stream] = stage = pipeline.ForStream(stream);
        }

        ReadOnlySpan<byte> span = line;
        if (!stage.Run(0, ref span, []) || stage.Labels.HasError)
        {
            return false;
        }

        foreach (var pair in stage.Labels.ToResult().Parsed)
        {
            if (IsErrorLabel(pair.Name))
            {
                continue;
            }

            if (!parsed.TryGetValue(pair.Name, out var values))
            {
                parsed[pair.Name] = values = [];
            }

            if (!values.Contains(pair.Value))
            {
                values.Add(pair.Value);
            }
        }

        return true;
    }

    private static Dictionary<string, List<string>> Group(LabelSet labels)
    {
        var grouped = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var pair in labels)
        {
            if (IsErrorLabel(pair.Name))
            {
                continue;
            }

            if (!grouped.TryGetValue(pair.Name, out var values))
            {
                grouped[pair.Name] = values = [];
            }

            if (!values.Contains(pair.Value))
            {
                values.Add(pair.Value);
            }
        }

        return grouped;
    }

    private static bool IsErrorLabel(string name) =>
        name is PipelineLabels.Error or PipelineLabels.ErrorDetails or PipelineLabels.PreserveError;

    // The original keys behind each flattened json field name (user_id <- ["user","id"]); arrays are not descended,
    // as Loki's json parser skips them.
    private static Dictionary<string, string[]> JsonPaths(string line, LabelSet stream)
    {
        var paths = new Dictionary<string, string[]>(StringComparer.Ordinal);
        try
        {
            // The json parser accepted the line, so its objects nest no deeper than its limit; the same limit bounds Walk's
            // recursion (a deeper document throws, which is caught below).
            using var document = JsonDocument.Parse(line, new JsonDocumentOptions { MaxDepth = JsonParserStep.MaxNestingDepth });
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                Walk(document.RootElement, [], paths, stream);
            }
        }
        catch (JsonException)
        {
            // The pipeline's parser accepted what System.Text.Json does not; the field just has no path.
        }

        return paths;
    }

    private static void Walk(JsonElement element, List<string> path, Dictionary<string, string[]> paths, LabelSet stream)
    {
        foreach (var property in element.EnumerateObject())
        {
            path.Add(property.Name);
            switch (property.Value.ValueKind)
            {
                case JsonValueKind.Object:
                    Walk(property.Value, path, paths, stream);
                    break;
                case JsonValueKind.Array:
                    break;
                default:
                    var name = LabelKeys.Sanitize(string.Join('_', path));
                    if (stream.Get(name) is not null)
                    {
                        name += PipelineLabels.DuplicateSuffix;
                    }

                    paths[name] = [.. path];
                    break;
            }

            path.RemoveAt(path.Count - 1);
        }
    }

    private sealed class FieldState(List<string>? parsers)
    {
        public HashSet<string> Values { get; } = new(StringComparer.Ordinal);

        public string Type { get; private set; } = "string";

        public List<string>? Parsers { get; private set; } = parsers;

        public IReadOnlyList<string>? JsonPath { get; set; }

        public void AddParsers(string[] parsers)
        {
            Parsers ??= [];
            foreach (var parser in parsers)
            {
                if (!Parsers.Contains(parser))
                {
                    Parsers.Add(parser);
                }
            }
        }

        public void Observe(List<string> values, QueryMemoryBudget? memory)
        {
            if (values.Count > 0)
            {
                Type = FieldTypes.Detect(values[0]);
            }

            foreach (var value in values)
            {
                Keep(Values, value, memory);
            }
        }
    }
}
