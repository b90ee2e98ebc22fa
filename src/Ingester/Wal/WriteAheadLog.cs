using System.Buffers.Binary;
using System.Globalization;
using LokiSharp.Storage.Hashing;
using LokiSharp.Storage.Store;
using Microsoft.Win32.SafeHandles;

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
/// acknowledged only when its record's commit has completed. A failed commit (disk full, I/O error) is cut
/// off the segment before the next record is written, so no acknowledged record ever follows damaged bytes.
/// Replay reports damage and goes on with the next intact record; a torn tail of the newest segment is
/// truncated; nothing of it is fatal.
/// </summary>
/// <remarks>
/// Microsoft.FASTER's FasterLog was considered; its managed Linux device gives no clear guarantee that a
/// commit has reached the disk (fdatasync), which is the whole point here, so the log is this small explicit
/// implementation instead. The format is docs/formats/wal.md. Committing on the thread of the first push that finds no
/// commit running (no commit thread, no hop to it and back) was measured on the reference push load: the same CPU-s per
/// GB, with a thread-pool thread blocked in each fsync, so the commit thread stays.
/// </remarks>
public sealed class WriteAheadLog : IDisposable
{
    private const uint Magic = 0x57534B4C; // "LKSW"
    // Version 2 segments hold compact entries records (WalRecord.CompactEntriesKind); version 1 segments, written
    // before, are still replayed. Version 3 segments may end in zeros (direct I/O pads the last block), which a version 2
    // build would misread. A build that reads an older version reports a newer segment instead of skipping its records.
    private const uint Version = 3;
    private const uint FirstVersion = 1;
    private const int HeaderSize = 8;
    private const int FrameSize = 8;
    private const string Suffix = ".wal";
    private static readonly byte[] Header = CreateHeader();
    private static readonly List<ReadOnlyMemory<byte>> HeaderOnly = [Header];

    private readonly string _directory;
    private readonly long _segmentSize;
    private readonly Lock _lock = new();
    private readonly Thread _committer;
    private readonly AutoResetEvent _pendingSignal = new(false);
    private List<PendingRecord> _pending = [];
    private List<PendingRecord> _spare = [];
    private SafeFileHandle? _segment;
    private long _segmentId;

    // Bytes written to the current segment. Only this log writes it, so the length is kept here: asking the file
    // (fstat) twice per commit was a syscall per push on the reference load.
    private long _segmentLength;

    // A commit's records go to the segment in one gathered write of their frames and payloads (pwritev; RandomAccess splits
    // it past IOV_MAX), not two writes per record: the frames of the batch and the buffers of the write, reused.
    private byte[] _frames = new byte[FrameSize * 16];
    private readonly List<ReadOnlyMemory<byte>> _gathered = [];

    // Segments are written with direct I/O where the file system has it: a log is read back only after a restart, and
    // copying every byte into newly allocated page-cache pages was the largest single cost of the ingest (see the README).
    private readonly AlignedAppender? _appender;
    private bool _direct;

    // Bytes of the current segment that are on disk and acknowledged; a failed commit cuts the file back to it.
    private long _committedLength;

    // The newest durable point, segment and length, for snapshots; written by the commit thread under _cutLock.
    private readonly Lock _cutLock = new();
    private (long Segment, long Length) _cut;
    private bool _stopping;
    private bool _disposed;

    private WriteAheadLog(string directory, long segmentSize, bool directWrites)
    {
        _directory = directory;
        _segmentSize = segmentSize;
        _appender = directWrites ? new AlignedAppender() : null;
        _committer = new Thread(CommitLoop) { IsBackground = true, Name = "wal-commit" };
    }

    /// <summary>Bytes appended since start.</summary>
    public long BytesWritten { get; private set; }

    /// <summary>Number of fsyncs performed; fewer than appends when pushes are grouped.</summary>
    public long Commits { get; private set; }

    /// <summary>Commits that failed (disk full, I/O error); none of their records was acknowledged.</summary>
    public long Failures { get; private set; }

    /// <summary>The segment new records go to.</summary>
    public long CurrentSegment => Volatile.Read(ref _segmentId);

    /// <summary>Opens the log in <paramref name="directory"/>; replay, then <see cref="Start"/> to accept appends.</summary>
    /// <param name="directory">Where the segments are.</param>
    /// <param name="segmentSize">Bytes after which the next commit starts a new segment.</param>
    /// <param name="directWrites">Whether segments are written with direct I/O where the file system has it.</param>
    public static WriteAheadLog Open(string directory, long segmentSize, bool directWrites = true)
    {
        Directory.CreateDirectory(directory);
        return new WriteAheadLog(directory, segmentSize, directWrites);
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
        _segmentId = segments.Count == 0 ? 0 : segments[^1];
        try
        {
            RollSegment();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A full disk at start-up: the first commit tries again (and fails its push) instead of the start.
        }

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
    /// Appends a record; the task completes once it is on disk (the caller continues on the thread pool). Returns the
    /// segment id the record went to, which the caller uses to know when the segment may be dropped.
    /// </summary>
    public Task<long> AppendAsync(ReadOnlyMemory<byte> record) => Enqueue(record, roll: false, onCommitted: null);

    /// <summary>
    /// Appends a record as <see cref="AppendAsync(ReadOnlyMemory{byte})"/> does, and once it is on disk runs <paramref name="onCommitted"/> with
    /// its segment on the commit thread, before the task completes and before the next commit starts; an exception it
    /// throws fails the task. For a push, whose entries go into the head there one push after another: a commit's pushes
    /// no longer go into the head side by side on several cores, which costs less CPU per GB (the README's performance
    /// section has the figures). One thread then bounds an ingester's throughput by what a commit's pushes cost in the
    /// head, so the action must be short and must not block.
    /// </summary>
    public Task<long> AppendAsync(ReadOnlyMemory<byte> record, Action<long> onCommitted) => Enqueue(record, roll: false, onCommitted);

    /// <summary>
    /// Closes the current segment and starts the next one, unless the current one holds no record yet. Records
    /// appended before the call stay in the closed segment, records after it go to the new one; the task
    /// completes with the id of the segment new records go to. Rolling lets a flush drop every segment once the
    /// head holds nothing of them.
    /// </summary>
    public Task<long> RollAsync() => Enqueue(ReadOnlyMemory<byte>.Empty, roll: true, onCommitted: null);

    private Task<long> Enqueue(ReadOnlyMemory<byte> record, bool roll, Action<long>? onCommitted)
    {
        var pending = new PendingRecord(record, new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously), roll, onCommitted);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_stopping, this);
            _pending.Add(pending);
        }

        _pendingSignal.Set();
        return pending.Done.Task;
    }

    /// <summary>
    /// Copies the log as it stands into <paramref name="destination"/> (an existing directory): the closed
    /// segments as links, the current one up to its last commit. Every record acknowledged before the call is
    /// in the copy, and no partial record. The caller keeps segments from being dropped meanwhile. Returns the
    /// bytes copied.
    /// </summary>
    public long SnapshotTo(string destination)
    {
        (long Segment, long Length) cut;
        lock (_cutLock)
        {
            cut = _cut;
        }

        long copied = 0;
        foreach (var id in Segments())
        {
            var target = Path.Combine(destination, Path.GetFileName(PathOf(id)));
            if (id < cut.Segment)
            {
                copied += Math.Max(0, Storage.Store.DurableFile.LinkOrCopy(PathOf(id), target));
            }
            else if (id == cut.Segment)
            {
                Storage.Store.DurableFile.CopyPrefix(PathOf(id), target, cut.Length);
                copied += cut.Length;
            }
        }

        return copied;
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
        var segmentOf = new long[batch.Count];
        var acknowledged = 0;
        long written = 0;
        try
        {
            if (_segment is null || _segmentLength >= _segmentSize)
            {
                RollSegment();
            }

            if (_frames.Length < batch.Count * FrameSize)
            {
                _frames = new byte[batch.Count * FrameSize * 2];
            }

            for (var i = 0; i < batch.Count; i++)
            {
                var record = batch[i];
                if (record.Roll)
                {
                    WriteGathered();
                    if (_segmentLength > HeaderSize)
                    {
                        // The closed segment's records are on disk, and answered, before any record goes to the next one.
                        RandomAccess.FlushToDisk(_segment!);
                        Acknowledge(batch, segmentOf, ref acknowledged, i, ref written);
                        RollSegment();
                    }

                    segmentOf[i] = _segmentId;
                    continue;
                }

                var payload = record.Payload;
                var frame = _frames.AsMemory(i * FrameSize, FrameSize);
                BinaryPrimitives.WriteUInt32LittleEndian(frame.Span, (uint)payload.Length);
                BinaryPrimitives.WriteUInt32LittleEndian(frame.Span[4..], Crc32C.Compute(payload.Span));
                _gathered.Add(frame);
                _gathered.Add(payload);
                written += FrameSize + payload.Length;
                segmentOf[i] = _segmentId;
            }

            WriteGathered();
            RandomAccess.FlushToDisk(_segment!);
            Acknowledge(batch, segmentOf, ref acknowledged, batch.Count, ref written);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _gathered.Clear();
            // Nothing unacknowledged may stay where a later record would follow it: replay would meet the damaged
            // bytes before the later, acknowledged record.
            DiscardUncommitted();
            Failures++;
            for (var i = acknowledged; i < batch.Count; i++)
            {
                batch[i].Done.TrySetException(new IOException("write-ahead log commit failed: " + e.Message, e));
            }
        }
    }

    // Writes the frames and payloads gathered so far at the end of the segment, in one call.
    private void WriteGathered()
    {
        if (_gathered.Count == 0)
        {
            return;
        }

        long length = 0;
        foreach (var buffer in _gathered)
        {
            length += buffer.Length;
        }

        if (_direct)
        {
            _appender!.Append(_segment!, _segmentLength, _gathered);
        }
        else
        {
            RandomAccess.Write(_segment!, _gathered, _segmentLength);
        }

        _segmentLength += length;
        _gathered.Clear();
    }

    // Completes the records from acknowledged up to end, which the last fsync made durable.
    private void Acknowledge(List<PendingRecord> batch, long[] segmentOf, ref int acknowledged, int end, ref long written)
    {
        _committedLength = _segmentLength;
        lock (_cutLock)
        {
            _cut = (_segmentId, _committedLength);
        }

        BytesWritten += written;
        written = 0;
        Commits++;
        for (; acknowledged < end; acknowledged++)
        {
            var (_, done, _, onCommitted) = batch[acknowledged];
            var segment = segmentOf[acknowledged];
            try
            {
                onCommitted?.Invoke(segment);
            }
            catch (Exception e)
            {
                // The record is durable; what its caller did with that failed, and is that caller's answer.
                done.TrySetException(e);
                continue;
            }

            done.TrySetResult(segment);
        }
    }

    // Cuts the current segment back to its last committed length. When even that fails the segment is closed
    // as it is (its damaged tail ends it) and the next commit starts a new one.
    private void DiscardUncommitted()
    {
        var segment = _segment;
        _segment = null;
        if (segment is null)
        {
            return;
        }

        try
        {
            Truncate(segment, _committedLength);
            if (_direct)
            {
                _appender!.Reload(PathOf(_segmentId), _committedLength);
            }

            _segment = segment;
            _segmentLength = _committedLength;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left closed: replay reads this segment up to its damage and goes on with the next one.
            segment.Dispose();
        }
    }

    // Cuts a segment to length, durably.
    private static void Truncate(SafeFileHandle file, long length)
    {
        RandomAccess.SetLength(file, length);
        RandomAccess.FlushToDisk(file);
    }

    private void RollSegment()
    {
        if (_segment is not null)
        {
            RandomAccess.FlushToDisk(_segment);
            _segment.Dispose();
            _segment = null;
        }

        // A segment id is never reused: a new segment whose header could not be written is left for replay to
        // report, and the next attempt takes the next id.
        _segmentId++;
        OpenSegment();
    }

    private void OpenSegment()
    {
        var path = PathOf(_segmentId);
        var segment = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        try
        {
            WriteHeader(segment);
            RandomAccess.FlushToDisk(segment);
            Storage.Store.DurableFile.SyncDirectory(_directory);
        }
        catch
        {
            segment.Dispose();
            TryDelete(path);
            throw;
        }

        _segment = segment;
        _segmentLength = HeaderSize;
        _committedLength = HeaderSize;
        lock (_cutLock)
        {
            _cut = (_segmentId, HeaderSize);
        }
    }

    // The header goes out the way the segment's records will: directly where the file takes direct I/O, otherwise (and
    // where the file system took the flag but refuses the write) through the page cache.
    private void WriteHeader(SafeFileHandle segment)
    {
        _direct = false;
        if (_appender is not null && DirectWrites.TryEnable(segment))
        {
            _appender.Reset();
            try
            {
                _appender.Append(segment, 0, HeaderOnly);
                _direct = true;
                return;
            }
            catch (IOException) when (DirectWrites.TryDisable(segment))
            {
                // Written below through the page cache; a full disk fails there too.
            }
        }

        RandomAccess.Write(segment, Header, 0);
    }

    private static byte[] CreateHeader()
    {
        var header = new byte[HeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), Version);
        return header;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Replay reports a segment without a valid header and reads nothing from it.
        }
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

        var version = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4));
        if (version is < FirstVersion or > Version)
        {
            damage.Add(new WalDamage(path, 4, $"unsupported segment version {version} (this build reads {FirstVersion} to {Version})", Truncated: false));
            return;
        }

        var offset = HeaderSize;
        while (offset < bytes.Length)
        {
            if (ReadFrame(bytes, offset, out var length) is { } problem)
            {
                if (bytes.AsSpan(offset).IndexOfAnyExcept((byte)0) < 0)
                {
                    // The zeros a direct-I/O segment is padded with up to its last block's end (or a tail that a crash
                    // left allocated and unwritten) end the segment: no record starts with a zero length.
                    break;
                }

                // Records after damaged bytes are still found: the next offset where an intact frame starts.
                var next = FindNextFrame(bytes, offset + 1);
                var truncate = isLast && next < 0;
                if (truncate)
                {
                    using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Write, FileShare.Read);
                    Truncate(file, offset);
                }

                damage.Add(new WalDamage(path, offset, problem, truncate));
                if (next < 0)
                {
                    return;
                }

                offset = next;
                continue;
            }

            try
            {
                replay(id, bytes.AsSpan(offset + FrameSize, length));
            }
            catch (InvalidDataException e)
            {
                // Intact framing around a record this build cannot read: report it and keep the records after it.
                damage.Add(new WalDamage(path, offset, e.Message, Truncated: false));
            }

            offset += FrameSize + length;
        }
    }

    // Null when an intact record frame starts at offset, else what is wrong with it.
    private static string? ReadFrame(byte[] bytes, int offset, out int length)
    {
        length = 0;
        if (bytes.Length - offset < FrameSize)
        {
            return "torn record frame";
        }

        var declared = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset));
        var crc = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 4));
        if (declared > (uint)(bytes.Length - offset - FrameSize))
        {
            return "torn record";
        }

        if (declared == 0)
        {
            // No record is empty (each starts with its kind), and an empty one would pass its checksum: zeros.
            return "zero-length record";
        }

        length = (int)declared;
        return Crc32C.Compute(bytes.AsSpan(offset + FrameSize, length)) == crc ? null : "record checksum mismatch";
    }

    // The first offset from start where a non-empty record of a known kind passes its checksum, or -1. A record
    // starts with its kind byte, which rules out most offsets before any checksum is computed.
    private static int FindNextFrame(byte[] bytes, int start)
    {
        for (var offset = start; offset <= bytes.Length - FrameSize - 1; offset++)
        {
            var kind = bytes[offset + FrameSize];
            if (!WalRecord.IsEntries(kind) && kind != WalRecord.FlushedKind)
            {
                continue;
            }

            var declared = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset));
            if (declared == 0 || declared > (uint)(bytes.Length - offset - FrameSize))
            {
                continue;
            }

            if (ReadFrame(bytes, offset, out _) is null)
            {
                return offset;
            }
        }

        return -1;
    }

    private readonly record struct PendingRecord(ReadOnlyMemory<byte> Payload, TaskCompletionSource<long> Done, bool Roll, Action<long>? OnCommitted);
}
