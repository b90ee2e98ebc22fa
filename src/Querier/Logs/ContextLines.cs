using System.Text;
using LokiSharp.LogQL.Evaluation;
using LokiSharp.LogQL.Pipeline;

namespace LokiSharp.Querier.Logs;

/// <summary>
/// Collects context lines for a log query, grep <c>-B/-A</c> style, per stream in the order the stream is read:
/// the last <c>preceding</c> lines that did not match are kept in a ring and written just before the next match;
/// after a match the next <c>following</c> lines are written as they come. Context lines are the stored lines with
/// the labels the bare selector gives them (stream labels and structured metadata), so without parsers in the query
/// they interleave with the matches of their stream. Windows that touch or overlap are written once. The rings'
/// buffers are reserved in <paramref name="memory"/> as they grow.
/// </summary>
internal sealed class ContextLines(int preceding, int following, QueryMemoryBudget? memory)
{
    private readonly Dictionary<int, StreamWindow> _streams = [];
    private int _streamsFollowing;

    /// <summary>Whether some stream still owes lines after a match.</summary>
    public bool Pending => _streamsFollowing > 0;

    /// <summary>Whether <paramref name="stream"/> still owes lines after a match.</summary>
    public bool Wants(int stream) => _streams.TryGetValue(stream, out var window) && window.Following > 0;

    /// <summary>A match in <paramref name="stream"/> is about to be written: writes the lines kept before it.</summary>
    public void BeforeMatch(int stream, List<ResultEntry> output)
    {
        var window = Window(stream);
        window.Drain(output);
        if (window.Following > 0)
        {
            _streamsFollowing--;
        }

        window.Following = 0;
    }

    /// <summary>A match in <paramref name="stream"/> was written: the next lines of the stream follow it.</summary>
    public void AfterMatch(int stream)
    {
        if (following == 0)
        {
            return;
        }

        Window(stream).Following = following;
        _streamsFollowing++;
    }

    /// <summary>A line of <paramref name="stream"/> that is not a match: written if it follows one, else kept.</summary>
    public void NotMatched(int stream, long timestamp, ReadOnlySpan<byte> line, LabelsResult labels, List<ResultEntry> output)
    {
        var window = Window(stream);
        if (window.Following > 0)
        {
            output.Add(new ResultEntry(timestamp, Encoding.UTF8.GetString(line), labels));
            if (--window.Following == 0)
            {
                _streamsFollowing--;
            }
        }
        else if (preceding > 0)
        {
            window.Keep(timestamp, line, labels);
        }
    }

    private StreamWindow Window(int stream)
    {
        if (!_streams.TryGetValue(stream, out var window))
        {
            _streams[stream] = window = new StreamWindow(preceding, memory);
        }

        return window;
    }

    /// <summary>One stream's ring of recent unmatched lines, whose buffers are reused as it turns.</summary>
    private sealed class StreamWindow(int capacity, QueryMemoryBudget? memory)
    {
        private readonly long[] _timestamps = new long[capacity];
        private readonly byte[][] _lines = new byte[capacity][];
        private readonly int[] _lengths = new int[capacity];
        private readonly LabelsResult[] _labels = new LabelsResult[capacity];
        private int _first;
        private int _count;

        public int Following { get; set; }

        public void Keep(long timestamp, ReadOnlySpan<byte> line, LabelsResult labels)
        {
            var slot = (_first + _count) % capacity;
            if (_count == capacity)
            {
                _first = (_first + 1) % capacity;
            }
            else
            {
                _count++;
            }

            var buffer = _lines[slot];
            if (buffer is null || buffer.Length < line.Length)
            {
                var size = Math.Max(line.Length, 256);
                memory?.Reserve(size - (buffer?.Length ?? 0));
                _lines[slot] = buffer = new byte[size];
            }

            line.CopyTo(buffer);
            _lengths[slot] = line.Length;
            _timestamps[slot] = timestamp;
            _labels[slot] = labels;
        }

        public void Drain(List<ResultEntry> output)
        {
            for (var i = 0; i < _count; i++)
            {
                var slot = (_first + i) % capacity;
                output.Add(new ResultEntry(_timestamps[slot], Encoding.UTF8.GetString(_lines[slot], 0, _lengths[slot]), _labels[slot]));
            }

            _first = 0;
            _count = 0;
        }
    }
}
