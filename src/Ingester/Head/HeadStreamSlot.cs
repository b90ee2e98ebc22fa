namespace LokiSharp.Ingester.Head;

/// <summary>
/// The head stream a pushed label text went to last, kept with the validator's cached answer for that text, so the
/// next push of it finds its stream without a lookup in the tenant's stream map per stream and push. A stream the idle
/// sweep forgets is cleared from its slot.
/// </summary>
internal sealed class HeadStreamSlot
{
    private HeadStream? _stream;

    /// <summary>
    /// The stream for <paramref name="tenant"/>, if this slot holds one. It may have been removed since: admission, under
    /// the stream's lock, is what tells.
    /// </summary>
    public HeadStream? For(string tenant) =>
        Volatile.Read(ref _stream) is { } stream && string.Equals(stream.Tenant, tenant, StringComparison.Ordinal) ? stream : null;

    /// <summary>Keeps <paramref name="stream"/> for the next push of the text.</summary>
    public void Keep(HeadStream stream)
    {
        Volatile.Write(ref _stream, stream);
        stream.Slot = this;
    }

    /// <summary>Lets go of <paramref name="stream"/>, if this slot still holds it.</summary>
    public void Release(HeadStream stream) => Interlocked.CompareExchange(ref _stream, null, stream);
}
