namespace LokiSharp.LogQL.Pipeline;

/// <summary>
/// One stream's sample labels under a lone pattern parser (<see cref="SampleExtractor.PatternKey"/>), remembered by the
/// bytes of the captures that decide them: a repeated status code costs one scan of the line and a lookup rather than
/// the label state. It switches itself off for a stream whose keys rarely repeat (an id or address kept), where every
/// entry would pay for the scan twice.
/// </summary>
internal sealed class PatternSampleMemo(PatternOutputKey key)
{
    private const int SlotCount = 64;
    private const int CheckEvery = 1024;
    private readonly byte[]?[] _keys = new byte[]?[SlotCount];
    private readonly LabelsResult?[] _results = new LabelsResult?[SlotCount];
    private readonly int[] _starts = new int[key.Last + 1];
    private readonly int[] _lengths = new int[key.Last + 1];
    private byte[] _key = new byte[16];
    private int _keyLength;
    private int _lines;
    private int _misses;

    /// <summary>Over a quarter of the last <c>1024</c> lines missed: the stream takes the general path from now on.</summary>
    public bool IsOff { get; private set; }

    /// <summary>
    /// The remembered labels of <paramref name="line"/>; on a miss <paramref name="slot"/> is where
    /// <see cref="Remember"/> keeps them, -1 when the line's key is too long to remember.
    /// </summary>
    public bool TryGet(ReadOnlySpan<byte> line, out LabelsResult labels, out int slot)
    {
        labels = null!;
        _keyLength = key.Write(line, ref _key, _starts, _lengths);
        if (_keyLength < 0)
        {
            slot = -1;
            return false;
        }

        var written = _key.AsSpan(0, _keyLength);
        slot = FastHash.Of(written) & (SlotCount - 1);
        var hit = _keys[slot] is { } known && ShortBytes.Equal(known, written);
        Count(miss: !hit);
        if (hit)
        {
            labels = _results[slot]!;
        }

        return hit;
    }

    /// <summary>Keeps the labels of the line <see cref="TryGet"/> missed last, in its <paramref name="slot"/>.</summary>
    public void Remember(int slot, LabelsResult labels)
    {
        if (slot >= 0)
        {
            _keys[slot] = _key.AsSpan(0, _keyLength).ToArray();
            _results[slot] = labels;
        }
    }

    private void Count(bool miss)
    {
        _misses += miss ? 1 : 0;
        if (++_lines == CheckEvery)
        {
            IsOff = _misses * 4 > _lines;
            _lines = _misses = 0;
        }
    }
}
