using LokiSharp.Querier.Cache;

namespace LokiSharp.Querier.Tests;

public sealed class EmbeddedCacheTests
{
    [Fact]
    public void The_byte_bound_evicts_the_least_recently_used_entries()
    {
        var observer = new RecordingObserver();
        var cache = new EmbeddedCache<string>(new EmbeddedCacheLimits(MaxBytes: 100, MaxItems: 0, Ttl: TimeSpan.Zero), static v => v.Length, observer);

        cache.Update("a", _ => new string('x', 40));
        cache.Update("b", _ => new string('x', 40));
        Assert.True(cache.TryGet("a", out _));
        cache.Update("c", _ => new string('x', 40));

        Assert.True(cache.TryGet("a", out _));
        Assert.False(cache.TryGet("b", out _));
        Assert.True(cache.TryGet("c", out _));
        Assert.Equal(2, cache.Count);
        Assert.True(cache.Bytes <= 100);
        Assert.Equal(["full"], observer.Evictions);
    }

    [Fact]
    public void Values_larger_than_the_cache_are_not_stored_and_the_item_bound_holds()
    {
        var observer = new RecordingObserver();
        var cache = new EmbeddedCache<string>(new EmbeddedCacheLimits(MaxBytes: 50, MaxItems: 2, Ttl: TimeSpan.Zero), static v => v.Length, observer);

        cache.Update("big", _ => new string('x', 60));
        cache.Update("a", _ => "1");
        cache.Update("b", _ => "2");
        cache.Update("c", _ => "3");

        Assert.False(cache.TryGet("big", out _));
        Assert.False(cache.TryGet("a", out _));
        Assert.Equal(2, cache.Count);
        Assert.Equal(["object too big", "full"], observer.Evictions);
    }

    [Fact]
    public void Entries_expire_ttl_after_their_last_write_and_updates_see_the_current_value()
    {
        var time = new ManualTime();
        var cache = new EmbeddedCache<string>(new EmbeddedCacheLimits(MaxBytes: 0, MaxItems: 0, Ttl: TimeSpan.FromMinutes(5)), static v => v.Length, time: time);

        cache.Update("k", current => (current ?? "") + "a");
        time.Advance(TimeSpan.FromMinutes(4));
        cache.Update("k", current => (current ?? "") + "b");
        time.Advance(TimeSpan.FromMinutes(4));
        Assert.True(cache.TryGet("k", out var value));
        Assert.Equal("ab", value);

        time.Advance(TimeSpan.FromMinutes(2));
        Assert.False(cache.TryGet("k", out _));
        cache.Update("k", current => (current ?? "") + "c");
        Assert.True(cache.TryGet("k", out value));
        Assert.Equal("c", value);
    }

    private sealed class RecordingObserver : IEmbeddedCacheObserver
    {
        public List<string> Evictions { get; } = [];

        public void Fetched(bool hit)
        {
        }

        public void Added()
        {
        }

        public void Evicted(string reason)
        {
            if (reason != "replaced")
            {
                Evictions.Add(reason);
            }
        }

        public void Size(int entries, long bytes)
        {
        }
    }

    private sealed class ManualTime : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
