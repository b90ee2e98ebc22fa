using System.Buffers.Binary;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Index;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Storage.Store;

/// <summary>A stored chunk's checked tail (<see cref="ChunkTail"/>), read or cached; null when it does not check out.</summary>
internal delegate ChunkTail? ChunkTailSource(in ChunkRef chunk, out int bytesRead);

/// <content>
/// Peeking: with a line filter, a stored chunk's block table and filters (its tail) are looked at first, and the chunk
/// is loaded only when one of its blocks may hold a match, so a needle search reads a few KB per chunk, not the chunk.
/// </content>
internal sealed partial class ChunkEntryIterator
{
    // Chunks judged together: a needle search skips nearly every chunk, and the time per chunk is spent waiting for
    // memory (the cached tail, its block table, a filter bit). Judging a run of chunks stage by stage lets those waits
    // overlap instead of following one another.
    private const int JudgeWindow = 64;

    private Verdict[]? _verdicts;
    private ChunkTail?[]? _judgedTails;
    private int _judged;
    private int _touched;
    private ChunkSieve? _sieveOfSearch;
    private ReadStats? _ruledOut;

    // The pending chunks' sieve entries and the search's candidates, when the reader was given them (see StreamSieve).
    private readonly SieveEntry[]? _entries;
    private readonly SieveCandidates? _candidates;

    /// <summary>
    /// False when no block of pending chunk <paramref name="index"/> in the query's time range may hold a matching line
    /// (the skip is counted); true when one may, or when the tail does not check out (the full read then reports the
    /// damage).
    /// </summary>
    private bool MayMatch(int index)
    {
        if (_tails is null || _query.Filter is not { IsEmpty: false })
        {
            return true;
        }

        _verdicts ??= new Verdict[Math.Min(_pending.Length, JudgeWindow)];
        _judgedTails ??= new ChunkTail?[_verdicts.Length];
        if (index >= _judged)
        {
            Judge(index);
        }

        // Counted when the chunk is reached, as if judged then: a search that stops early counts only what it reached.
        var verdict = _verdicts[index % _verdicts.Length];
        Stats.LoadedBytes += verdict.BytesRead;
        if (verdict.MayMatch)
        {
            return true;
        }

        Stats.Chunks++;
        Stats.BlocksSkippedByTime += verdict.SkippedByTime;
        Stats.BlocksSkippedByContent += verdict.SkippedByContent;
        Stats.SkippedByContentBytes += verdict.SkippedBytes;
        return false;
    }

    /// <summary>
    /// What reading <paramref name="chunks"/> would count when the search's sieve rules out every one of them; null when
    /// one may match or there is no sieve. A needle search rules out nearly every stream's chunks so, before they are
    /// sorted; the reader then has nothing pending and counts the skips on its first advance, when it would have
    /// reached them all.
    /// </summary>
    private ReadStats? RuleOutAll(ReadOnlySpan<ChunkRef> chunks)
    {
        if (_tails is null || _sieve is null || _query.Filter is not { IsEmpty: false } filter || chunks.IsEmpty)
        {
            return null;
        }

        var sieve = _sieveOfSearch ??= _sieve(filter);
        var stats = new ReadStats();

        // A window at a time: a stream whose first chunks may match stops after touching one window, not every chunk.
        for (var start = 0; start < chunks.Length; start += JudgeWindow)
        {
            var window = chunks.Slice(start, Math.Min(JudgeWindow, chunks.Length - start));
            _touched += (int)sieve.Touch(window);
            foreach (ref readonly var chunk in window)
            {
                if (!ChunkSieve.CountSkip(sieve.Judge(chunk, _query.From, _query.Through, out _, out var skippedBytes), skippedBytes, stats))
                {
                    return null;
                }
            }
        }

        return stats;
    }

    private void Judge(int from)
    {
        var verdicts = _verdicts!;
        var count = Math.Min(verdicts.Length, _pending.Length - from);
        var tails = _judgedTails.AsSpan(0, count);
        // One sieve per search: columns kept after it was made only count as may-match, so no window needs a new one.
        var sieve = _entries is null ? _sieveOfSearch ??= _sieve?.Invoke(_query.Filter!) : null;
        _touched += (int)(sieve?.Touch(_pending.AsSpan(from, count)) ?? 0);
        for (var i = 0; i < count; i++)
        {
            ref var verdict = ref verdicts[(from + i) % verdicts.Length];
            var chunk = _pending[from + i];
            var (outcome, skippedBytes) = (SieveOutcome.Unknown, 0);
            tails[i] = null;
            if (_entries is not null)
            {
                outcome = ChunkSieve.Judge(_entries[from + i], _candidates!, _query.From, _query.Through, out skippedBytes);
            }
            else if (sieve is not null)
            {
                outcome = sieve.Judge(chunk, _query.From, _query.Through, out tails[i], out skippedBytes);
            }

            // A sieved skip counts as the full check of its one block would have.
            switch (outcome)
            {
                case SieveOutcome.SkippedByTime:
                    tails[i] = null;
                    verdict = new Verdict { Sieved = true, SkippedByTime = 1 };
                    break;
                case SieveOutcome.SkippedByContent:
                    tails[i] = null;
                    verdict = new Verdict { Sieved = true, SkippedByContent = 1, SkippedBytes = skippedBytes };
                    break;
                default:
                    var bytesRead = 0;
                    tails[i] ??= _tails!(chunk, out bytesRead);
                    verdict = new Verdict { BytesRead = bytesRead };
                    break;
            }
        }

        // Touch every block table first, so their loads are in flight together before any filter is looked at.
        var touched = 0;
        foreach (var tail in tails)
        {
            touched += tail is { Section.Length: > 0 } t ? t.Section[0] : 0;
        }

        _touched += touched; // kept, so the loads are not dropped
        for (var i = 0; i < count; i++)
        {
            ref var verdict = ref verdicts[(from + i) % verdicts.Length];
            if (verdict.Sieved)
            {
                continue;
            }

            if (tails[i] is not { } tail)
            {
                verdict.MayMatch = true;
                continue;
            }

            Judge(tail.Section, tail.TableOffset, tail.BlockCount, _query.Filter!, ref verdict);
        }

        tails.Clear();
        _judged = from + count;
    }

    private void Judge(ReadOnlySpan<byte> section, int tableOffset, int blockCount, ContentIndex.LiteralPrefilter filter, ref Verdict verdict)
    {
        var filtersStart = blockCount * ChunkFormat.BlockInfoSize;
        for (var i = 0; i < blockCount; i++)
        {
            var row = section[(i * ChunkFormat.BlockInfoSize)..];
            var min = BinaryPrimitives.ReadInt64LittleEndian(row);
            var max = BinaryPrimitives.ReadInt64LittleEndian(row[8..]);
            if (!(min < _query.Through && max >= _query.From))
            {
                verdict.SkippedByTime++;
                continue;
            }

            // Filter offsets count from the chunk's start; the section starts at tableOffset.
            var filterAt = BinaryPrimitives.ReadInt32LittleEndian(row[36..]) - tableOffset;
            var filterSize = BinaryPrimitives.ReadInt32LittleEndian(row[40..]);
            var idSize = BinaryPrimitives.ReadInt32LittleEndian(row[44..]);
            // A row the full read rejects must not rule its chunk out: the full read reports the damage.
            if (!ChunkLayout.FiltersFit(filterAt, filterSize, idSize, filtersStart, section.Length))
            {
                verdict.MayMatch = true;
                return;
            }

            var text = filterSize == 0 ? default : section.Slice(filterAt, filterSize);
            var ids = idSize == 0 ? default : section.Slice(filterAt + filterSize, idSize);
            if (filter.MayMatchBlock(text, ids))
            {
                verdict.MayMatch = true;
                return;
            }

            verdict.SkippedByContent++;
            verdict.SkippedBytes += BinaryPrimitives.ReadInt32LittleEndian(row[20..]);
        }
    }

    /// <summary>What peeking found for one pending chunk; its counts are added when the chunk is reached.</summary>
    private struct Verdict
    {
        public bool Sieved;
        public bool MayMatch;
        public int BytesRead;
        public int SkippedByTime;
        public int SkippedByContent;
        public long SkippedBytes;
    }
}
