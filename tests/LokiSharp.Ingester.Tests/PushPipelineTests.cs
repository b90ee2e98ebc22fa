using System.Buffers;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using LokiSharp.Ingester.Limits;
using LokiSharp.Ingester.Push;
using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Reading;
using LokiSharp.Storage.Store;
using LokiSharp.Tests.Logproto;
using Prometheus;
using MatchType = LokiSharp.LogQL.Labels.MatchType;

namespace LokiSharp.Ingester.Tests;

/// <summary>
/// The push pipeline every transport shares: bounded read, decompression and decoding by endpoint and content type,
/// the push itself, and every refusal as an outcome with Loki's status and text.
/// </summary>
public sealed class PushPipelineTests : IDisposable
{
    private const string Tenant = "fake";

    private static readonly long Now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;

    private readonly string _directory = Directory.CreateTempSubdirectory("lokisharp-pipeline-").FullName;
    private readonly ChunkStore _store;
    private readonly StreamIngester _ingester;

    public PushPipelineTests()
    {
        _store = ChunkStore.Open(new StorageOptions { RootDirectory = Path.Combine(_directory, "chunks") });
        var options = new IngesterOptions { WalDirectory = Path.Combine(_directory, "wal"), FlushCheckPeriod = TimeSpan.FromHours(1) };
        _ingester = new StreamIngester(options, _store, new FixedLimits(new IngestionLimits()),
            new IngesterMetrics(Metrics.WithCustomRegistry(Metrics.NewCustomRegistry())), TimeProvider.System);
        _ingester.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

    public void Dispose()
    {
        _ingester.Dispose();
        _store.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private sealed class FixedLimits(IngestionLimits limits) : ITenantLimits
    {
        public IngestionLimits For(string tenant) => limits;
    }

    private PushPipeline Pipeline(PushSizeLimits? sizes = null, IngestionLimits? limits = null) =>
        new(_ingester, new FixedLimits(limits ?? new IngestionLimits()), sizes ?? PushSizeLimits.Default, TimeProvider.System);

    private static PushBody Body(byte[] bytes, PushEndpoint endpoint, string? contentType, string? contentEncoding = null, bool declareLength = true) =>
        new(endpoint, new MemoryStream(bytes), declareLength ? bytes.Length : null, contentType, contentEncoding);

    private static PushBody Json(string json, PushEndpoint endpoint = PushEndpoint.V1) =>
        Body(Encoding.UTF8.GetBytes(json), endpoint, "application/json");

    private static string V1Json(string app, string line) =>
        $$"""{"streams":[{"stream":{"app":"{{app}}"},"values":[["{{Now}}","{{line}}"]]}]}""";

    private List<string> Lines(string name, string value)
    {
        var lines = new List<string>();
        foreach (var stream in _ingester.SelectStreams(Tenant, [new LabelMatcher(name, MatchType.Equal, value)], 0, long.MaxValue))
        {
            using var entries = _ingester.OpenEntries(Tenant, stream, new EntryQuery(0, long.MaxValue));
            while (entries.MoveNext())
            {
                lines.Add(Encoding.UTF8.GetString(entries.Current.Line));
            }
        }

        return lines;
    }

    [Fact]
    public async Task A_v1_JSON_body_is_decoded_pushed_and_answered_204()
    {
        var outcome = await Pipeline().PushAsync(Tenant, Json(V1Json("web", "hello")), CancellationToken.None);

        Assert.Equal(new PushOutcome(204, ""), outcome);
        Assert.Equal(["hello"], Lines("app", "web"));
    }

    [Fact]
    public async Task The_legacy_endpoint_reads_the_legacy_JSON_shape()
    {
        var ts = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        var legacy = $$"""{"streams":[{"labels":"{app=\"old\"}","entries":[{"ts":"{{ts}}","line":"legacy line"}]}]}""";

        Assert.Equal(204, (await Pipeline().PushAsync(Tenant, Json(legacy, PushEndpoint.Legacy), CancellationToken.None)).StatusCode);
        Assert.Equal(["legacy line"], Lines("app", "old"));

        // The v1 endpoint does not read the legacy shape.
        Assert.NotEqual(204, (await Pipeline().PushAsync(Tenant, Json(legacy), CancellationToken.None)).StatusCode);
    }

    [Fact]
    public async Task A_snappy_protobuf_body_is_decoded_for_any_other_content_type()
    {
        var request = new PushRequest();
        var stream = new StreamAdapter { Labels = "{app=\"proto\"}" };
        stream.Entries.Add(new EntryAdapter { Timestamp = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow), Line = "from protobuf" });
        request.Streams.Add(stream);
        var body = Snappier.Snappy.CompressToArray(request.ToByteArray());

        Assert.Equal(204, (await Pipeline().PushAsync(Tenant, Body(body, PushEndpoint.V1, "application/x-protobuf"), CancellationToken.None)).StatusCode);
        Assert.Equal(["from protobuf"], Lines("app", "proto"));
    }

    [Fact]
    public async Task An_OTLP_body_is_decoded_and_mapped_to_streams()
    {
        var json = $$$"""
            {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]},
              "scopeLogs":[{"logRecords":[{"timeUnixNano":"{{{Now}}}","body":{"stringValue":"otlp line"}}]}]}]}
            """;

        Assert.Equal(204, (await Pipeline().PushAsync(Tenant, Json(json, PushEndpoint.Otlp), CancellationToken.None)).StatusCode);
        Assert.Equal(["otlp line"], Lines("service_name", "api"));
    }

    [Fact]
    public async Task A_declared_length_over_the_limit_is_413_and_the_body_is_never_read()
    {
        var body = new PushBody(PushEndpoint.V1, new WireStream(null), 101, "application/json", null);

        var outcome = await Pipeline(new PushSizeLimits(100, 100)).PushAsync(Tenant, body, CancellationToken.None);

        Assert.Equal(new PushOutcome(413, "request body too large: message size too large than max (101 vs 100)"), outcome);
    }

    [Fact]
    public async Task An_undeclared_body_over_the_limit_is_read_one_byte_past_it_then_413()
    {
        var content = new WireStream(Encoding.UTF8.GetBytes(V1Json("web", new string('x', 1000))));
        var body = new PushBody(PushEndpoint.V1, content, null, "application/json", null);

        var outcome = await Pipeline(new PushSizeLimits(100, 100)).PushAsync(Tenant, body, CancellationToken.None);

        Assert.Equal(new PushOutcome(413, "request body too large: message size too large than max (101 vs 100)"), outcome);
        Assert.Equal(101, content.BytesRead);
        Assert.Empty(Lines("app", "web"));
    }

    [Fact]
    public async Task A_decompression_bomb_gets_the_decoders_413()
    {
        var json = Encoding.UTF8.GetBytes(V1Json("web", new string('x', 10_000)));
        using var gzipped = new MemoryStream();
        using (var gzip = new GZipStream(gzipped, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(json);
        }

        var limits = new PushSizeLimits(1 << 20, 1_000);
        var expected = Assert.Throws<PushRequestException>(() =>
            PushBodyDecoder.Decode(gzipped.ToArray(), "application/json", "gzip", PushEndpoint.V1, limits.MaxDecompressedSize));

        var outcome = await Pipeline(limits).PushAsync(Tenant, Body(gzipped.ToArray(), PushEndpoint.V1, "application/json", "gzip"), CancellationToken.None);

        Assert.Equal(413, outcome.StatusCode);
        Assert.Equal(new PushOutcome(expected.StatusCode, expected.Message), outcome);
    }

    [Theory]
    [InlineData(PushEndpoint.V1, "", null, 400, "mime: no media type")]
    [InlineData(PushEndpoint.V1, "application/json", "br", 400, "Content-Encoding \"br\" not supported")]
    [InlineData(PushEndpoint.Otlp, "text/plain", null, 400, "content type: text/plain is not supported")]
    [InlineData(PushEndpoint.Otlp, "application/json", "lz4", 400, "unsupported content encoding lz4: only gzip, lz4 and zstd are supported")]
    public async Task Decoder_refusals_are_outcomes_with_the_decoders_status_and_text(PushEndpoint endpoint, string contentType, string? encoding,
        int status, string message)
    {
        var outcome = await Pipeline().PushAsync(Tenant, Body("{}"u8.ToArray(), endpoint, contentType, encoding), CancellationToken.None);

        Assert.Equal(new PushOutcome(status, message), outcome);
    }

    [Fact]
    public async Task Ingester_refusals_are_outcomes_too()
    {
        var empty = await Pipeline().PushAsync(Tenant, Json("""{"streams":[]}"""), CancellationToken.None);
        Assert.Equal(new PushOutcome(422, "error at least one valid stream is required for ingestion"), empty);

        var old = """{"streams":[{"stream":{"app":"web"},"values":[["946684800000000000","from 2000"]]}]}""";
        var tooOld = await Pipeline().PushAsync(Tenant, Json(old), CancellationToken.None);
        Assert.Equal(400, tooOld.StatusCode);
        Assert.Contains("has timestamp too old: 2000-01-01T00:00:00Z", tooOld.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Transport_failures_are_not_outcomes_they_propagate()
    {
        var body = new PushBody(PushEndpoint.V1, new WireStream(null), null, "application/json", null);

        await Assert.ThrowsAsync<IOException>(() => Pipeline().PushAsync(Tenant, body, CancellationToken.None));
    }

    [Fact]
    public async Task A_gRPC_message_decodes_alike_in_one_segment_or_several_and_pushes_as_a_batch()
    {
        var request = new PushRequest();
        var stream = new StreamAdapter { Labels = "{app=\"grpc\"}" };
        stream.Entries.Add(new EntryAdapter { Timestamp = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow), Line = "over grpc" });
        request.Streams.Add(stream);
        var bytes = request.ToByteArray();

        using var whole = PushPipeline.DecodeMessage(new ReadOnlySequence<byte>(bytes));
        using var split = PushPipeline.DecodeMessage(Segmented(bytes, 3));
        Assert.Equal(whole.Streams, split.Streams);
        Assert.Equal(whole.Entries.ToArray().Select(e => e.TimestampNs), split.Entries.ToArray().Select(e => e.TimestampNs));

        Assert.Equal(new PushOutcome(204, ""), await Pipeline().PushAsync(Tenant, whole, CancellationToken.None));
        Assert.Equal(["over grpc"], Lines("app", "grpc"));

        var error = Assert.Throws<PushRequestException>(() => PushPipeline.DecodeMessage(new ReadOnlySequence<byte>([0x0a, 0xff, 0xff])));
        Assert.Equal(400, error.StatusCode);

        using var empty = new PushBatch();
        Assert.Equal(new PushOutcome(422, "error at least one valid stream is required for ingestion"),
            await Pipeline().PushAsync(Tenant, empty, CancellationToken.None));
    }

    private static ReadOnlySequence<byte> Segmented(byte[] bytes, int size)
    {
        var first = new Segment(bytes.AsMemory(0, Math.Min(size, bytes.Length)), 0);
        var last = first;
        for (var offset = size; offset < bytes.Length; offset += size)
        {
            last = last.Append(bytes.AsMemory(offset, Math.Min(size, bytes.Length - offset)));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    // A body off the wire: counts what is read from it, or fails like a client going away when it has no bytes.
    private sealed class WireStream(byte[]? bytes) : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (bytes is null)
            {
                throw new IOException("the client went away");
            }

            var read = (int)Math.Min(buffer.Length, bytes.Length - BytesRead);
            bytes.AsSpan((int)BytesRead, read).CopyTo(buffer);
            BytesRead += read;
            return read;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            bytes is null ? ValueTask.FromException<int>(new IOException("the client went away")) : ValueTask.FromResult(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
