using System.Buffers;
using System.Text;

namespace LokiSharp.Ingester.Push;

/// <summary>One structured-metadata pair of a pushed entry.</summary>
public readonly record struct MetadataPair(string Name, string Value);

/// <summary>One entry of a decoded push: its line bytes live in the batch's arena.</summary>
public readonly record struct PushEntry(long TimestampNs, int LineStart, int LineLength, int MetadataStart, int MetadataCount);

/// <summary>One stream of a decoded push: the label text as the client sent it and a run of entries.</summary>
public readonly record struct PushStream(string Labels, int EntryStart, int EntryCount);

/// <summary>
/// A decoded push request in a compact form: line bytes sit in one pooled arena and entries refer to them by
/// offset, so decoding allocates per stream, not per entry. Dispose returns the arena to the pool.
/// </summary>
public sealed class PushBatch : IDisposable
{
    private byte[] _arena;
    private int _arenaLength;

    // With a message decoded in place, the arena's first bytes are that message and lines inside it are
    // referenced, not copied. An arena outgrown meanwhile is returned only at Dispose: the decoder still reads it.
    private int _messageLength;
    private byte[]? _outgrown;
    private PushEntry[] _entries;
    private int _entryCount;
    private PushStream[] _streams;
    private int _streamCount;
    private readonly List<MetadataPair> _metadata = [];

    /// <summary>Creates an empty batch with room for about <paramref name="arenaCapacity"/> line bytes.</summary>
    public PushBatch(int arenaCapacity = 4096)
    {
        _arena = PushBuffers.Pool.Rent(Math.Max(arenaCapacity, 256));

        // Room for the entries of lines of about 128 bytes with their framing, so a push of typical lines does not grow
        // (and copy) the entries array several times; bounded, as a body of long lines holds fewer.
        _entries = ArrayPool<PushEntry>.Shared.Rent(Math.Clamp(arenaCapacity / 128, 64, 16 * 1024));
        _streams = ArrayPool<PushStream>.Shared.Rent(16);
    }

    /// <summary>
    /// Creates a batch whose arena starts with room for a <paramref name="messageLength"/>-byte message (see
    /// <see cref="Message"/>): fill it, then decode it into this batch, and its lines are referenced where they are.
    /// </summary>
    public static PushBatch ForMessage(int messageLength)
    {
        var batch = new PushBatch(messageLength);
        batch._messageLength = messageLength;
        batch._arenaLength = messageLength;
        return batch;
    }

    /// <summary>The message area of a batch made by <see cref="ForMessage"/>.</summary>
    public Span<byte> Message => _arena.AsSpan(0, _messageLength);

    /// <summary>The streams in request order.</summary>
    public ArraySegment<PushStream> Streams => new(_streams, 0, _streamCount);

    /// <summary>All entries; a stream's run is <c>[EntryStart, EntryStart + EntryCount)</c>.</summary>
    public ReadOnlySpan<PushEntry> Entries => _entries.AsSpan(0, _entryCount);

    /// <summary>Total line bytes across entries.</summary>
    public long LineBytes { get; private set; }

    /// <summary>Format the batch arrived in, for <c>loki_distributor_*</c> metrics: <c>loki</c> or <c>otlp</c>.</summary>
    public string Format { get; set; } = "loki";

    /// <summary>The bytes of an entry's line.</summary>
    public ReadOnlySpan<byte> Line(in PushEntry entry) => _arena.AsSpan(entry.LineStart, entry.LineLength);

    /// <summary>A range of the arena, for lines referenced by offset after validation.</summary>
    public ReadOnlySpan<byte> Bytes(int start, int length) => _arena.AsSpan(start, length);

    /// <summary>The structured metadata of an entry.</summary>
    public ReadOnlySpan<MetadataPair> Metadata(in PushEntry entry) =>
        System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_metadata).Slice(entry.MetadataStart, entry.MetadataCount);

    /// <summary>The entries of one stream.</summary>
    public ReadOnlySpan<PushEntry> EntriesOf(in PushStream stream) => _entries.AsSpan(stream.EntryStart, stream.EntryCount);

    /// <summary>Starts a stream; entries added next belong to it until the next call.</summary>
    public void BeginStream(string labels)
    {
        if (_streamCount == _streams.Length)
        {
            PooledArray.Grow(ref _streams, _streamCount);
        }

        _streams[_streamCount++] = new PushStream(labels, _entryCount, 0);
    }

    /// <summary>Removes the stream begun last with its entries and their metadata (a decoder reading it again).</summary>
    internal void DropLastStream()
    {
        var stream = _streams[_streamCount - 1];
        foreach (var entry in EntriesOf(stream))
        {
            LineBytes -= entry.LineLength;
        }

        if (stream.EntryCount > 0)
        {
            var metadataStart = _entries[stream.EntryStart].MetadataStart;
            _metadata.RemoveRange(metadataStart, _metadata.Count - metadataStart);
        }

        _entryCount = stream.EntryStart;
        _streams[--_streamCount] = default;
    }

    /// <summary>Adds an entry with its line bytes to the current stream; metadata added next belongs to it.</summary>
    public void AddEntry(long timestampNs, ReadOnlySpan<byte> line)
    {
        if (_messageLength > 0 && !line.IsEmpty)
        {
            var offset = System.Runtime.CompilerServices.Unsafe.ByteOffset(ref _arena[0], ref System.Runtime.InteropServices.MemoryMarshal.GetReference(line));
            if (offset >= 0 && offset + line.Length <= _messageLength)
            {
                AddEntryAt(timestampNs, (int)offset, line.Length);
                return;
            }
        }

        var start = Append(line);
        AddEntryAt(timestampNs, start, line.Length);
    }

    /// <summary>Adds an entry whose line is given as a .NET string (JSON and OTLP decoding).</summary>
    public void AddEntry(long timestampNs, string line)
    {
        var length = Encoding.UTF8.GetByteCount(line);
        EnsureArena(length);
        Encoding.UTF8.GetBytes(line, _arena.AsSpan(_arenaLength));
        var start = _arenaLength;
        _arenaLength += length;
        AddEntryAt(timestampNs, start, length);
    }

    /// <summary>Reserves <paramref name="length"/> arena bytes for the caller to fill, e.g. an unescaped JSON string.</summary>
    public Span<byte> ReserveLine(int length)
    {
        EnsureArena(length);
        return _arena.AsSpan(_arenaLength, length);
    }

    /// <summary>Adds an entry whose line was written into the span from <see cref="ReserveLine"/>.</summary>
    public void AddReservedEntry(long timestampNs, int length)
    {
        var start = _arenaLength;
        _arenaLength += length;
        AddEntryAt(timestampNs, start, length);
    }

    /// <summary>Adds a metadata pair to the entry added last.</summary>
    public void AddMetadata(string name, string value)
    {
        _metadata.Add(new MetadataPair(name, value));
        ref var last = ref _entries[_entryCount - 1];
        last = last with { MetadataCount = last.MetadataCount + 1 };
    }

    /// <inheritdoc />
    public void Dispose()
    {
        var arena = Interlocked.Exchange(ref _arena, []);
        if (arena.Length > 0)
        {
            PushBuffers.Pool.Return(arena);
        }

        if (Interlocked.Exchange(ref _outgrown, null) is { } outgrown)
        {
            PushBuffers.Pool.Return(outgrown);
        }

        var entries = Interlocked.Exchange(ref _entries, []);
        PooledArray.Return(ref entries);
        _streamCount = 0;
        var streams = Interlocked.Exchange(ref _streams, []);
        PooledArray.Return(ref streams);
    }

    private void AddEntryAt(long timestampNs, int start, int length)
    {
        if (_streamCount == 0)
        {
            throw new InvalidOperationException("an entry needs a stream: call BeginStream first");
        }

        if (_entryCount == _entries.Length)
        {
            PooledArray.Grow(ref _entries, _entryCount);
        }

        _entries[_entryCount++] = new PushEntry(timestampNs, start, length, _metadata.Count, 0);
        ref var last = ref _streams[_streamCount - 1];
        last = last with { EntryCount = last.EntryCount + 1 };
        LineBytes += length;
    }

    private int Append(ReadOnlySpan<byte> bytes)
    {
        EnsureArena(bytes.Length);
        var start = _arenaLength;
        bytes.CopyTo(_arena.AsSpan(start));
        _arenaLength += bytes.Length;
        return start;
    }

    private void EnsureArena(int extra)
    {
        if (_arenaLength + extra <= _arena.Length)
        {
            return;
        }

        var bigger = PushBuffers.Pool.Rent(Math.Max(_arena.Length * 2, _arenaLength + extra));
        _arena.AsSpan(0, _arenaLength).CopyTo(bigger);
        if (_messageLength > 0 && _outgrown is null)
        {
            _outgrown = _arena;
        }
        else
        {
            PushBuffers.Pool.Return(_arena);
        }

        _arena = bigger;
    }
}
