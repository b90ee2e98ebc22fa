using System.Collections.Concurrent;
using System.Collections.Specialized;
using System.Net;
using LokiSharp.Tests.Neighbours;

namespace LokiSharp.Ruler.Tests.Delivery;

/// <summary>A loopback HTTP server that records every request and answers with the statuses it is told to.</summary>
internal sealed class RecordingHttpServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Func<int, int> _statusForRequest;
    private readonly Task _loop;
    private int _count;

    public RecordingHttpServer(Func<int, int>? statusForRequest = null)
    {
        _statusForRequest = statusForRequest ?? (_ => 200);
        var port = NeighbourProcess.FreePort();
        Url = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(Url.ToString());
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public Uri Url { get; }

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public void Dispose()
    {
        // Close alone: after a Stop, the managed listener's Close looks its endpoint up again and binds the port anew,
        // which fails ("Address already in use") while a client that was never answered still holds a connection.
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            var index = Interlocked.Increment(ref _count) - 1;
            Requests.Enqueue(new RecordedRequest(context.Request.HttpMethod, context.Request.Url!.AbsolutePath,
                new NameValueCollection(context.Request.Headers), body.ToArray()));
            context.Response.StatusCode = _statusForRequest(index);
            context.Response.Close();
        }
    }
}

/// <summary>One request the server received.</summary>
internal sealed record RecordedRequest(string Method, string Path, NameValueCollection Headers, byte[] Body);
