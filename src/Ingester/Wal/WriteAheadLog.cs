using System.Buffers.Binary;
using System.Globalization;
using LokiSharp.Storage.Hashing;

namespace LokiSharp.Ingester.Wal;

/// <summary>What replay found wrong with the log; the good records before it were replayed.</summary>
/// <param name="Segment">Segment file.</param>
/// <param name="Offset">Byte offset of the first bad record.</param>
/// <param name="Reason">What was wrong.</param>
/// <param name="Truncated">True when the bad tail was cut off the last segment so appends continue after it.</param>
public readonly record struct WalDamage(string Segment, long Offset, string Reason, bool Truncated);

/// <summary>
/// The ingester's write-ahead log: length- and CRC32C-framed records in numbered segment files. Appends from
/// concurrent pushes are written and fsync'd together by one commit loop (group commit); a push is
/// acknowledged only when its record's commit has completed. Replay stops at the first damaged record of a
/// segment, and a torn tail of the newest segment is truncated, never fatal.
/// </summary>
/// <remarks>
/// Microsoft.FASTER's FasterLog was considered; its managed Linux device gives no clear guarantee that a
/// commit has reached the disk (fdatasync), which is the whole point here, so the log is this small explicit
/// implementation instead.
/// </remarks>
public sealed class WriteAheadLog : IDisposable
{
    private const uint Magic = 0x57534B4C; // "LKSW"
    private const int HeaderSize = 8;
    private const int FrameSize = 8;
    private const string Suffix = ".wal";

    private readonly string _directory;
    private readonly long _segmentSize;
    private readonly Lock _lock = new();
    private readonly Thread _committer;
    private readonly AutoResetEvent _pendingSignal = new(false);
    private List<PendingRecord> _pending = [];
    private List<PendingRecord> _spare = [];
    private FileStream? _segment;
    private long _segmentId;
    private bool _stopping;
    private bool _disposed;

    private WriteAheadLog(string directory, long segmentSize)
    {
        _directory = directory;
        _segmentSize = segmentSize;
        _committer = new Thread(CommitLoop) { IsBackground = true, Name = "wal-commit" };
    }

    /// <summary>Bytes appended since start.</summary>
    public long BytesWritten { get; private set; }

    /// <summary>Number of fsyncs performed; fewer than appends when pushes are grouped.</summary>
    public long Commits { get; private set; }

    /// <summary>The segment new records go to.</summary>
    public long CurrentSegment => Volatile.Read(ref _segmentId);

    /// <summary>Opens the log in <paramref name="directory"/>; replay, then <see cref="Start"/> to accept appends.</summary>
    public static WriteAheadLog Open(string directory, long segmentSize)
    {
        Directory.CreateDirectory(directory);
        return new WriteAheadLog(directory, segmentSize);
    }

    /// <summary>
    /// Reads every intact record of the existing segments, oldest first, with its segment id. Damage is
    /// reported in <paramref name="damage"/>; before <see cref="Start"/> a torn tail of the newest segment is
    /// truncated. After it, only the segments that existed before the start are read.
    /// </summary>
    public void Replay(Action<long, ReadOnlySpan<byte>> replay, List<WalDamage> damage)
    {
        // Once started, only the segments from before the start are replayed: the current one is being written.
        var segments = Segments();
        if (_segment is not null)
        {
            segments.RemoveAll(id => id >= _segmentId);
        }

        for (var i = 0; i < segments.Count; i++)
        {
            ReplaySegment(PathOf(segments[i]), segments[i], isLast: i == segments.Count - 1 && _segment is null, replay, damage);
        }
    }

    /// <summary>Starts a fresh segment and the commit loop; replayed segments stay untouched until dropped.</summary>
    public void Start()
    {
        var segments = Segments();
        _segmentId = segments.Count == 0 ? 1 : segments[^1] + 1;
        OpenSegment();
        _committer.Start();
    }

    /// <summary>Segment ids present on disk, oldest first.</summary>
    public List<long> Segments()
    {
        var ids = new List<long>();
        foreach (var path in Directory.EnumerateFiles(_directory, "*" + Suffix))
        {
            if (long.TryParse(Path.GetFileNameWithoutExtension(path), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                ids.Add(id);
            }
        }

        ids.Sort();
        return ids;
    }

    /// <summary>
    /// Appends a record; the task completes once it is on disk. Returns the segment id the record went to,
    /// which the caller uses to know when the segment may be dropped.
    /// </summary>
    public Task<long> AppendAsync(ReadOnlyMemory<byte> record) => Enqueue(record, roll: false);

    /// <summary>
    /// Closes the current segment and starts the next one, unless the current one holds no record yet. Records
    /// appended before the call stay in the closed segment, records after it go to the new one; the task
    /// completes with the id of the segment new records go to. Rolling lets a flush drop every segment once the
    /// head holds nothing of them.
    /// </summary>
    public Task<long> RollAsync() => Enqueue(ReadOnlyMemory<byte>.Empty, roll: true);

    private Task<long> Enqueue(ReadOnlyMemory<byte> record, bool roll)
    {
        var pending = new PendingRecord(record, new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously), roll);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_stopping, this);
            _pending.Add(pending);
        }

        _pendingSignal.Set();
        return pending.Done.Task;
    }

    /// <summary>Deletes every segment older than <paramref name="segmentId"/>: their data is in chunks now.</summary>
    public int DropSegmentsBefore(long segmentId)
    {
        var dropped = 0;
        foreach (var id in Segments())
        {
            if (id < segmentId && id != _segmentId)
            {
                File.Delete(PathOf(id));
                dropped++;
            }
        }

        return dropped;
    }

    /// <summary>Stops accepting appends, commits what is pending and closes the segment.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _stopping = true;
        }

        _pendingSignal.Set();
        if (_committer.IsAlive)
        {
            _committer.Join();
        }

        _segment?.Dispose();
        _pendingSignal.Dispose();
    }

    private void CommitLoop()
    {
        while (true)
        {
            _pendingSignal.WaitOne();
            List<PendingRecord> batch;
            bool stopping;
            lock (_lock)
            {
                batch = _pending;
                _pending = _spare;
                _spare = batch;
                stopping = _stopping;
            }

            if (batch.Count > 0)
            {
                Commit(batch);
                batch.Clear();
            }

            if (stopping)
            {
                lock (_lock)
                {
                    if (_pending.Count == 0)
                    {
                        return;
                    }
                }

                _pendingSignal.Set();
            }
        }
    }

    private void Commit(List<PendingRecord> batch)
    {
        try
        {
            if (_segment!.Length >= _segmentSize)
            {
                _segment.Flush(flushToDisk: true);
                _segment.Dispose();
                _segmentId++;
                OpenSegment();
            }

            Span<byte> frame = stackalloc byte[FrameSize];
            var segmentOf = new long[batch.Count];
            for (var i = 0; i < batch.Count; i++)
            {
                var record = batch[i];
                if (record.Roll)
                {
                    if (_segment.Length > HeaderSize)
                    {
                        // The closed segment's records are on disk before any record goes to the next one.
                        _segment.Flush(flushToDisk: true);
                        _segment.Dispose();
                        _segmentId++;
                        OpenSegment();
                    }

                    segmentOf[i] = _segmentId;
                    continue;
                }

                var payload = record.Payload.Span;
                BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)payload.Length);
                BinaryPrimitives.WriteUInt32LittleEndian(frame[4..], Crc32C.Compute(payload));
                _segment.Write(frame);
                _segment.Write(payload);
                BytesWritten += FrameSize + payload.Length;
                segmentOf[i] = _segmentId;
            }

            _segment.Flush(flushToDisk: true);
            Commits++;
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Done.TrySetResult(segmentOf[i]);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            foreach (var record in batch)
            {
                record.Done.TrySetException(new IOException("write-ahead log commit failed: " + e.Message, e));
            }
        }
    }

    private void OpenSegment()
    {
        var path = PathOf(_segmentId);
        _segment = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1 << 16);
        Span<byte> header = stackalloc byte[HeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], 1);
        _segment.Write(header);
        _segment.Flush(flushToDisk: true);
        Storage.Store.DurableFile.SyncDirectory(_directory);
    }

    private string PathOf(long id) => Path.Combine(_directory, id.ToString("D10", CultureInfo.InvariantCulture) + Suffix);

    private static void ReplaySegment(string path, long id, bool isLast, Action<long, ReadOnlySpan<byte>> replay, List<WalDamage> damage)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < HeaderSize || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic)
        {
            // A segment cut short while its header was written holds no acknowledged record.
            damage.Add(new WalDamage(path, 0, "missing or invalid segment header", Truncated: false));
            return;
        }

        var offset = HeaderSize;
        while (offset < bytes.Length)
        {
            string? problem = null;
            var length = 0;
            if (bytes.Length - offset < FrameSize)
            {
                problem = "torn record frame";
            }
            else
            {
                length = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset));
                var crc = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 4));
                if (length < 0 || length > bytes.Length - offset - FrameSize)
                {
                    problem = "torn record";
                }
                else if (Crc32C.Compute(bytes.AsSpan(offset + FrameSize, length)) != crc)
                {
                    problem = "record checksum mismatch";
                }
            }

            if (problem is not null)
            {
                if (isLast)
                {
                    using var file = new FileStream(path, FileMode.Open, FileAccess.Write);
                    file.SetLength(offset);
                    file.Flush(flushToDisk: true);
                }

                damage.Add(new WalDamage(path, offset, problem, isLast));
                return;
            }

            replay(id, bytes.AsSpan(offset + FrameSize, length));
            offset += FrameSize + length;
        }
    }

    private readonly record struct PendingRecord(ReadOnlyMemory<byte> Payload, TaskCompletionSource<long> Done, bool Roll);
}
