using System.Buffers;

namespace LokiSharp.Storage.Chunks;

/// <summary>A growable <see cref="IBufferWriter{T}"/> renting its storage from an array pool, <see cref="ArrayPool{T}.Shared"/> unless given one.</summary>
public sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
{
    private readonly ArrayPool<byte> _pool;
    private byte[] _buffer;
    private int _written;

    /// <summary>Creates a writer with an initial capacity.</summary>
    public PooledBufferWriter(int initialCapacity = 4096, ArrayPool<byte>? pool = null)
    {
        _pool = pool ?? ArrayPool<byte>.Shared;
        _buffer = _pool.Rent(Math.Max(initialCapacity, 256));
    }

    /// <summary>Bytes written so far.</summary>
    public int WrittenCount => _written;

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    /// <summary>The bytes written so far.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _written);

    /// <summary>Overwrites already written bytes at <paramref name="offset"/> (length prefixes filled in later).</summary>
    public void Patch(int offset, ReadOnlySpan<byte> bytes)
    {
        if (offset < 0 || offset + bytes.Length > _written)
        {
            throw new ArgumentOutOfRangeException(nameof(offset));
        }

        bytes.CopyTo(_buffer.AsSpan(offset));
    }

    /// <summary>Forgets the content, keeping the storage.</summary>
    public void Clear() => _written = 0;

    /// <inheritdoc />
    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_written + count > _buffer.Length)
        {
            throw new InvalidOperationException("advanced past the end of the buffer");
        }

        _written += count;
    }

    /// <inheritdoc />
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    /// <inheritdoc />
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        _written = 0;
        if (buffer.Length > 0)
        {
            _pool.Return(buffer);
        }
    }

    private void Ensure(int sizeHint)
    {
        var needed = _written + Math.Max(sizeHint, 1);
        if (needed <= _buffer.Length)
        {
            return;
        }

        var grown = _pool.Rent(Math.Max(needed, _buffer.Length * 2));
        _buffer.AsSpan(0, _written).CopyTo(grown);
        if (_buffer.Length > 0)
        {
            _pool.Return(_buffer);
        }

        _buffer = grown;
    }
}
