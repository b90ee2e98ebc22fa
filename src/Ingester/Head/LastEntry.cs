namespace LokiSharp.Ingester.Head;

/// <summary>A stream's last accepted entry: its timestamp, line (in a buffer reused from push to push) and encoded metadata.</summary>
internal sealed class LastEntry
{
    // The buffer grows to the longest line seen, but one much longer than the line is let go: a single long line must
    // not pin its size for the stream's lifetime.
    private const int SlackFactor = 4;
    private const int SmallLine = 256;

    private byte[] _line = [];
    private int _lineLength;

    public long Timestamp { get; private set; }

    public ReadOnlySpan<byte> Line => _line.AsSpan(0, _lineLength);

    public byte[] Metadata { get; private set; } = [];

    public void Set(long timestamp, ReadOnlySpan<byte> line, byte[] encodedMetadata)
    {
        if (_line.Length < line.Length || _line.Length > SlackFactor * Math.Max(line.Length, SmallLine))
        {
            _line = new byte[line.Length];
        }

        line.CopyTo(_line);
        _lineLength = line.Length;
        Timestamp = timestamp;
        Metadata = encodedMetadata;
    }
}
