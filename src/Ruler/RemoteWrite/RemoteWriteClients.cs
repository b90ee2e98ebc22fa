namespace LokiSharp.Ruler.RemoteWrite;

/// <summary>
/// Loki's <c>remote_write.clients</c> (a map of named clients; the older <c>client</c> is one of them): every
/// sample goes to each client's own queue, so a receiver that is down delays none of the others.
/// </summary>
public sealed class RemoteWriteClients(IReadOnlyList<RemoteWriteClient> clients) : IRecordedSampleSink, IAsyncDisposable
{
    /// <inheritdoc />
    public void Append(string tenant, IReadOnlyList<RecordedSample> samples)
    {
        foreach (var client in clients)
        {
            client.Append(tenant, samples);
        }
    }

    /// <summary>Stops every client, each draining its queue within its own drain timeout.</summary>
    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask())).ConfigureAwait(false);
    }
}
