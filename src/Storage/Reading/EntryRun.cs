using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.ContentIndex;

namespace LokiSharp.Storage.Reading;

/// <summary>
/// Consecutive entries of one decoded block that an iterator hands out at once (<see cref="IEntryIterator.TryTakeRun"/>):
/// entries <see cref="Start"/> to <see cref="End"/> (exclusive) of <see cref="Block"/> whose line passes <see cref="Filter"/>
/// (every one when null), in the iterator's order. Valid until the iterator is next advanced.
/// </summary>
/// <param name="block">The decoded block holding the entries.</param>
/// <param name="start">Index of the first entry; it passes the filter.</param>
/// <param name="end">Index after the last entry.</param>
/// <param name="filter">The read's line filter, which the reader applies to the entries after the first; null when none.</param>
public readonly struct EntryRun(DecodedBlock block, int start, int end, LiteralPrefilter? filter)
{
    /// <summary>The decoded block holding the entries.</summary>
    public DecodedBlock Block { get; } = block;

    /// <summary>Index of the first entry.</summary>
    public int Start { get; } = start;

    /// <summary>Index after the last entry.</summary>
    public int End { get; } = end;

    /// <summary>The line filter entries must pass to be read; null when every entry is.</summary>
    public LiteralPrefilter? Filter { get; } = filter;
}
