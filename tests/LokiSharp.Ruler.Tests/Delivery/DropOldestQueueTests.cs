using LokiSharp.Ruler.Delivery;

namespace LokiSharp.Ruler.Tests.Delivery;

public sealed class DropOldestQueueTests
{
    [Fact]
    public void A_full_queue_drops_its_oldest_items_and_says_how_many()
    {
        var queue = new DropOldestQueue<int>(3);
        Assert.Equal(0, queue.Enqueue([1, 2]));
        Assert.Equal(2, queue.Enqueue([3, 4, 5]));
        Assert.Equal(3, queue.Count);
        Assert.Equal([3, 4, 5], queue.Take(10));
        Assert.Empty(queue.Take(10));
    }

    [Fact]
    public void More_new_items_than_the_capacity_keep_the_newest()
    {
        var queue = new DropOldestQueue<int>(2);
        queue.Enqueue([1]);
        Assert.Equal(3, queue.Enqueue([2, 3, 4, 5]));
        Assert.Equal([4, 5], queue.Take(10));
    }

    [Fact]
    public void Take_returns_the_oldest_in_order_up_to_the_maximum()
    {
        var queue = new DropOldestQueue<int>(100);
        queue.Enqueue([.. Enumerable.Range(0, 100)]);
        Assert.Equal(Enumerable.Range(0, 64), queue.Take(64));
        Assert.Equal(Enumerable.Range(64, 36), queue.Take(64));
    }

    [Fact]
    public async Task A_wait_completes_once_items_were_added()
    {
        var queue = new DropOldestQueue<int>(4);
        var wait = queue.WaitAsync(CancellationToken.None);
        Assert.False(wait.IsCompleted);
        queue.Enqueue([1]);
        queue.Enqueue([2]);
        await wait;
        Assert.Equal([1, 2], queue.Take(4));
    }
}
