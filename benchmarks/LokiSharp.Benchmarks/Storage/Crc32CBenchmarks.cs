using BenchmarkDotNet.Attributes;
using LokiSharp.Storage.Hashing;

namespace LokiSharp.Benchmarks.Storage;

/// <summary>
/// CRC32C over a buffer the size of a WAL record (150 KB at the reference push) and of a chunk block: one lane of the
/// CRC32C instruction against three interleaved lanes (what <see cref="Crc32C.Compute"/> does from 24 KiB on).
/// </summary>
public class Crc32CBenchmarks
{
    private byte[] _data = [];

    /// <summary>Bytes checksummed per call.</summary>
    [Params(4 * 1024, 150 * 1024, 1024 * 1024)]
    public int Length { get; set; }

    /// <summary>Random bytes.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _data = new byte[Length];
        new Random(1).NextBytes(_data);
    }

    /// <summary>One lane, as before.</summary>
    [Benchmark(Baseline = true)]
    public uint OneLane() => Crc32C.AppendOneLaneForTest(0, _data);

    /// <summary>Three interleaved lanes.</summary>
    [Benchmark]
    public uint Interleaved() => Crc32C.Compute(_data);
}
