using System.Text;
using System.Text.Json;
using LokiSharp.Compactor.Deletion;
using LokiSharp.LogQL.Syntax;

namespace LokiSharp.Compactor.Tests;

public sealed class DeleteRequestValidatorTests
{
    // 2024-03-01T00:00:00Z
    private const long NowMs = 1_709_251_200_000;

    private static DeleteRequestException Refused(Action call) => Assert.Throws<DeleteRequestException>(call);

    [Fact]
    public void A_create_call_gives_a_request_ending_now_by_default()
    {
        var request = DeleteRequestValidator.ParseCreate("t", "{app=\"api\"}", "1709164800", "", "", NowMs);

        Assert.Equal("t", request.Tenant);
        Assert.Equal("{app=\"api\"}", request.Query);
        Assert.Equal(1_709_164_800_000, request.StartMs);
        Assert.Equal(NowMs, request.EndMs);
        Assert.Equal(NowMs, request.CreatedAtMs);
        Assert.Equal(8, request.RequestId.Length);
        Assert.Equal(DeleteRequestStatus.Received, request.Status);
    }

    [Fact]
    public void Times_are_ten_digit_unix_seconds_or_RFC3339()
    {
        var request = DeleteRequestValidator.ParseCreate("t", "{app=\"api\"}", "2024-02-29T00:00:00.5Z", "2024-02-29T02:00:00+01:00", "1h", NowMs);

        Assert.Equal(1_709_164_800_500, request.StartMs);
        Assert.Equal(1_709_168_400_000, request.EndMs);
        Assert.True(DeleteRequestValidator.TryParseTime("1709164800", out var ms));
        Assert.Equal(1_709_164_800_000, ms);
        Assert.False(DeleteRequestValidator.TryParseTime("170916480", out _));
        Assert.False(DeleteRequestValidator.TryParseTime("1709164800000", out _));
        Assert.False(DeleteRequestValidator.TryParseTime("2024-02-29", out _));
    }

    [Theory]
    [InlineData("", "1709164800", "", "", "query not set")]
    [InlineData("{app=\"api\"}", "", "", "", "start time not set")]
    [InlineData("{app=\"api\"}", "yesterday", "", "", "invalid start time: require unix seconds or RFC3339 format")]
    [InlineData("{app=\"api\"}", "1709164800", "tomorrow", "", "invalid end time: require unix seconds or RFC3339 format")]
    [InlineData("{app=\"api\"}", "1709164800", "1809164800", "", "deletes in the future are not allowed")]
    [InlineData("{app=\"api\"}", "1709164800", "1709164800", "", "start time can't be greater than or equal to end time")]
    [InlineData("{app=\"api\"}", "1709164900", "1709164800", "", "start time can't be greater than or equal to end time")]
    [InlineData("{app=\"api\"}", "1709164800", "", "500ms", "invalid max_interval: valid time units are 's', 'm', 'h'")]
    [InlineData("{app=\"api\"}", "1709164800", "", "often", "invalid max_interval: valid time units are 's', 'm', 'h'")]
    public void Bad_create_calls_get_Lokis_texts_and_400(string query, string start, string end, string maxInterval, string expected)
    {
        var error = Refused(() => DeleteRequestValidator.ParseCreate("t", query, start, end, maxInterval, NowMs));

        Assert.Equal(expected, error.Message);
        Assert.Equal(400, error.StatusCode);
    }

    [Fact]
    public void A_query_that_is_not_a_log_selector_gets_the_parsers_text()
    {
        const string query = "sum(rate({app=\"api\"}[1m]))";
        var parserText = Assert.ThrowsAny<LogQLParseException>(() => LogQLParser.ParseLogSelector(query)).Message;

        var error = Refused(() => DeleteRequestValidator.ParseCreate("t", query, "1709164800", "", "", NowMs));

        Assert.Equal(parserText, error.Message);
        Assert.Equal(400, error.StatusCode);
    }

    [Fact]
    public void A_disabled_tenant_gets_403()
    {
        DeleteRequestValidator.CheckDeletionMode("filter-and-delete");
        var error = Refused(() => DeleteRequestValidator.CheckDeletionMode("disabled"));

        Assert.Equal("deletion is not available for this tenant", error.Message);
        Assert.Equal(403, error.StatusCode);
    }

    [Fact]
    public void The_list_range_is_unbounded_by_default()
    {
        Assert.Equal((long.MinValue, long.MaxValue), DeleteRequestValidator.ParseListRange("", ""));
        Assert.Equal((1_709_164_800_000, long.MaxValue), DeleteRequestValidator.ParseListRange("1709164800", ""));
        Assert.Equal("invalid start time: require unix seconds or RFC3339 format", Refused(() => DeleteRequestValidator.ParseListRange("x", "")).Message);
        Assert.Equal("invalid end time: require unix seconds or RFC3339 format", Refused(() => DeleteRequestValidator.ParseListRange("", "x")).Message);
    }

    [Fact]
    public void Cancelling_is_refused_when_unknown_processed_or_past_the_cancel_period_unless_forced()
    {
        var request = DeleteRequestValidator.ParseCreate("t", "{app=\"api\"}", "1709164800", "", "", NowMs);
        var period = TimeSpan.FromHours(24);

        DeleteRequestValidator.CheckCancel(request, force: false, period, NowMs + (long)period.TotalMilliseconds);
        var late = Refused(() => DeleteRequestValidator.CheckCancel(request, force: false, period, NowMs + (long)period.TotalMilliseconds + 1));
        Assert.Equal("Cancellation of partially completed delete request or delete request past the deadline of 24h0m0s since its creation " +
                     "is not allowed. To force, use the ?force query parameter", late.Message);
        Assert.Equal(400, late.StatusCode);
        DeleteRequestValidator.CheckCancel(request, force: true, period, NowMs + (long)period.TotalMilliseconds + 1);

        var unknown = Refused(() => DeleteRequestValidator.CheckCancel(null, force: true, period, NowMs));
        Assert.Equal("could not find delete request with given id", unknown.Message);
        Assert.Equal(404, unknown.StatusCode);

        request.Status = DeleteRequestStatus.Processed;
        var processed = Refused(() => DeleteRequestValidator.CheckCancel(request, force: true, period, NowMs));
        Assert.Equal("deletion of request which is in process or already processed is not allowed", processed.Message);
        Assert.Equal(400, processed.StatusCode);
    }

    [Fact]
    public void The_list_is_Lokis_array_with_seconds_as_numbers()
    {
        var requests = new[]
        {
            new DeleteRequest { RequestId = "ab12cd34", Tenant = "t", Query = "{app=\"api\"} |= \"x\"", StartMs = 1_709_164_800_000, EndMs = 1_709_164_800_250, CreatedAtMs = NowMs },
            new DeleteRequest { RequestId = "ef56ab78", Tenant = "t", Query = "{app=\"web\"}", StartMs = 1_000, EndMs = 2_500, CreatedAtMs = NowMs, Status = DeleteRequestStatus.Processed },
        };
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            DeleteRequestJson.WriteList(json, requests);
        }

        Assert.Equal(
            "[{\"request_id\":\"ab12cd34\",\"start_time\":1709164800,\"end_time\":1709164800.25,\"query\":\"{app=\\u0022api\\u0022} |= \\u0022x\\u0022\"," +
            "\"status\":\"received\",\"created_at\":1709251200,\"user_id\":\"\"}," +
            "{\"request_id\":\"ef56ab78\",\"start_time\":1,\"end_time\":2.5,\"query\":\"{app=\\u0022web\\u0022}\",\"status\":\"processed\",\"created_at\":1709251200,\"user_id\":\"\"}]",
            Encoding.UTF8.GetString(buffer.ToArray()));
        Assert.Equal("\"42\"\n", DeleteRequestJson.GenerationBody(42));
    }
}
