using System.IO.Compression;
using System.Text;
using LokiSharp.Ingester.Otlp;
using LokiSharp.Ingester.Push;
using LokiSharp.Tests.Shared;

namespace LokiSharp.Ingester.Tests;

/// <summary>Decompression bombs: the inflated size is bounded while inflating, with Loki's 413 text.</summary>
public sealed class DecompressionLimitTests
{
    private const int Limit = 1 << 20;

    /// <summary>An endless run of zeros that counts what was read from it, standing in for an inflater.</summary>
    private sealed class EndlessZeros : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            buffer.AsSpan(offset, count).Clear();
            BytesRead += count;
            return count;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static byte[] Deflate(byte[] data)
    {
        using var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.SmallestSize))
        {
            zlib.Write(data);
        }

        return output.ToArray();
    }

    [Fact]
    public void Reading_stops_one_byte_past_the_limit()
    {
        var source = new EndlessZeros();

        var error = Assert.Throws<PushRequestException>(() => BoundedDecompression.ReadAll(source, 100, Limit, out _));

        Assert.Equal(413, error.StatusCode);
        Assert.Equal($"request body too large: decompressed message size too large than max ({Limit + 1} vs {Limit})", error.Message);
        Assert.Equal(Limit + 1, source.BytesRead);
    }

    [Fact]
    public void A_body_of_exactly_the_limit_inflates_and_one_byte_more_does_not()
    {
        var json = Encoding.UTF8.GetBytes("""{"streams":[{"stream":{"a":"b"},"values":[["1","zipped"]]}]}""");
        using var gzipped = new MemoryStream();
        using (var gzip = new GZipStream(gzipped, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(json);
        }

        using var batch = PushBodyDecoder.Decode(gzipped.ToArray(), "application/json", "gzip", PushEndpoint.V1, maxDecompressedSize: json.Length);
        var error = Assert.Throws<PushRequestException>(() =>
            PushBodyDecoder.Decode(gzipped.ToArray(), "application/json", "gzip", PushEndpoint.V1, maxDecompressedSize: json.Length - 1));

        Assert.Equal("zipped", Encoding.UTF8.GetString(batch.Line(batch.Entries[0])));
        Assert.Equal($"request body too large: decompressed message size too large than max ({json.Length} vs {json.Length - 1})", error.Message);
    }

    [Theory]
    [InlineData("gzip", "application/json")]
    [InlineData("gzip", "application/x-protobuf")]
    [InlineData("deflate", "application/json")]
    public void Gzip_and_deflate_bombs_are_413_at_the_limit(string encoding, string contentType)
    {
        var bomb = encoding == "gzip" ? HostileBodies.GzipBomb(64) : Deflate(new byte[64 << 20]);

        var error = Assert.Throws<PushRequestException>(() => PushBodyDecoder.Decode(bomb, contentType, encoding, PushEndpoint.V1, Limit));

        Assert.Equal(413, error.StatusCode);
        Assert.Equal($"request body too large: decompressed message size too large than max ({Limit + 1} vs {Limit})", error.Message);
    }

    [Theory]
    [InlineData(new byte[] { 0xff, 0xff, 0xff, 0xff, 0x0f }, 4294967295L)]
    [InlineData(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x08 }, 2147483648L)]
    [InlineData(new byte[] { 0x81, 0x80, 0x40 }, 1048577L)]
    public void A_snappy_block_declaring_more_than_the_limit_is_413_before_anything_is_allocated(byte[] preamble, long declared)
    {
        byte[] body = [.. preamble, 0x00, 0x61];

        var error = Assert.Throws<PushRequestException>(() => PushBodyDecoder.Decode(body, "application/x-protobuf", null, PushEndpoint.V1, Limit));

        Assert.Equal(413, error.StatusCode);
        Assert.Equal($"request body too large: decompressed message size too large than max ({declared} vs {Limit})", error.Message);
    }

    [Fact]
    public void A_snappy_claim_no_block_of_its_size_could_expand_to_is_corrupt_and_real_blocks_pass()
    {
        // 512 KiB claimed by a 4-byte body: within the limit, but no snappy block of 4 bytes decodes to that.
        byte[] claim = [0x80, 0x80, 0x20, 0x00];
        var request = new LokiSharp.Tests.Logproto.PushRequest();
        request.Streams.Add(new LokiSharp.Tests.Logproto.StreamAdapter
        {
            Labels = "{a=\"b\"}",
            Entries = { new LokiSharp.Tests.Logproto.EntryAdapter { Line = new string('a', Limit / 2) } },
        });
        var compressible = Snappier.Snappy.CompressToArray(Google.Protobuf.MessageExtensions.ToByteArray(request));

        var error = Assert.Throws<PushRequestException>(() => PushBodyDecoder.Decode(claim, "application/x-protobuf", null, PushEndpoint.V1, Limit));
        using var batch = PushBodyDecoder.Decode(compressible, "application/x-protobuf", null, PushEndpoint.V1, Limit);

        Assert.Equal((400, "snappy: corrupt input"), (error.StatusCode, error.Message));
        Assert.Equal(Limit / 2, batch.Entries[0].LineLength);
        Assert.True(compressible.Length * 15 < Limit / 2, $"{compressible.Length} bytes compressed");
    }

    [Theory]
    [InlineData(new byte[] { 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 })]
    [InlineData(new byte[] { 0xff, 0xff, 0xff, 0xff, 0x1f })]
    [InlineData(new byte[] { 0x80 })]
    [InlineData(new byte[0])]
    public void A_snappy_preamble_that_is_not_a_32_bit_length_is_corrupt(byte[] body)
    {
        var error = Assert.Throws<PushRequestException>(() => PushBodyDecoder.Decode(body, "application/x-protobuf", null, PushEndpoint.V1, Limit));

        Assert.Equal(400, error.StatusCode);
        Assert.Equal("snappy: corrupt input", error.Message);
    }

    [Fact]
    public void The_default_limit_is_the_wire_limit()
    {
        var error = Assert.Throws<PushRequestException>(() => PushBodyDecoder.Decode(HostileBodies.GzipBomb(101), "application/json", "gzip", PushEndpoint.V1));

        Assert.Equal("request body too large: decompressed message size too large than max (104857601 vs 104857600)", error.Message);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("zstd")]
    public void OTLP_gzip_and_zstd_bombs_are_413_at_the_limit(string encoding)
    {
        byte[] bomb;
        if (encoding == "gzip")
        {
            bomb = HostileBodies.GzipBomb(64);
        }
        else
        {
            using var zstd = new ZstdSharp.Compressor();
            bomb = zstd.Wrap(new byte[64 << 20]).ToArray();
        }

        var error = Assert.Throws<PushRequestException>(() =>
            OtlpLogsDecoder.Decode(bomb, "application/x-protobuf", encoding, new OtlpMapping(), 5, Limit));

        Assert.Equal(413, error.StatusCode);
        Assert.Equal($"request body too large: decompressed message size too large than max ({Limit + 1} vs {Limit})", error.Message);
    }
}
