using System.Text;
using System.Threading.Channels;
using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Evaluation;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Pipeline;
using LokiSharp.Querier.Logs;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Querier.Tail;

/// <summary>An entry a slow client missed: Loki reports its time and labels in the next frame.</summary>
public readonly record struct DroppedEntry(long Timestamp, LabelSet Labels);

/// <summary>
/// One tail response: at most 100 entries, plus what was dropped since the last frame that got through, and (on the
/// first history frame) the corrupt data the history query skipped.
/// </summary>
public sealed record TailFrame(IReadOnlyList<ResultEntry> Entries, IReadOnlyList<DroppedEntry> Dropped, IReadOnlyList<string>? Warnings = null);

/// <summary>
/// One live tail as Loki's querier runs it: the history since <c>start</c> first (the newest <c>limit</c> entries,
/// oldest first), then live entries through the query's pipeline, held back until they are <c>delay_for</c> old
/// and released in time order. Frames go into a buffer of 10; when the client reads too slowly the frames that do
/// not fit are dropped and remembered (at most 1000) in the next frame's dropped entries. The history query's lines
/// are reserved in the memory budget given to <see cref="LogTail(string, LogSelectorExpr, int, TimeSpan, TimeProvider, QueryMemoryBudget?)"/>.
/// </summary>
public sealed class LogTail
{
    /// <summary>Entries per frame, as Loki's <c>maxEntriesPerTailResponse</c>.</summary>
    public const int MaxEntriesPerFrame = 100;

    /// <summary>Frames buffered for a slow client, as Loki's <c>maxBufferedTailResponses</c>.</summary>
    public const int MaxBufferedFrames = 10;

    /// <summary>Dropped entries remembered per frame, as Loki's <c>maxDroppedEntriesPerTailResponse</c>.</summary>
    public const int MaxDroppedEntries = 1000;

    private readonly string _tenant;
    private readonly LogSelectorExpr _selector;
    private readonly LogPipeline _pipeline;
    private readonly IReadOnlyList<LabelMatcher> _matchers;
    private readonly int _limit;
    private readonly long _delayNs;
    private readonly TimeProvider _time;
    private readonly QueryMemoryBudget? _memory;
    private readonly Lock _sync = new();
    private readonly Dictionary<LabelSet, StreamPipeline?> _stages = [];
    private readonly PriorityQueue<ResultEntry, (long, long)> _pending = new();
    private readonly List<DroppedEntry> _dropped = [];
    private readonly Channel<TailFrame> _frames = Channel.CreateBounded<TailFrame>(
        new BoundedChannelOptions(MaxBufferedFrames) { SingleReader = true, SingleWriter = true });
    private readonly SemaphoreSlim _arrived = new(0, int.MaxValue);
    private HashSet<(LabelSet, long, string)>? _history;
    private long _sequence;

    /// <summary>Prepares a tail; call <see cref="RunAsync"/> to produce frames.</summary>
    public LogTail(string tenant, LogSelectorExpr selector, int limit, TimeSpan delayFor, TimeProvider time, QueryMemoryBudget? memory = null)
    {
        _memory = memory;
        _tenant = tenant;
        _selector = selector;
        _pipeline = LogPipeline.Compile(selector);
        _matchers = selector.Matchers;
        _limit = limit;
        _delayNs = delayFor.Ticks * 100;
        _time = time;
    }

    /// <summary>Frames to send, in order.</summary>
    public ChannelReader<TailFrame> Frames => _frames.Reader;

    /// <summary>
    /// Offers a pushed entry (from the pushing thread; never blocks on the client). Entries of streams the
    /// selector does not match, or that the pipeline drops, are discarded here.
    /// </summary>
    public void Offer(LabelSet streamLabels, long timestampNs, string line, ReadOnlySpan<LabelPair> metadata)
    {
        lock (_sync)
        {
            if (!_stages.TryGetValue(streamLabels, out var stage))
            {
                stage = Matches(streamLabels) ? _pipeline.ForStream(streamLabels) : null;
                _stages[streamLabels] = stage;
            }

            var bytes = Encoding.UTF8.GetBytes(line);
            if (stage is null || !stage.Process(timestampNs, bytes, metadata, out var output, out var labels))
            {
                return;
            }

            var text = output.SequenceEqual(bytes) ? line : Encoding.UTF8.GetString(output);
            _pending.Enqueue(new ResultEntry(timestampNs, text, labels), (timestampNs, _sequence++));
        }

        _arrived.Release();
    }

    /// <summary>
    /// Sends the history from <paramref name="start"/> to now, then live entries until cancelled. Subscribe to
    /// pushes before calling, so nothing pushed while the history is read is lost.
    /// </summary>
    public async Task RunAsync(IReadOnlyList<ILogSource> sources, long start, CancellationToken cancellationToken)
    {
        try
        {
            await SendHistoryAsync(sources, start, cancellationToken).ConfigureAwait(false);
            while (!cancellationToken.IsCancellationRequested)
            {
                var wait = Release();
                await _arrived.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away or the tail was closed; nothing more to send.
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The reader of the frames ends the tail with this error (Loki closes with 1011 and the message).
            _frames.Writer.TryComplete(e);
        }
        finally
        {
            _frames.Writer.TryComplete();
        }
    }

    private async Task SendHistoryAsync(IReadOnlyList<ILogSource> sources, long start, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds() * 1_000_000;
        if (start >= now)
        {
            return;
        }

        var result = new LogQueryEngine(sources, _memory)
            .Select(new LogQuery(_tenant, _selector, start, now + 1, _limit, Direction.Backward), cancellationToken);
        result.Entries.Reverse();
        var seen = new HashSet<(LabelSet, long, string)>(result.Entries.Count);
        foreach (var entry in result.Entries)
        {
            seen.Add((entry.Labels.Stream, entry.Timestamp, entry.Line));
        }

        lock (_sync)
        {
            _history = seen;
        }

        // Skipped corrupt data is told with the first frame, which is sent even without entries to carry it.
        var warnings = result.Warnings.ToList();
        if (result.Entries.Count == 0 && warnings.Count > 0)
        {
            await _frames.Writer.WriteAsync(new TailFrame([], [], warnings), cancellationToken).ConfigureAwait(false);
        }

        for (var i = 0; i < result.Entries.Count; i += MaxEntriesPerFrame)
        {
            var frame = result.Entries.GetRange(i, Math.Min(MaxEntriesPerFrame, result.Entries.Count - i));
            await _frames.Writer.WriteAsync(new TailFrame(frame, [], i == 0 && warnings.Count > 0 ? warnings : null), cancellationToken).ConfigureAwait(false);
        }
    }

    // Moves the entries old enough into frames; returns how long until the next pending entry is due.
    private TimeSpan Release()
    {
        while (true)
        {
            List<ResultEntry> batch;
            TimeSpan untilNext;
            lock (_sync)
            {
                var due = _time.GetUtcNow().ToUnixTimeMilliseconds() * 1_000_000 - _delayNs;
                batch = [];
                while (batch.Count < MaxEntriesPerFrame && _pending.TryPeek(out var next, out _) && (_delayNs == 0 || next.Timestamp <= due))
                {
                    _pending.Dequeue();
                    // Entries pushed while the history was read are already in the history frames.
                    if (_history is null || !_history.Contains((next.Labels.Stream, next.Timestamp, next.Line)))
                    {
                        batch.Add(next);
                    }
                }

                untilNext = _pending.TryPeek(out var waiting, out _)
                    ? TimeSpan.FromTicks(Math.Clamp((waiting.Timestamp - due) / 100, TimeSpan.TicksPerMillisecond, TimeSpan.TicksPerSecond))
                    : Timeout.InfiniteTimeSpan;
                if (batch.Count == 0)
                {
                    if (_pending.Count == 0)
                    {
                        _history = null;
                    }

                    return untilNext;
                }
            }

            var dropped = _dropped.Count > 0 ? _dropped.ToArray() : [];
            if (_frames.Writer.TryWrite(new TailFrame(batch, dropped)))
            {
                _dropped.Clear();
            }
            else
            {
                foreach (var entry in batch)
                {
                    if (_dropped.Count >= MaxDroppedEntries)
                    {
                        break;
                    }

                    _dropped.Add(new DroppedEntry(entry.Timestamp, entry.Labels.All));
                }
            }
        }
    }

    private bool Matches(LabelSet labels)
    {
        foreach (var matcher in _matchers)
        {
            if (!matcher.Matches(labels.Get(matcher.Name) ?? ""))
            {
                return false;
            }
        }

        return true;
    }
}
