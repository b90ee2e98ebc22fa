using BenchmarkDotNet.Attributes;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Codecs;

namespace LokiSharp.Benchmarks.Storage;

/// <summary>
/// Chunk encode (append + compress + content filters) and decode (checksum + decompress + entry indexing) of
/// 16 MB of synthetic logs per codec. MB/s = 16 / mean seconds. Setup prints the stored/raw ratio.
/// </summary>
[MemoryDiagnoser]
public class CodecBenchmarks
{
    private List<(long Ts, byte[] Line)> _lines = [];
    private byte[] _chunk = [];
    private ChunkLayout? _layout;
    private PooledBufferWriter _output = null!;
    private readonly DecodedBlock _block = new();
    private ChunkBuilder? _builder;

    /// <summary>Codec under test.</summary>
    [ParamsAllValues]
    public ChunkEncoding Encoding { get; set; }

    /// <summary>Raw bytes of logs in the chunk (the allocation budget test makes it small).</summary>
    public int RawBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Builds the data and one encoded chunk.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _output = new PooledBufferWriter(RawBytes);
        _lines = SyntheticLogs.Generate(RawBytes);
        _builder = new ChunkBuilder(Encoding);
        Encode();
        _chunk = _output.WrittenSpan.ToArray();
        _layout = ChunkLayout.Parse(_chunk);
        long raw = 0;
        foreach (var (_, line) in _lines)
        {
            raw += line.Length;
        }

        long filters = 0;
        foreach (var b in _layout.Blocks)
        {
            filters += b.FilterSize;
        }

        Console.WriteLine($"// {ChunkEncodings.Name(Encoding)}: stored/raw = {(double)_chunk.Length / raw:F3}, " +
            $"content filters = {(double)filters / _chunk.Length:P2} of stored, blocks = {_layout.Blocks.Count}");
    }

    /// <summary>Builds the chunk.</summary>
    [Benchmark]
    public int Encode()
    {
        _output.Clear();
        foreach (var (ts, line) in _lines)
        {
            _builder!.Append(ts, line);
        }

        return _builder!.Finish(_output).StoredBytes;
    }

    /// <summary>Decodes every block without reading lines (what timestamp-only metric queries pay).</summary>
    [Benchmark]
    public int Decode()
    {
        var n = 0;
        foreach (var block in _layout!.Blocks)
        {
            _block.Decode(_chunk, _layout.Encoding, block);
            n += _block.Count;
        }

        return n;
    }

    /// <summary>
    /// Decodes every block and reads every line, as a query that scans lines does: codecs whose blocks store lines
    /// split into templates and variables pay for rebuilding them only here.
    /// </summary>
    [Benchmark]
    public long DecodeAndReadLines()
    {
        long bytes = 0;
        foreach (var block in _layout!.Blocks)
        {
            _block.Decode(_chunk, _layout.Encoding, block);
            for (var i = 0; i < _block.Count; i++)
            {
                bytes += _block.LineAt(i).Length;
            }
        }

        return bytes;
    }

    /// <summary>Releases buffers.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _builder?.Dispose();
        _output.Dispose();
        _block.Dispose();
    }
}
