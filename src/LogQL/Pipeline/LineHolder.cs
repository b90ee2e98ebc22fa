using System.Text;

namespace LokiSharp.LogQL.Pipeline;

/// <summary>Keeps a copy of the current line for templates that call <c>__line__</c>.</summary>
internal sealed class LineHolder
{
    private byte[] _bytes = new byte[256];
    private int _length;

    public void Set(ReadOnlySpan<byte> line)
    {
        if (_bytes.Length < line.Length)
        {
            _bytes = new byte[line.Length * 2];
        }

        line.CopyTo(_bytes);
        _length = line.Length;
    }

    public string Decode() => Encoding.UTF8.GetString(_bytes, 0, _length);
}
