using LokiSharp.Storage.Chunks;

namespace LokiSharp.Ingester.Head;

/// <summary>
/// Chunk builders lent to whoever compresses a head tail. A builder holds about a megabyte of buffers, so there
/// are only as many as compressions ever ran at once, not one per thread-pool thread that once appended.
/// </summary>
internal sealed class ChunkBuilderPool(Func<ChunkBuilder> create) : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Stack<ChunkBuilder> _idle = new();
    private readonly List<ChunkBuilder> _all = [];

    /// <summary>An idle builder, or a new one when all are lent out.</summary>
    public ChunkBuilder Rent()
    {
        lock (_lock)
        {
            if (_idle.TryPop(out var builder))
            {
                return builder;
            }

            var created = create();
            _all.Add(created);
            return created;
        }
    }

    /// <summary>Gives a builder back for the next compression.</summary>
    public void Return(ChunkBuilder builder)
    {
        lock (_lock)
        {
            _idle.Push(builder);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var builder in _all)
            {
                builder.Dispose();
            }

            _all.Clear();
            _idle.Clear();
        }
    }
}
