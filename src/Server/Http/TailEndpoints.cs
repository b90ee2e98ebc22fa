using System.Buffers;
using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using LokiSharp.Ingester.Tail;
using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Syntax;
using LokiSharp.LogQL.Text;
using LokiSharp.Querier.Requests;
using LokiSharp.Querier.Responses;
using LokiSharp.Querier.Tail;
using LokiSharp.Server.Configuration;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Server.Http;

/// <summary>Live tailing over WebSocket: <c>/loki/api/v1/tail</c> and the legacy <c>/api/prom/tail</c>.</summary>
internal static class TailEndpoints
{
    private const int MaxDelayForSeconds = 5;
    private static readonly TimeSpan PingPeriod = TimeSpan.FromSeconds(1);

    // Makes the concurrent-tail check and the subscription one step, so two tails cannot both take the last slot.
    private static readonly Lock SubscribeLock = new();

    public static void MapTailEndpoints(this IEndpointRouteBuilder endpoints)
    {
        string[] getPost = ["GET", "POST"];
        endpoints.MapMethods("/loki/api/v1/tail", getPost, static context => TailAsync(context, legacy: false));
        endpoints.MapMethods("/api/prom/tail", getPost, static context => TailAsync(context, legacy: true));
    }

    /// <summary>What a tail request asked for, validated before the upgrade.</summary>
    private sealed record TailRequest(LogSelectorExpr Selector, int Limit, long Start, TimeSpan DelayFor);

    private static async Task TailAsync(HttpContext context, bool legacy)
    {
        var services = context.RequestServices;
        var tenant = services.GetRequiredService<Tenancy>().ResolveSingle(context.Request.Headers["X-Scope-OrgID"].ToString(), out var tenantError);
        if (tenant is null)
        {
            await PlainText.WriteAsync(context, StatusCodes.Status400BadRequest, tenantError.Message).ConfigureAwait(false);
            return;
        }

        var limits = services.GetRequiredService<TenantLimitsSource>().LimitsFor(tenant);
        TailRequest request;
        try
        {
            request = Parse(await RequestParams.ReadAsync(context.Request).ConfigureAwait(false),
                new LogQLParserOptions { AllowEmptyMatchers = limits.AllowEmptyMatchers });
        }
        catch (Exception e) when (e is QueryRequestException or LogQLParseException)
        {
            await PlainText.WriteAsync(context, StatusCodes.Status400BadRequest, e.Message).ConfigureAwait(false);
            return;
        }

        if (!context.WebSockets.IsWebSocketRequest)
        {
            await PlainText.WriteAsync(context, StatusCodes.Status400BadRequest,
                "websocket: the client is not using the websocket protocol: 'upgrade' token not found in 'Connection' header").ConfigureAwait(false);
            return;
        }

        var categorize = QueryEndpoints.CategorizeLabels(context.Request) && !legacy;
        // Live lines come from ingester heads; reaching other processes' ingesters comes with peers (issue #19).
        if (services.GetService<Ingester.StreamIngester>() is not { } ingester)
        {
            await PlainText.WriteAsync(context, StatusCodes.Status503ServiceUnavailable,
                "tail needs an ingester: this instance runs no ingester and cannot reach other instances' ingesters yet").ConfigureAwait(false);
            return;
        }

        var time = services.GetRequiredService<TimeProvider>();
        var tail = new LogTail(tenant, request.Selector, request.Limit, request.DelayFor, time,
            new LokiSharp.LogQL.Evaluation.QueryMemoryBudget(limits.MaxQueryMemoryBytes.Bytes));
        IDisposable? subscription = null;
        string? refusal = null;
        lock (SubscribeLock)
        {
            var open = ingester.Tail.Count(tenant);
            if (open >= limits.MaxConcurrentTailRequests)
            {
                refusal = $"max concurrent tail requests limit exceeded, count > limit ({open + 1} > {limits.MaxConcurrentTailRequests})";
            }
            else
            {
                subscription = ingester.Tail.Subscribe(tenant, new TailSubscriber(tail));
            }
        }

        // Subscribed before the upgrade completes, so a push made as soon as the client sees the socket open is
        // not missed; the tail buffers it until streaming starts.
        WebSocket socket;
        try
        {
            socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = PingPeriod }).ConfigureAwait(false);
        }
        catch
        {
            subscription?.Dispose();
            throw;
        }

        using var acceptedSocket = socket;
        if (subscription is null)
        {
            using var stop = new CancellationTokenSource();
            var reader = ReadUntilClosedAsync(socket, stop);
            await CloseAsync(socket, reader, refusal!).ConfigureAwait(false);
            return;
        }

        using (subscription)
        {
            await StreamAsync(context, socket, tail, request, legacy, categorize,
                services.GetRequiredService<LokiConfig>().Querier.TailMaxDuration).ConfigureAwait(false);
        }
    }

    private static TailRequest Parse(RequestParams parameters, LogQLParserOptions options)
    {
        var query = parameters.Get("query") ?? "";
        var regexp = parameters.Get("regexp");
        if (!string.IsNullOrEmpty(regexp))
        {
            query = LogQLParser.ParseLogSelector(query, options) + " |~ " + GoString.Quote(regexp);
        }

        if (LogQLParser.Parse(query, options) is not LogSelectorExpr selector)
        {
            throw new QueryRequestException("tailing is only supported for log queries");
        }

        var limit = QueryParameters.ParseLimit(parameters.Get("limit"));
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        var start = RequestBounds.ParseStartOnly(parameters, now).Start;
        var delayText = parameters.Get("delay_for");
        long delay = 0;
        if (!string.IsNullOrEmpty(delayText) && !long.TryParse(delayText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out delay))
        {
            throw new QueryRequestException($"strconv.ParseInt: parsing {GoString.Quote(delayText)}: invalid syntax");
        }

        if (delay < 0 || delay > uint.MaxValue)
        {
            throw new QueryRequestException($"delay_for value {delay} is out of range [0, {uint.MaxValue}]");
        }

        if (delay > MaxDelayForSeconds)
        {
            throw new QueryRequestException($"delay_for can't be greater than {MaxDelayForSeconds}");
        }

        return new TailRequest(selector, limit, start, TimeSpan.FromSeconds(delay));
    }

    private static async Task StreamAsync(HttpContext context, WebSocket socket, LogTail tail, TailRequest request, bool legacy,
        bool categorize, TimeSpan maxDuration)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var sources = context.RequestServices.GetRequiredService<IReadOnlyList<ILogSource>>();
        var producer = Task.Run(() => tail.RunAsync(sources, request.Start, stop.Token), CancellationToken.None);
        var reader = ReadUntilClosedAsync(socket, stop);
        using var deadline = new CancellationTokenSource(maxDuration);
        using var sending = CancellationTokenSource.CreateLinkedTokenSource(stop.Token, deadline.Token);
        var buffer = new ArrayBufferWriter<byte>(4096);
        string? closeReason = null;
        try
        {
            await foreach (var frame in tail.Frames.ReadAllAsync(sending.Token).ConfigureAwait(false))
            {
                buffer.ResetWrittenCount();
                await using (var writer = new Utf8JsonWriter(buffer, LokiJson.WriterOptions))
                {
                    if (legacy)
                    {
                        TailJson.WriteLegacyFrame(writer, frame);
                    }
                    else
                    {
                        TailJson.WriteFrame(writer, frame, categorize);
                    }
                }

                await socket.SendAsync(buffer.WrittenMemory, WebSocketMessageType.Text, endOfMessage: true, sending.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !stop.IsCancellationRequested)
        {
            closeReason = "reached tail max duration limit";
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The client closed the connection or went away.
        }
        catch (WebSocketException)
        {
            // The connection broke while sending; nothing to tell the client.
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The history query failed (a corrupt store, a timeout): Loki ends the tail with the error.
            closeReason = e.Message;
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await producer.ConfigureAwait(false);
        }

        if (closeReason is not null)
        {
            await CloseAsync(socket, reader, closeReason).ConfigureAwait(false);
        }

        await reader.ConfigureAwait(false);
    }

    // Client frames are ignored, as Loki does; a close (or a broken connection) ends the tail.
    private static async Task ReadUntilClosedAsync(WebSocket socket, CancellationTokenSource stop)
    {
        var buffer = new byte[1024];
        try
        {
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, CancellationToken.None).ConfigureAwait(false);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
            }

            if (socket.State == WebSocketState.CloseReceived)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The connection is gone.
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
        }
    }

    // Loki closes fatal errors with 1011 and the error as the reason, then lets the client answer the close,
    // which the reader receives.
    private static async Task CloseAsync(WebSocket socket, Task reader, string reason)
    {
        try
        {
            await socket.CloseOutputAsync(WebSocketCloseStatus.InternalServerError, reason, CancellationToken.None).ConfigureAwait(false);
            await reader.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or TimeoutException)
        {
            // The client did not answer the close; the connection is dropped anyway.
        }
    }

    /// <summary>Feeds the ingester's durable pushes into one tail.</summary>
    private sealed class TailSubscriber(LogTail tail) : ITailSubscriber
    {
        public void OnPushed(LabelSet streamLabels, IReadOnlyList<PushedEntry> entries)
        {
            foreach (var entry in entries)
            {
                tail.Offer(streamLabels, entry.TimestampNs, entry.Line, entry.Metadata);
            }
        }
    }
}
