using System.Buffers;
using Microsoft.AspNetCore.Connections;

namespace LokiSharp.Server.Hosting;

/// <summary>Hands Kestrel and its socket transport a <see cref="ReceiveBlockPool"/> wherever they create a memory pool.</summary>
internal sealed class ReceiveBlockPoolFactory : IMemoryPoolFactory<byte>
{
    /// <inheritdoc />
    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new ReceiveBlockPool();
}
