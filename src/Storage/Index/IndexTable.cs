using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Store;

namespace LokiSharp.Storage.Index;

/// <summary>
/// The label index of one tenant for one index period, with its files: an append-only journal while the
/// period is open (fsynced on every append, replayed on restart) and an immutable sealed file
/// (<c>&lt;name&gt;.g&lt;generation&gt;.idx</c>) once it closes. Loading is idempotent: a chunk ref present
/// in both a sealed file and a journal (crash between sealing steps) is counted once.
/// </summary>
internal sealed class IndexTable : IDisposable
{
    public const string JournalSuffix = ".journal";
    public const string SealedSuffix = ".idx";

    private readonly string _directory;
    private readonly Action<string, string>? _onCorruption;
    private readonly object _writeLock = new();
    private readonly Dictionary<LabelSet, int> _journalIds = [];
    private FileStream? _journal;
    private int _generation;
    private bool _unusable;

    private IndexTable(string directory, string name, long start, long length, Action<string, string>? onCorruption)
    {
        _directory = directory;
        Name = name;
        Start = start;
        Length = length;
        _onCorruption = onCorruption;
    }

    /// <summary>Table name, such as <c>index_19700</c>.</summary>
    public string Name { get; }

    /// <summary>Period start, Unix ns.</summary>
    public long Start { get; }

    /// <summary>Period length, ns.</summary>
    public long Length { get; }

    /// <summary>Period end (exclusive), Unix ns.</summary>
    public long End => Start + Length;

    public LabelIndex Index { get; } = new();

    /// <summary>Tombstones read from the table's files on load (the store applies them tenant-wide).</summary>
    public HashSet<(long PackId, long Offset)> LoadedTombstones { get; } = [];

    /// <summary>
    /// Replacement chunk refs read on load and not yet applied: the store commits them (the replaced chunk has
    /// a tombstone) or rolls them back.
    /// </summary>
    public List<(LabelSet Labels, ChunkRef Chunk, (long PackId, long Offset) Replaced)> LoadedReplacements { get; } = [];

    /// <summary>Whether the table has a journal (receives or received writes since its last seal).</summary>
    public bool HasJournal => _journal is not null || File.Exists(JournalPath);

    private string JournalPath => Path.Combine(_directory, Name + JournalSuffix);

    /// <summary>Creates an empty table (files appear on the first append).</summary>
    public static IndexTable Create(string directory, string name, long start, long length,
        Action<string, string>? onCorruption) => new(directory, name, start, length, onCorruption);

    /// <summary>
    /// Loads a table from its files: the newest sealed generation, then the journal. <paramref name="readOnly"/>
    /// (another process writes the table): files are never cut, moved or deleted, and a torn journal tail or a
    /// journal shorter than its header, which is that writer's append in progress, is not reported.
    /// </summary>
    public static IndexTable? Load(string directory, string name, bool readOnly, Action<string, string>? onCorruption)
    {
        IndexTable? table = null;
        var generation = -1;
        string? sealedPath = null;
        foreach (var file in Directory.EnumerateFiles(directory, name + ".g*" + SealedSuffix))
        {
            var g = ParseGeneration(Path.GetFileName(file), name);
            if (g > generation)
            {
                generation = g;
                sealedPath = file;
            }
        }

        if (sealedPath is not null)
        {
            table = LoadFile(directory, name, sealedPath, null, onCorruption, isJournal: false, readOnly);
            if (table is not null)
            {
                table._generation = generation;
            }
        }

        var journal = Path.Combine(directory, name + JournalSuffix);
        if (File.Exists(journal))
        {
            table = LoadFile(directory, name, journal, table, onCorruption, isJournal: true, readOnly) ?? table;
        }

        return table;
    }

    /// <summary>The table names present in <paramref name="directory"/>.</summary>
    public static HashSet<string> Names(string directory)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (!Directory.Exists(directory))
        {
            return names;
        }

        foreach (var file in Directory.EnumerateFiles(directory))
        {
            var fileName = Path.GetFileName(file);
            if (fileName.EndsWith(JournalSuffix, StringComparison.Ordinal))
            {
                names.Add(fileName[..^JournalSuffix.Length]);
            }
            else if (fileName.EndsWith(SealedSuffix, StringComparison.Ordinal))
            {
                var dot = fileName.LastIndexOf(".g", StringComparison.Ordinal);
                if (dot > 0)
                {
                    names.Add(fileName[..dot]);
                }
            }
        }

        return names;
    }

    /// <summary>Durably appends chunk refs to the journal, then makes them visible in the index.</summary>
    public void Append(IReadOnlyList<(LabelSet Labels, ChunkRef Chunk)> chunks, Action<DurableStep>? hook) =>
        Append(chunks, [], [], hook);

    /// <summary>
    /// Durably appends, in one write and fsync, chunk refs, replacement chunk refs (chunks rewritten from the
    /// given keys) and tombstones, then applies them to the index: added refs become visible, tombstoned ones
    /// disappear.
    /// </summary>
    public void Append(IReadOnlyList<(LabelSet Labels, ChunkRef Chunk)> chunks,
        IReadOnlyList<(LabelSet Labels, ChunkRef Chunk, (long, long) Replaced)> replacements,
        IReadOnlyList<(long PackId, long Offset)> tombstones, Action<DurableStep>? hook)
    {
        lock (_writeLock)
        {
            var created = _journal is null && !File.Exists(JournalPath);
            using var buffer = new PooledBufferWriter(4096);
            if (created)
            {
                IndexFile.WriteHeader(buffer, Start, Length);
            }

            if (_unusable)
            {
                throw new IOException($"index journal {JournalPath} could not be repaired after a failed append; restart to recover");
            }

            var newIds = new List<LabelSet>();
            int IdOf(LabelSet labels)
            {
                if (!_journalIds.TryGetValue(labels, out var id))
                {
                    id = _journalIds.Count;
                    _journalIds.Add(labels, id);
                    newIds.Add(labels);
                    IndexFile.WriteSeries(buffer, id, labels);
                }

                return id;
            }

            foreach (var (labels, chunk) in chunks)
            {
                IndexFile.WriteChunk(buffer, IdOf(labels), chunk);
            }

            foreach (var (labels, chunk, replaced) in replacements)
            {
                IndexFile.WriteReplacement(buffer, IdOf(labels), chunk, replaced);
            }

            foreach (var key in tombstones)
            {
                IndexFile.WriteTombstone(buffer, key);
            }

            var lengthBefore = created ? 0 : -1L;
            try
            {
                _journal ??= new FileStream(JournalPath, FileMode.Append, FileAccess.Write, FileShare.Read, 1);
                lengthBefore = _journal.Length;
                _journal.Write(buffer.WrittenSpan);
                hook?.Invoke(DurableStep.Written);
                _journal.Flush(flushToDisk: true);
                hook?.Invoke(DurableStep.Synced);
                if (created)
                {
                    DurableFile.SyncDirectory(_directory);
                }
            }
            catch
            {
                // Nothing of a failed append may stay: the caller was not acknowledged and will retry, and
                // series ids must keep matching the series records in the file.
                foreach (var labels in newIds)
                {
                    _journalIds.Remove(labels);
                }

                RollBack(lengthBefore);
                throw;
            }

            foreach (var (labels, chunk) in chunks)
            {
                Index.Add(labels, chunk);
            }

            foreach (var (labels, chunk, _) in replacements)
            {
                Index.Add(labels, chunk);
            }

            if (tombstones.Count > 0)
            {
                Index.RemoveChunks(new HashSet<(long, long)>(tombstones));
            }
        }
    }

    /// <summary>
    /// Puts a consistent copy of the table's files in <paramref name="destination"/> (an existing directory):
    /// its sealed generations as links, its journal as a copy of what has been appended so far. No append or
    /// seal runs meanwhile. Returns the bytes copied.
    /// </summary>
    public long SnapshotTo(string destination)
    {
        lock (_writeLock)
        {
            long copied = 0;
            foreach (var file in Directory.EnumerateFiles(_directory, Name + ".g*" + SealedSuffix))
            {
                if (ParseGeneration(Path.GetFileName(file), Name) >= 0)
                {
                    copied += Math.Max(0, DurableFile.LinkOrCopy(file, Path.Combine(destination, Path.GetFileName(file))));
                }
            }

            if (File.Exists(JournalPath))
            {
                var length = new FileInfo(JournalPath).Length;
                DurableFile.CopyPrefix(JournalPath, Path.Combine(destination, Name + JournalSuffix), length);
                copied += length;
            }

            return copied;
        }
    }

    /// <summary>
    /// Writes the whole table as a new immutable sealed generation and removes the journal and older
    /// generations. Safe to interrupt at any point: loading tolerates every intermediate state.
    /// </summary>
    public void Seal()
    {
        lock (_writeLock)
        {
            if (!HasJournal)
            {
                return;
            }

            // Series left without chunks (all deleted) are not carried into the new generation.
            var snapshot = Index.Snapshot().FindAll(static s => s.Chunks.Length > 0);
            var next = _generation + 1;
            var path = Path.Combine(_directory, $"{Name}.g{next}{SealedSuffix}");
            using var buffer = new PooledBufferWriter(64 * 1024);
            IndexFile.WriteHeader(buffer, Start, Length);
            for (var id = 0; id < snapshot.Count; id++)
            {
                IndexFile.WriteSeries(buffer, id, snapshot[id].Labels);
                foreach (var chunk in snapshot[id].Chunks)
                {
                    IndexFile.WriteChunk(buffer, id, chunk);
                }
            }

            if (!DurableFile.TryCreate(path, s => s.Write(buffer.WrittenSpan)))
            {
                throw new IOException($"sealed index {path} already exists");
            }

            _journal?.Dispose();
            _journal = null;
            _journalIds.Clear();
            File.Delete(JournalPath);
            for (var g = 0; g < next; g++)
            {
                File.Delete(Path.Combine(_directory, $"{Name}.g{g}{SealedSuffix}"));
            }

            DurableFile.SyncDirectory(_directory);
            _generation = next;
        }
    }

    public void Dispose()
    {
        _journal?.Dispose();
        Index.Dispose();
    }

    private void RollBack(long lengthBefore)
    {
        var journal = _journal;
        _journal = null;
        try
        {
            journal?.Dispose();
        }
        catch (IOException)
        {
            // The handle is unusable either way; the file is repaired below.
        }

        try
        {
            if (lengthBefore == 0)
            {
                File.Delete(JournalPath);
            }
            else if (lengthBefore > 0)
            {
                using var stream = new FileStream(JournalPath, FileMode.Open, FileAccess.Write);
                stream.SetLength(lengthBefore);
                stream.Flush(flushToDisk: true);
            }

            // A negative length means the journal never opened, so nothing was written.
        }
        catch (IOException)
        {
            _unusable = true;
        }
    }

    private static IndexTable? LoadFile(string directory, string name, string path, IndexTable? into,
        Action<string, string>? onCorruption, bool isJournal, bool readOnly)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException e)
        {
            onCorruption?.Invoke(path, "cannot read index file: " + e.Message);
            return into;
        }

        var table = into;
        var pending = new List<(LabelSet, ChunkRef)>();
        var tombstones = new List<(long, long)>();
        var replacements = new List<(LabelSet, ChunkRef, (long, long))>();
        long start, length;
        long valid;
        string? problem;
        List<LabelSet> seriesDefined;
        try
        {
            var journalIds = new List<LabelSet>();
            valid = IndexFile.Read(bytes, out start, out length, isJournal ? journalIds.Add : null,
                (l, c) => pending.Add((l, c)), tombstones.Add, (l, c, r) => replacements.Add((l, c, r)), out problem);
            seriesDefined = journalIds;
        }
        catch (ChunkCorruptException e)
        {
            if (readOnly)
            {
                if (!isJournal || bytes.Length >= IndexFile.HeaderSize)
                {
                    onCorruption?.Invoke(path, e.Message);
                }

                return into;
            }

            onCorruption?.Invoke(path, e.Message);
            if (isJournal)
            {
                // Appends must not land behind an unreadable header: set the file aside (a journal torn
                // before its header was complete holds nothing acknowledged, anything else is kept for study).
                if (bytes.Length < IndexFile.HeaderSize)
                {
                    File.Delete(path);
                }
                else
                {
                    File.Move(path, path + ".corrupt-" + DateTime.UtcNow.Ticks.ToString(
                        System.Globalization.CultureInfo.InvariantCulture));
                }
            }

            return into;
        }

        table ??= new IndexTable(directory, name, start, length, onCorruption);
        foreach (var (labels, chunk) in pending)
        {
            table.Index.Add(labels, chunk);
        }

        table.LoadedReplacements.AddRange(replacements);
        foreach (var key in tombstones)
        {
            table.LoadedTombstones.Add(key);
        }

        // Journal series ids are positions of series records in the file; later appends continue them.
        foreach (var labels in seriesDefined)
        {
            table._journalIds.Add(labels, table._journalIds.Count);
        }

        if (problem is not null && !(readOnly && isJournal))
        {
            onCorruption?.Invoke(path, $"{problem} at byte {valid}; ignoring the rest");
            if (isJournal)
            {
                // Cut the torn tail so later appends are not hidden behind it.
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
                stream.SetLength(valid);
                stream.Flush(flushToDisk: true);
            }
        }

        return table;
    }

    private static int ParseGeneration(string fileName, string name)
    {
        var middle = fileName.AsSpan(name.Length + 2, fileName.Length - name.Length - 2 - SealedSuffix.Length);
        return int.TryParse(middle, System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out var g) ? g : -1;
    }
}
