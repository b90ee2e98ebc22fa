using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Index;
using LokiSharp.Storage.Objects;

namespace LokiSharp.Storage.Bucket;

/// <content>Loading one index object: fetch, decode, check it against its key; damage is reported, not thrown.</content>
internal sealed partial class BucketIndexReader
{
    // Null object when the key is gone (Vanished) or the object is damaged (reported).
    private async Task<(LoadedObject? Object, bool Vanished)> LoadAsync(string key, IndexObjectIdentity expected,
        (long Start, long Length)? period, CancellationToken cancellationToken)
    {
        byte[] bytes;
        try
        {
            bytes = await _store.GetAsync(key, cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectStoreException e) when (e.Kind == ObjectStoreErrorKind.NotFound)
        {
            return (null, true);
        }

        var loaded = new LoadedObject(key);
        var records = new IndexFile.BucketRecords(_packs.HandleOf);
        try
        {
            var valid = IndexFile.Read(bytes, out var start, out var length, null, (l, c) => loaded.Chunks.Add((l, c)),
                loaded.Tombstones.Add, (l, c, r) => loaded.Replacements.Add((l, c, r)), records, out var problem);
            if (problem is not null)
            {
                return Damage(key, $"{problem} at byte {valid}");
            }

            loaded.Period = (start, length);
        }
        catch (ChunkCorruptException e)
        {
            return Damage(key, e.Message);
        }

        // A segment's epoch is the compactor's for its own segments and 0 for every other writer's.
        var identity = records.Identity;
        var epochOk = identity.Kind == IndexFile.GenerationKind ? identity.Epoch == expected.Epoch
            : identity.Writer == WriterName.Compactor ? identity.Epoch > 0 : identity.Epoch == 0;
        if (identity.Kind != expected.Kind || identity.Writer != expected.Writer || identity.Number != expected.Number || !epochOk)
        {
            return Damage(key, $"its identity ({Describe(identity)}) does not match its key ({Describe(expected)})");
        }

        if (identity.Kind == IndexFile.SegmentKind ? records.Coverage.Count > 0 : loaded.Tombstones.Count + loaded.Replacements.Count > 0)
        {
            return Damage(key, identity.Kind == IndexFile.SegmentKind
                ? "a segment carries coverage records"
                : "a generation carries tombstones or replacements");
        }

        if (period is { } expectedPeriod && loaded.Period != expectedPeriod)
        {
            return Damage(key, $"its period {loaded.Period} differs from the table's {expectedPeriod}");
        }

        loaded.Identity = identity;
        foreach (var (writer, seq) in records.Coverage)
        {
            loaded.Coverage[writer] = seq;
        }

        return (loaded, false);
    }

    private (LoadedObject?, bool) Damage(string key, string message)
    {
        if (_damaged.TryAdd(key, message))
        {
            _onDamage?.Invoke(key, message);
        }

        return (null, false);
    }

    private static string Describe(IndexObjectIdentity identity) =>
        $"{(identity.Kind == IndexFile.GenerationKind ? "generation" : "segment")} {identity.Number} of {identity.Writer}" +
        (identity.Epoch != 0 ? $", epoch {identity.Epoch:x16}" : "");

    /// <summary>The decoded content of one segment or generation.</summary>
    private sealed class LoadedObject(string key)
    {
        public string Key { get; } = key;

        public IndexObjectIdentity Identity { get; set; }

        public (long Start, long Length) Period { get; set; }

        public List<(LabelSet Labels, ChunkRef Chunk)> Chunks { get; } = [];

        public List<(long PackId, long Offset)> Tombstones { get; } = [];

        public List<(LabelSet Labels, ChunkRef Chunk, (long PackId, long Offset) Replaced)> Replacements { get; } = [];

        public Dictionary<string, long> Coverage { get; } = new(StringComparer.Ordinal);
    }
}
