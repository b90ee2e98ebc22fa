using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using LokiSharp.Ingester.Otlp.Protos;

namespace LokiSharp.IntegrationTests;

/// <summary>
/// Lines and queries built to exhaust the server (a JSON line nested 40,000 deep, templates asking for huge
/// outputs): every reader answers 200 with the line marked, and the server stays ready and answers queries.
/// </summary>
public sealed class HostileLineTests : IAsyncLifetime
{
    private const string TooDeep = "Value looks like object, but it is nested more than 128 levels deep";
    private const string TooLarge = "output too large: the template output limit is 1048576 characters";
    private const string NormalLine = """{"level":"info","msg":"ok","a":{"b":"c"}}""";

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private LokiProcess _server = null!;
    private long _base;

    public async Task InitializeAsync()
    {
        _server = await LokiProcess.StartAsync();
        _base = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60) * 1_000_000_000;
        await PushAsync("deep", (1, DeepLine), (2, NormalLine));
        await PushAsync("tmpl", (3, "hello"));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    // {"a":{"a":...{}...}}: 40,000 levels, 240 KB, under the default max_line_size.
    private static readonly string DeepLine =
        new StringBuilder().Insert(0, "{\"a\":", 40_000).Append("{}").Append('}', 40_000).ToString();

    private string Ts(int second) => (_base + (second * 1_000_000_000L)).ToString(CultureInfo.InvariantCulture);

    private string Range => $"start={_base}&end={_base + 10_000_000_000L}";

    private async Task PushAsync(string app, params (int Second, string Line)[] entries)
    {
        var values = new JsonArray();
        foreach (var (second, line) in entries)
        {
            values.Add(new JsonArray(Ts(second), line));
        }

        var body = new JsonObject
        {
            ["streams"] = new JsonArray(new JsonObject { ["stream"] = new JsonObject { ["app"] = app }, ["values"] = values }),
        }.ToJsonString(Relaxed);
        using var response = await _server.Http.PostAsync(new Uri("/loki/api/v1/push", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    private async Task<(HttpStatusCode Status, string Body)> GetAsync(string pathAndQuery)
    {
        using var response = await _server.Http.GetAsync(new Uri(pathAndQuery, UriKind.Relative));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    // The entries of a log query, oldest first, each with its stream's labels.
    private async Task<List<(JsonObject Labels, string Line)>> QueryAsync(string logql)
    {
        var (status, body) = await GetAsync($"/loki/api/v1/query_range?query={Uri.EscapeDataString(logql)}&{Range}&direction=forward&limit=100");
        Assert.True(status == HttpStatusCode.OK, body.Length > 2000 ? body[..2000] : body);
        var entries = new List<(JsonObject, string, long)>();
        foreach (var stream in JsonNode.Parse(body)!["data"]!["result"]!.AsArray())
        {
            foreach (var value in stream!["values"]!.AsArray())
            {
                entries.Add((stream["stream"]!.AsObject(), value![1]!.GetValue<string>(), long.Parse(value[0]!.GetValue<string>(), CultureInfo.InvariantCulture)));
            }
        }

        return entries.OrderBy(static e => e.Item3).Select(static e => (e.Item1, e.Item2)).ToList();
    }

    private static string? Label(JsonObject labels, string name) => labels[name]?.GetValue<string>();

    private async Task AssertAliveAsync()
    {
        using var ready = await _server.Http.GetAsync(new Uri("/ready", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var entries = await QueryAsync("{app=\"tmpl\"}");
        Assert.Equal("hello", Assert.Single(entries).Line);
        Assert.False(_server.Process.HasExited);
    }

    [Fact]
    public async Task A_line_nested_forty_thousand_deep_is_marked_by_json_and_read_by_everything_else()
    {
        var parsed = await QueryAsync("{app=\"deep\"} | json");
        Assert.Equal(2, parsed.Count);
        Assert.Equal(DeepLine, parsed[0].Line);
        Assert.Equal("JSONParserErr", Label(parsed[0].Labels, "__error__"));
        Assert.Equal(TooDeep, Label(parsed[0].Labels, "__error_details__"));
        Assert.Equal(NormalLine, parsed[1].Line);
        Assert.Null(Label(parsed[1].Labels, "__error__"));
        Assert.Equal("info", Label(parsed[1].Labels, "level"));
        Assert.Equal("c", Label(parsed[1].Labels, "a_b"));

        var marked = await QueryAsync("{app=\"deep\"} | json | __error__=\"JSONParserErr\"");
        Assert.Equal(DeepLine, Assert.Single(marked).Line);

        // A metric query counts the marked lines once the error labels are dropped (otherwise Loki's pipeline error).
        var (countStatus, count) = await GetAsync(
            $"/loki/api/v1/query?query={Uri.EscapeDataString("sum(count_over_time({app=\"deep\"} | json | __error__=\"JSONParserErr\" | drop __error__, __error_details__ [1h]))")}" +
            $"&time={_base + 10_000_000_000L}");
        Assert.True(countStatus == HttpStatusCode.OK, count);
        Assert.Equal("1", JsonNode.Parse(count)!["data"]!["result"]![0]!["value"]![1]!.GetValue<string>());

        var extracted = await QueryAsync("{app=\"deep\"} | json inner=\"a.a\", level=\"level\"");
        Assert.StartsWith("{\"a\":{\"a\":", Label(extracted[0].Labels, "inner"), StringComparison.Ordinal);
        Assert.Equal(DeepLine.Length - 12, Label(extracted[0].Labels, "inner")!.Length);
        Assert.Null(Label(extracted[0].Labels, "__error__"));
        Assert.Equal("info", Label(extracted[1].Labels, "level"));

        var unpacked = await QueryAsync("{app=\"deep\"} | unpack");
        Assert.Equal([DeepLine, NormalLine], unpacked.Select(static e => e.Line));
        Assert.All(unpacked, static e => Assert.Null(Label(e.Labels, "__error__")));

        var formatted = await QueryAsync("{app=\"deep\"} | json | line_format \"{{.level}}|{{.a_b}}|{{.__error__}}\"");
        Assert.Equal(["||JSONParserErr", "info|c|"], formatted.Select(static e => e.Line));

        await AssertAliveAsync();
    }

    [Fact]
    public async Task Detected_fields_and_patterns_read_a_line_nested_forty_thousand_deep()
    {
        var query = Uri.EscapeDataString("{app=\"deep\"}");
        var (fieldsStatus, fields) = await GetAsync($"/loki/api/v1/detected_fields?{Range}&query={query}");
        Assert.Equal(HttpStatusCode.OK, fieldsStatus);
        var byName = JsonNode.Parse(fields)!["fields"]!.AsArray().ToDictionary(static f => f!["label"]!.GetValue<string>(), static f => f!);
        Assert.Equal("""["a","b"]""", byName["a_b"]["jsonPath"]!.ToJsonString());
        Assert.Equal("""["json"]""", byName["level"]["parsers"]!.ToJsonString());

        var (valuesStatus, values) = await GetAsync($"/loki/api/v1/detected_field/level/values?{Range}&query={query}");
        Assert.Equal(HttpStatusCode.OK, valuesStatus);
        Assert.Equal("""{"values":["info"],"limit":1000}""", values);

        var (patternsStatus, patterns) = await GetAsync($"/loki/api/v1/patterns?{Range}&step=10s&query={query}");
        Assert.Equal(HttpStatusCode.OK, patternsStatus);
        Assert.Equal("success", JsonNode.Parse(patterns)!["status"]!.GetValue<string>());
        Assert.Equal(2, JsonNode.Parse(patterns)!["data"]!.AsArray().Count);

        await AssertAliveAsync();
    }

    [Theory]
    // Go's fmt accepts a width of ten million; the output limit does not.
    [InlineData("{app=\"tmpl\"} | line_format \"{{ printf \\\"%10000000s\\\" __line__ }}\"", "error calling printf: " + TooLarge)]
    [InlineData("{app=\"tmpl\"} | label_format big=\"{{ repeat 100000000 \\\"x\\\" }}\"", "error calling repeat: " + TooLarge)]
    [InlineData("{app=\"tmpl\"} | line_format \"{{ indent 100000000 __line__ }}\"", "error calling indent: " + TooLarge)]
    [InlineData("{app=\"tmpl\"} | line_format \"{{ range 1000000000000 }}{{ end }}\"", "template execution budget exceeded: its values add up to more than 8388608 characters")]
    public async Task Templates_asking_for_huge_outputs_mark_the_line(string logql, string details)
    {
        var entry = Assert.Single(await QueryAsync(logql));

        Assert.Equal("hello", entry.Line);
        Assert.Equal("TemplateFormatErr", Label(entry.Labels, "__error__"));
        Assert.EndsWith(details, Label(entry.Labels, "__error_details__"), StringComparison.Ordinal);
        Assert.Null(Label(entry.Labels, "big"));
        await AssertAliveAsync();
    }

    [Fact]
    public async Task A_printf_width_Gos_fmt_refuses_prints_its_marks()
    {
        // A literal width past a million drops the rest of the format, as Go's fmt does.
        var entry = Assert.Single(await QueryAsync("{app=\"tmpl\"} | line_format \"{{ printf \\\"%100000000s\\\" __line__ }}\""));

        Assert.Equal("%!(NOVERB)%!(EXTRA string=hello)", entry.Line);
        Assert.Null(Label(entry.Labels, "__error__"));
        await AssertAliveAsync();
    }

    [Theory]
    [InlineData("nested", "invalid line template: template: line:1: max expression depth exceeded")]
    [InlineData("''", "invalid line template: template: line:1: invalid syntax")]
    public async Task A_template_that_cannot_be_parsed_is_a_bad_request(string template, string error)
    {
        if (template == "nested")
        {
            template = string.Concat(Enumerable.Repeat("(", 20_000)) + "1" + string.Concat(Enumerable.Repeat(")", 20_000));
        }

        var logql = "{app=\"tmpl\"} | line_format \"{{ " + template + " }}\"";

        using var response = await _server.Http.PostAsync(new Uri("/loki/api/v1/query_range", UriKind.Relative),
            new FormUrlEncodedContent(new Dictionary<string, string> { ["query"] = logql, ["start"] = Ts(0), ["end"] = Ts(10) }));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(error, body, StringComparison.Ordinal);
        await AssertAliveAsync();
    }

    [Fact]
    public async Task A_label_replace_that_multiplies_a_value_is_a_bad_request()
    {
        // 20,000 references to a 100-character group: 2 million characters from a 40 KB query.
        var logql = "label_replace(sum by (x) (count_over_time({app=\"tmpl\"} | label_format x=\"{{ repeat 100 \\\"p\\\" }}\" [1h])), \"y\", \"" +
                    string.Concat(Enumerable.Repeat("$1", 20_000)) + "\", \"x\", \"(.*)\")";

        using var response = await _server.Http.PostAsync(new Uri("/loki/api/v1/query", UriKind.Relative),
            new FormUrlEncodedContent(new Dictionary<string, string> { ["query"] = logql, ["time"] = Ts(10) }));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("label_replace: the replacement for \"y\" expands to more than 1048576 characters", body, StringComparison.Ordinal);
        await AssertAliveAsync();
    }

    [Fact]
    public async Task Deeply_nested_push_bodies_are_bad_requests()
    {
        var loki = "{\"streams\":[],\"extra\":" + new string('[', 100_000) + new string(']', 100_000) + "}";
        using var lokiResponse = await _server.Http.PostAsync(new Uri("/loki/api/v1/push", UriKind.Relative), new StringContent(loki, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, lokiResponse.StatusCode);
        Assert.Contains("depth", await lokiResponse.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var otlpJson = new StringBuilder("{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":");
        otlpJson.Insert(otlpJson.Length, "{\"kvlistValue\":{\"values\":[{\"key\":\"k\",\"value\":", 10_000).Append("{}");
        otlpJson.Insert(otlpJson.Length, "}]}}", 10_000).Append("}]}]}]}");
        using var jsonResponse = await PostOtlpAsync(Encoding.UTF8.GetBytes(otlpJson.ToString()), "application/json");
        Assert.Equal(HttpStatusCode.BadRequest, jsonResponse.StatusCode);
        Assert.StartsWith("json: The maximum configured depth of 128 has been exceeded.",
            Status.Parser.ParseFrom(await jsonResponse.Content.ReadAsByteArrayAsync()).Message, StringComparison.Ordinal);

        // Google.Protobuf stops at 100 nested messages (its default, which the decoder keeps).
        var value = new AnyValue { StringValue = "leaf" };
        for (var i = 0; i < 200; i++)
        {
            value = new AnyValue { KvlistValue = new KeyValueList { Values = { new KeyValue { Key = "k", Value = value } } } };
        }

        var request = new ExportLogsServiceRequest
        {
            ResourceLogs = { new ResourceLogs { ScopeLogs = { new ScopeLogs { LogRecords = { new LogRecord { Body = value } } } } } },
        };
        using var protoResponse = await PostOtlpAsync(request.ToByteArray(), "application/x-protobuf");
        Assert.Equal(HttpStatusCode.BadRequest, protoResponse.StatusCode);
        Assert.StartsWith("proto: Protocol message had too many levels of nesting.",
            Status.Parser.ParseFrom(await protoResponse.Content.ReadAsByteArrayAsync()).Message, StringComparison.Ordinal);

        await AssertAliveAsync();
    }

    private async Task<HttpResponseMessage> PostOtlpAsync(byte[] body, string contentType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
        return await _server.Http.PostAsync(new Uri("/otlp/v1/logs", UriKind.Relative), content);
    }
}
