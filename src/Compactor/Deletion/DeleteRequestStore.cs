using System.Text.Json;
using LokiSharp.Compactor.State;

namespace LokiSharp.Compactor.Deletion;

/// <summary>
/// The delete requests of every tenant, kept as one JSON document in the compactor's state (the working directory, or
/// the bucket for a store in object storage) and saved whole on every change. Thread-safe.
/// </summary>
public sealed class DeleteRequestStore
{
    private readonly Lock _lock = new();
    private readonly ICompactorState _state;
    private readonly List<DeleteRequest> _requests = [];
    private long _generation;

    /// <summary>Loads (or starts) the requests kept in <paramref name="state"/>.</summary>
    public DeleteRequestStore(ICompactorState state)
    {
        _state = state;
        if (state.Load(CompactorStateKind.Deletes) is { } bytes)
        {
            Load(bytes);
        }
    }

    /// <summary>Bumped on every change; Loki's cache generation number, so result caches know to drop entries.</summary>
    public long Generation
    {
        get
        {
            lock (_lock)
            {
                return _generation;
            }
        }
    }

    /// <summary>Adds a request durably.</summary>
    public void Add(DeleteRequest request)
    {
        lock (_lock)
        {
            _requests.Add(request);
            try
            {
                SaveLocked();
            }
            catch
            {
                _requests.Remove(request);
                throw;
            }
        }
    }

    /// <summary>A tenant's requests, oldest first, optionally only those overlapping <c>[startMs, endMs]</c>.</summary>
    public List<DeleteRequest> ForTenant(string tenant, long startMs = long.MinValue, long endMs = long.MaxValue)
    {
        lock (_lock)
        {
            return _requests.FindAll(r => r.Tenant == tenant && r.StartMs <= endMs && r.EndMs >= startMs);
        }
    }

    /// <summary>Every request, oldest first.</summary>
    public List<DeleteRequest> All()
    {
        lock (_lock)
        {
            return [.. _requests];
        }
    }

    /// <summary>Finds a request by tenant and id.</summary>
    public DeleteRequest? Find(string tenant, string requestId)
    {
        lock (_lock)
        {
            return _requests.Find(r => r.Tenant == tenant && r.RequestId == requestId);
        }
    }

    /// <summary>Removes a request durably (cancellation).</summary>
    public bool Remove(string tenant, string requestId)
    {
        lock (_lock)
        {
            var index = _requests.FindIndex(r => r.Tenant == tenant && r.RequestId == requestId);
            if (index < 0)
            {
                return false;
            }

            var removed = _requests[index];
            _requests.RemoveAt(index);
            try
            {
                SaveLocked();
            }
            catch
            {
                _requests.Insert(index, removed);
                throw;
            }

            return true;
        }
    }

    /// <summary>Marks a request processed durably.</summary>
    public void MarkProcessed(DeleteRequest request)
    {
        lock (_lock)
        {
            request.Status = DeleteRequestStatus.Processed;
            try
            {
                SaveLocked();
            }
            catch
            {
                request.Status = DeleteRequestStatus.Received;
                throw;
            }
        }
    }

    private void SaveLocked()
    {
        _generation++;
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteNumber("generation", _generation);
            json.WriteStartArray("requests");
            foreach (var r in _requests)
            {
                json.WriteStartObject();
                json.WriteString("request_id", r.RequestId);
                json.WriteString("tenant", r.Tenant);
                json.WriteString("query", r.Query);
                json.WriteNumber("start_ms", r.StartMs);
                json.WriteNumber("end_ms", r.EndMs);
                json.WriteNumber("created_at_ms", r.CreatedAtMs);
                json.WriteString("status", r.Status == DeleteRequestStatus.Processed ? "processed" : "received");
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        _state.Save(CompactorStateKind.Deletes, stream.GetBuffer().AsMemory(0, (int)stream.Length));
    }

    private void Load(byte[] bytes)
    {
        using var document = JsonDocument.Parse(bytes);
        var root = document.RootElement;
        _generation = root.GetProperty("generation").GetInt64();
        foreach (var item in root.GetProperty("requests").EnumerateArray())
        {
            _requests.Add(new DeleteRequest
            {
                RequestId = item.GetProperty("request_id").GetString()!,
                Tenant = item.GetProperty("tenant").GetString()!,
                Query = item.GetProperty("query").GetString()!,
                StartMs = item.GetProperty("start_ms").GetInt64(),
                EndMs = item.GetProperty("end_ms").GetInt64(),
                CreatedAtMs = item.GetProperty("created_at_ms").GetInt64(),
                Status = item.GetProperty("status").GetString() == "processed"
                    ? DeleteRequestStatus.Processed
                    : DeleteRequestStatus.Received,
            });
        }
    }
}
