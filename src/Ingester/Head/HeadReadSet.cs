using LokiSharp.Storage.Reading;

namespace LokiSharp.Ingester.Head;

/// <summary>
/// The parts one head read takes under the stream lock: in-memory chunks, and spilled ones whose files stay open
/// until the read is disposed (<see cref="EndRead"/>), since the parts may leave the head while it runs. With a
/// <paramref name="search"/>, spilled parts its sieve rules out are only counted while every one so far is: a needle
/// search then opens no file and no reader for a stream none of whose parts may hold the needle.
/// </summary>
/// <param name="search">The line-filtered search's view of the kept part tails, or null.</param>
/// <param name="from">The read's start, Unix ns.</param>
/// <param name="through">The read's end (exclusive), Unix ns.</param>
internal sealed class HeadReadSet(FileChunkSearch? search = null, long from = long.MinValue, long through = long.MaxValue)
{
    private readonly List<SpillFile> _files = [];
    private readonly List<HeadPart> _ruledOut = [];
    private ReadStats _ruledOutStats = new();
    private SpillFile? _lastFile;

    public List<ReadOnlyMemory<byte>> InMemory { get; } = [];

    public List<FileChunk> Spilled { get; } = [];

    /// <summary>
    /// What reading the spilled parts would count when the search rules out every one of them (none is in
    /// <see cref="Spilled"/> then); null when there are none or one may match.
    /// </summary>
    public ReadStats? AllRuledOut => _ruledOut.Count > 0 ? _ruledOutStats : null;

    /// <summary>Takes <paramref name="part"/> for reading; under the owning stream's lock.</summary>
    public void Add(HeadPart part)
    {
        if (part.InMemory is { } memory)
        {
            InMemory.Add(memory);
            return;
        }

        if (search is not null && Spilled.Count == 0 && search.TrySkip(part.Tail, from, through, _ruledOutStats))
        {
            _ruledOut.Add(part);
            return;
        }

        // One part may match: the read opens them all, in order, as a reader counts skips only as it reaches them.
        foreach (var ruledOut in _ruledOut)
        {
            Take(ruledOut);
        }

        _ruledOut.Clear();
        _ruledOutStats = new ReadStats();
        Take(part);
    }

    /// <summary>The read is over: the spill files it held may close.</summary>
    public void EndRead()
    {
        foreach (var file in _files)
        {
            file.EndRead();
        }

        _files.Clear();
        _lastFile = null;
    }

    private void Take(HeadPart part)
    {
        // Each file once per read, not once per part: a search takes thousands of parts from a few files.
        var file = part.File!;
        if (!ReferenceEquals(file, _lastFile) && !_files.Contains(file))
        {
            file.BeginRead();
            _files.Add(file);
        }

        _lastFile = file;
        Spilled.Add(part.ForRead());
    }
}
