using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Codecs;
using LokiSharp.Storage.Reading;
using LokiSharp.Storage.Store;

namespace LokiSharp.Storage.Tests;

/// <summary>A directory deleted after the test.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory() =>
        Path = Directory.CreateTempSubdirectory("lokisharp-storage-").FullName;

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort; the OS temp cleaner gets the rest.
        }
    }
}

internal static class TestData
{
    public const long Second = 1_000_000_000L;
    public const long Day = 86_400 * Second;

    // 2024-01-01T00:00:00Z
    public const long Base = 1_704_067_200L * Second;

    public static LabelSet Labels(params (string, string)[] pairs) => LabelSet.From(pairs);

    public static ChunkWrite Chunk(LabelSet labels, IEnumerable<(long Ts, string Line)> entries,
        ChunkEncoding encoding = ChunkEncoding.Snappy, int blockSize = 4096)
    {
        using var builder = new ChunkBuilder(encoding, blockSize);
        foreach (var (ts, line) in entries)
        {
            builder.Append(ts, line);
        }

        var output = new PooledBufferWriter();
        var summary = builder.Finish(output);
        return new ChunkWrite(labels, output.WrittenSpan.ToArray(), summary);
    }

    public static IEnumerable<(long, string)> Lines(long start, long step, int count, string prefix = "line") =>
        Enumerable.Range(0, count).Select(i => (start + (i * step), $"{prefix} {i} level=info msg=hello"));

    public static List<(long Ts, string Line)> ReadAll(ILogSource source, string tenant, LabelSet labels,
        in EntryQuery query, out IReadOnlyList<string> warnings)
    {
        var result = new List<(long, string)>();
        using var it = source.OpenEntries(tenant, new SelectedStream(labels, 0), query);
        while (it.MoveNext())
        {
            var e = it.Current;
            result.Add((e.Timestamp, System.Text.Encoding.UTF8.GetString(e.Line)));
        }

        warnings = [.. it.Warnings];
        return result;
    }

    public static StorageOptions Options(string root, params SchemaPeriod[] periods) => new()
    {
        RootDirectory = root,
        SchemaPeriods = periods,
    };
}
