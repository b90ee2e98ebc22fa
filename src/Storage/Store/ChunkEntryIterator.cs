using System.Buffers;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Index;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Storage.Store;

/// <summary>Encoded chunk bytes handed to a reader; rented ones go back to the pool when the reader is done.</summary>
internal readonly record struct ChunkBytes(byte[] Array, int Offset, int Length, bool Rented)
{
    public ReadOnlySpan<byte> Span => Array.AsSpan(Offset, Length);

    public void Release()
    {
        if (Rented)
        {
            ArrayPool<byte>.Shared.Return(Array);
        }
    }
}

/// <summary>
/// Entries of one stream from its stored chunks, merged by time. Chunks are opened lazily in the query's
/// direction, only once the entry they could precede is reached, so non-overlapping chunks are read one at a
/// time; overlapping ones are merged.
/// </summary>
internal sealed class ChunkEntryIterator : IEntryIterator
{
    private readonly Func<ChunkRef, ChunkBytes> _load;
    private readonly ChunkRef[] _pending;
    private readonly EntryQuery _query;
    private readonly List<ChunkCursor> _active = [];
    private readonly List<string> _warnings = [];
    private int _nextPending;
    private ChunkCursor? _current;

    public ChunkEntryIterator(List<ChunkRef> chunks, in EntryQuery query, Func<ChunkRef, ChunkBytes> load)
    {
        _query = query;
        _load = load;
        _pending = [.. chunks];
        if (query.Direction == Direction.Forward)
        {
            Array.Sort(_pending, static (a, b) => a.From.CompareTo(b.From));
        }
        else
        {
            Array.Sort(_pending, static (a, b) => b.Through.CompareTo(a.Through));
        }
    }

    public ReadStats Stats { get; } = new();

    public IReadOnlyList<string> Warnings => _warnings;

    public LogEntry Current => _current is null ? default : _current.Current;

    public bool MoveNext()
    {
        if (_current is not null && !_current.MoveNext())
        {
            _active.Remove(_current);
            _current.Dispose();
        }

        _current = null;
        var forward = _query.Direction == Direction.Forward;
        while (true)
        {
            var best = Best(forward);
            if (_nextPending >= _pending.Length)
            {
                _current = best;
                return best is not null;
            }

            var next = _pending[_nextPending];
            if (best is not null && (forward ? next.From > best.Timestamp : next.Through < best.Timestamp))
            {
                _current = best;
                return true;
            }

            _nextPending++;
            var cursor = ChunkCursor.Open(next, _query, _load, Stats, _warnings);
            if (cursor is not null)
            {
                if (cursor.MoveNext())
                {
                    _active.Add(cursor);
                }
                else
                {
                    cursor.Dispose();
                }
            }
        }
    }

    public void Dispose()
    {
        foreach (var cursor in _active)
        {
            cursor.Dispose();
        }

        _active.Clear();
        _current = null;
    }

    private ChunkCursor? Best(bool forward)
    {
        ChunkCursor? best = null;
        foreach (var cursor in _active)
        {
            if (best is null || (forward ? cursor.Timestamp < best.Timestamp : cursor.Timestamp > best.Timestamp))
            {
                best = cursor;
            }
        }

        return best;
    }

    /// <summary>Position within one chunk: the decoded block and entry index.</summary>
    private sealed class ChunkCursor : IDisposable
    {
        private readonly ChunkBytes _data;
        private readonly ChunkLayout _layout;
        private readonly EntryQuery _query;
        private readonly ReadStats _stats;
        private readonly List<string> _warnings;
        private readonly DecodedBlock _block = new();
        private readonly bool _forward;
        private int _blockIndex;
        private int _entry;
        private bool _blockLoaded;
        private bool _done;
        private bool _disposed;

        private ChunkCursor(ChunkBytes data, ChunkLayout layout, in EntryQuery query, ReadStats stats,
            List<string> warnings)
        {
            _data = data;
            _layout = layout;
            _query = query;
            _stats = stats;
            _warnings = warnings;
            _forward = query.Direction == Direction.Forward;
            _blockIndex = _forward ? -1 : layout.Blocks.Count;
        }

        public long Timestamp { get; private set; }

        public LogEntry Current => _block[_entry];

        public static ChunkCursor? Open(in ChunkRef chunk, in EntryQuery query, Func<ChunkRef, ChunkBytes> load,
            ReadStats stats, List<string> warnings)
        {
            ChunkBytes data;
            try
            {
                data = load(chunk);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ChunkCorruptException)
            {
                stats.Corrupt++;
                warnings.Add($"chunk {chunk.PackId:x16}@{chunk.Offset} unreadable, skipped: {e.Message}");
                return null;
            }

            try
            {
                var layout = ChunkLayout.Parse(data.Span);
                stats.Chunks++;
                return new ChunkCursor(data, layout, query, stats, warnings);
            }
            catch (ChunkCorruptException e)
            {
                data.Release();
                stats.Corrupt++;
                warnings.Add($"chunk {chunk.PackId:x16}@{chunk.Offset} corrupt, skipped: {e.Message}");
                return null;
            }
        }

        public bool MoveNext()
        {
            while (!_done)
            {
                if (_blockLoaded)
                {
                    _entry += _forward ? 1 : -1;
                    if (_entry >= 0 && _entry < _block.Count)
                    {
                        var ts = _block.TimestampAt(_entry);
                        if (_forward ? ts >= _query.Through : ts < _query.From)
                        {
                            _done = true;
                            return false;
                        }

                        if (_query.Filter is not null && !_query.Filter.Matches(_block.LineAt(_entry)))
                        {
                            continue;
                        }

                        Timestamp = ts;
                        return true;
                    }

                    _blockLoaded = false;
                }

                LoadNextBlock();
            }

            return false;
        }

        public void Dispose()
        {
            _block.Dispose();
            if (!_disposed)
            {
                _disposed = true;
                _data.Release();
            }
        }

        private void LoadNextBlock()
        {
            var chunk = _data.Span;
            while (true)
            {
                _blockIndex += _forward ? 1 : -1;
                if (_blockIndex < 0 || _blockIndex >= _layout.Blocks.Count)
                {
                    _done = true;
                    return;
                }

                var info = _layout.Blocks[_blockIndex];
                if (_forward ? info.MinTime >= _query.Through : info.MaxTime < _query.From)
                {
                    // Blocks are in time order: nothing further in this direction can match.
                    _stats.BlocksSkippedByTime += _forward ? _layout.Blocks.Count - _blockIndex : _blockIndex + 1;
                    _done = true;
                    return;
                }

                if (!(info.MinTime < _query.Through && info.MaxTime >= _query.From))
                {
                    _stats.BlocksSkippedByTime++;
                    continue;
                }

                if (_query.Filter is not null && !_query.Filter.MayMatchBlock(ChunkLayout.FilterOf(chunk, info)))
                {
                    _stats.BlocksSkippedByContent++;
                    continue;
                }

                try
                {
                    _block.Decode(chunk, _layout.Encoding, info);
                }
                catch (ChunkCorruptException e)
                {
                    _stats.Corrupt++;
                    _warnings.Add("block skipped: " + e.Message);
                    continue;
                }

                _stats.BlocksDecoded++;
                _stats.DecompressedBytes += info.RawSize;
                _entry = _forward ? _block.LowerBound(_query.From) - 1 : _block.LowerBound(_query.Through);
                _blockLoaded = true;
                return;
            }
        }
    }
}
