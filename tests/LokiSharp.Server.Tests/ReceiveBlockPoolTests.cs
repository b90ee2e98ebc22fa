using System.Runtime.InteropServices;
using LokiSharp.Server.Hosting;

namespace LokiSharp.Server.Tests;

/// <summary>The memory pool Kestrel reads sockets into: block size, reuse, double disposal and the idle bound.</summary>
public sealed class ReceiveBlockPoolTests
{
    private static byte[] ArrayOf(Memory<byte> memory) => MemoryMarshal.TryGetArray<byte>(memory, out var segment) ? segment.Array! : throw new InvalidOperationException();

    [Fact]
    public void Blocks_are_64_KiB_and_a_returned_block_is_handed_out_again()
    {
        using var pool = new ReceiveBlockPool();
        Assert.Equal(ReceiveBlockPool.BlockSize, pool.MaxBufferSize);

        var first = pool.Rent(4096);
        Assert.Equal(64 * 1024, first.Memory.Length);
        var array = ArrayOf(first.Memory);
        first.Dispose();
        Assert.Equal(1, pool.IdleCount);

        using var second = pool.Rent();
        Assert.Same(array, ArrayOf(second.Memory));
        Assert.Equal(0, pool.IdleCount);
    }

    [Fact]
    public void A_request_over_the_block_size_gets_its_own_memory_which_is_not_pooled()
    {
        using var pool = new ReceiveBlockPool();
        var large = pool.Rent(ReceiveBlockPool.BlockSize + 1);
        Assert.Equal(ReceiveBlockPool.BlockSize + 1, large.Memory.Length);
        large.Dispose();
        Assert.Equal(0, pool.IdleCount);
    }

    [Fact]
    public void Disposing_a_rental_twice_returns_its_block_once()
    {
        using var pool = new ReceiveBlockPool();
        var block = pool.Rent();
        block.Dispose();
        block.Dispose();
        Assert.Equal(1, pool.IdleCount);

        using var a = pool.Rent();
        using var b = pool.Rent();
        Assert.NotSame(ArrayOf(a.Memory), ArrayOf(b.Memory));
    }

    [Fact]
    public void At_most_the_idle_bound_of_blocks_is_kept_after_a_burst()
    {
        using var pool = new ReceiveBlockPool();
        var rented = Enumerable.Range(0, ReceiveBlockPool.MaxIdleBlocks + 10).Select(_ => pool.Rent()).ToList();
        rented.ForEach(r => r.Dispose());
        Assert.Equal(ReceiveBlockPool.MaxIdleBlocks, pool.IdleCount);
    }
}
