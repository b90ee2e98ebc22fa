using System.Net;
using System.Text.Json.Nodes;

namespace LokiSharp.IntegrationTests.ObjectStorage;

/// <summary>
/// Loki's scalable shape on one real bucket: two <c>-target=write</c> processes, each with its own WAL disk, and
/// one <c>-target=read,backend</c> process that reads the bucket and both writers' heads (found through
/// <c>memberlist.join_members</c>). What the reader answers is what one single binary answers for the same
/// pushes; a writer killed during pushes and restarted on its disk loses no acknowledged line and doubles none.
/// </summary>
public sealed partial class BucketStoreTests
{
    private string ScaleOut(string bucket, string writer, params LokiProcess[] peers)
    {
        var members = peers.Length == 0 ? ""
            : "\nmemberlist: {join_members: [" + string.Join(", ", peers.Select(p => $"'127.0.0.1:{p.GrpcPort}'")) + "]}";
        return S3(bucket, writer) + members;
    }

    [Fact]
    public async Task Two_writers_and_a_reader_on_one_bucket_answer_what_the_single_binary_answers()
    {
        var bucket = await NewBucketAsync();
        await using var local = await LokiProcess.StartAsync(Local);
        await using var writerA = await LokiProcess.StartAsync(ScaleOut(bucket, "loki-write-0"), true, "-target=write");
        await using var writerB = await LokiProcess.StartAsync(ScaleOut(bucket, "loki-write-1"), true, "-target=write");
        await using var reader = await LokiProcess.StartAsync(ScaleOut(bucket, "loki-backend-0", writerA, writerB), true, "-target=read,backend");

        // Batch 1 reaches both writers (a client retrying through another pod): the reader must return it once.
        foreach (var (writer, batches) in new[] { (writerA, new[] { 0, 1 }), (writerB, new[] { 1, 2, 3 }) })
        {
            foreach (var batch in batches)
            {
                await SendAsync(writer, HttpMethod.Post, "/loki/api/v1/push", Push(batch), HttpStatusCode.NoContent);
            }
        }

        for (var batch = 0; batch < 4; batch++)
        {
            await SendAsync(local, HttpMethod.Post, "/loki/api/v1/push", Push(batch), HttpStatusCode.NoContent);
        }

        // A's lines are in the bucket (and still in its head), B's only in B's head.
        await SendAsync(writerA, HttpMethod.Post, "/flush", null, HttpStatusCode.NoContent);
        Assert.NotEmpty(await KeysAsync(bucket, "fake/packs/loki-write-0/"));
        Assert.Empty(await KeysAsync(bucket, "fake/packs/loki-write-1/"));

        foreach (var path in new[] { QueryPath, CountPath, QueryPath.Replace("limit=1000", "limit=1000&direction=forward", StringComparison.Ordinal) })
        {
            var expected = await QueryAsync(local, path);
            Assert.Equal(expected, await EventuallyAsync(() => QueryAsync(reader, path), expected));
        }

        Assert.Equal(240, Lines(await QueryAsync(reader, QueryPath)).Count);
    }

    [Fact]
    public async Task A_writer_killed_during_pushes_and_restarted_on_its_disk_loses_and_doubles_no_acknowledged_line()
    {
        var bucket = await NewBucketAsync();
        var writer = await LokiProcess.StartAsync(ScaleOut(bucket, "loki-write-0"), true, "-target=write");
        await using var reader = await LokiProcess.StartAsync(ScaleOut(bucket, "loki-read-0", writer), true, "-target=read");
        var acknowledged = new List<int>();
        try
        {
            writer.KeepWorkDir = true;
            for (var batch = 0; batch < 6; batch++)
            {
                await SendAsync(writer, HttpMethod.Post, "/loki/api/v1/push", Push(batch), HttpStatusCode.NoContent);
                acknowledged.Add(batch);
            }

            // Half of it flushed to the bucket; then pushes keep coming while the process is killed.
            await SendAsync(writer, HttpMethod.Post, "/flush", null, HttpStatusCode.NoContent);
            var pushing = Task.Run(async () =>
            {
                for (var batch = 6; batch < 80; batch++)
                {
                    try
                    {
                        using var response = await writer.Http.PostAsync(new Uri("/loki/api/v1/push", UriKind.Relative),
                            new StringContent(Push(batch), System.Text.Encoding.UTF8, "application/json"));
                        if (response.StatusCode != HttpStatusCode.NoContent)
                        {
                            return;
                        }

                        lock (acknowledged)
                        {
                            acknowledged.Add(batch);
                        }
                    }
                    catch (HttpRequestException)
                    {
                        return;
                    }
                }
            });
            while (true)
            {
                lock (acknowledged)
                {
                    if (acknowledged.Count >= 12)
                    {
                        break;
                    }
                }

                await Task.Delay(5);
            }

            await writer.KillAsync();
            await pushing;
            var restarted = await writer.RestartAsync();
            await writer.DisposeAsync();
            writer = restarted;

            // The replayed WAL is flushed again: the bucket may now hold some lines twice, the reader returns them once.
            await SendAsync(writer, HttpMethod.Post, "/flush", null, HttpStatusCode.NoContent);
            int[] acked;
            lock (acknowledged)
            {
                acked = [.. acknowledged];
            }

            var expected = acked.SelectMany(batch => Enumerable.Range(0, 3).SelectMany(s => Enumerable.Range(0, 20).Select(i => $"batch {batch} line {i} of p{s}"))).ToHashSet();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            List<string> lines;
            do
            {
                lines = Lines(await QueryAsync(reader, QueryPath.Replace("limit=1000", "limit=5000", StringComparison.Ordinal)));
                if (expected.IsSubsetOf(lines))
                {
                    break;
                }

                await Task.Delay(200);
            }
            while (DateTime.UtcNow < deadline);

            Assert.Empty(expected.Except(lines));
            Assert.Empty(lines.GroupBy(l => l).Where(g => g.Count() > 1).Select(g => g.Key));
        }
        finally
        {
            writer.KeepWorkDir = false;
            await writer.DisposeAsync();
        }
    }

    private static List<string> Lines(string json) =>
        JsonNode.Parse(json)!["data"]!["result"]!.AsArray().SelectMany(s => s!["values"]!.AsArray().Select(v => v![1]!.GetValue<string>())).ToList();
}
