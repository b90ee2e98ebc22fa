using System.Buffers;
using System.Collections.Concurrent;

namespace LokiSharp.Server.Hosting;

/// <summary>
/// The memory Kestrel reads sockets into and writes responses from: 64 KiB blocks instead of Kestrel's own 4 KiB.
/// The socket transport receives into one block at a time, so a 300 KB push body took about 75 receive calls, each
/// with its pipe and scheduling work (80 recvfrom per push and 18% of the ingest CPU on the reference load); with
/// 64 KiB blocks it takes about 5. Idle blocks are kept up to a bound; beyond it they are left to the GC, so a burst
/// of connections does not stay resident.
/// </summary>
internal sealed class ReceiveBlockPool : MemoryPool<byte>
{
    /// <summary>The size of every pooled block.</summary>
    public const int BlockSize = 64 * 1024;

    /// <summary>Idle blocks kept for reuse (1 MiB).</summary>
    public const int MaxIdleBlocks = 16;

    private readonly ConcurrentQueue<Block> _idle = new();
    private int _idleCount;
    private bool _disposed;

    /// <inheritdoc />
    public override int MaxBufferSize => BlockSize;

    /// <summary>Blocks waiting for reuse.</summary>
    public int IdleCount => Volatile.Read(ref _idleCount);

    /// <inheritdoc />
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > BlockSize)
        {
            // Pipes never ask a pool for more than MaxBufferSize; anyone else gets a one-off block of the size asked.
            return new Block(null, minBufferSize);
        }

        if (_idle.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _idleCount);
            block.Rented();
            return block;
        }

        return new Block(this, BlockSize);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        _idle.Clear();
        Volatile.Write(ref _idleCount, 0);
    }

    private void Return(Block block)
    {
        if (_disposed || Interlocked.Increment(ref _idleCount) > MaxIdleBlocks)
        {
            Interlocked.Decrement(ref _idleCount);
            return;
        }

        _idle.Enqueue(block);
    }

    // A block is pinned (allocated on the pinned heap) so the socket layer never has to pin it per call.
    private sealed class Block(ReceiveBlockPool? pool, int size) : IMemoryOwner<byte>
    {
        private readonly byte[] _array = GC.AllocateUninitializedArray<byte>(size, pinned: true);
        private int _returned;

        public Memory<byte> Memory => _array;

        public void Rented() => Volatile.Write(ref _returned, 0);

        public void Dispose()
        {
            // A second Dispose of the same rental must not put the block in the pool twice.
            if (pool is not null && Interlocked.Exchange(ref _returned, 1) == 0)
            {
                pool.Return(this);
            }
        }
    }
}
