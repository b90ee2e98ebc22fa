using System.Buffers;
using System.Diagnostics;
using LokiSharp.Ingester.Push;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Codecs;
using ZstdSharp;
using ZstdSharp.Unsafe;

namespace LokiSharp.Benchmarks.Storage;

/// <summary>
/// Console study over a perf dataset folder (perf.py's snappy protobuf push bodies): per stream, cuts the entries
/// into blocks and reports stored/raw, compress CPU-seconds per GB and decode MB/s for chunk layout and zstd
/// variants. Run: <c>dotnet run -c Release --project benchmarks/LokiSharp.Benchmarks -- compression-study DIR [variant...]</c>.
/// </summary>
internal static class CompressionStudy
{
    private sealed class StreamData
    {
        public readonly List<long> Timestamps = [];
        public readonly List<int> Starts = [];
        public readonly List<int> Lengths = [];
        public byte[] Arena = new byte[1 << 16];
        public int Used;

        public void Add(long ts, ReadOnlySpan<byte> line)
        {
            if (Used + line.Length > Arena.Length)
            {
                Array.Resize(ref Arena, Math.Max(Arena.Length * 2, Used + line.Length));
            }

            line.CopyTo(Arena.AsSpan(Used));
            Timestamps.Add(ts);
            Starts.Add(Used);
            Lengths.Add(line.Length);
            Used += line.Length;
        }

        public ReadOnlySpan<byte> Line(int i) => Arena.AsSpan(Starts[i], Lengths[i]);
    }

    private delegate void BlockLayout(StreamData s, int from, int to, PooledBufferWriter output);

    public static void Run(string[] args)
    {
        var dir = args[0];
        var only = args.Skip(1).ToHashSet(StringComparer.Ordinal);
        var streams = Load(dir);
        long raw = 0, entries = 0;
        foreach (var s in streams)
        {
            raw += s.Used;
            entries += s.Timestamps.Count;
        }

        Console.WriteLine($"streams {streams.Count}, entries {entries}, raw line bytes {raw}");

        bool Want(string name) => only.Count == 0 || only.Contains(name) || only.Any(o => name.StartsWith(o, StringComparison.Ordinal));

        if (Want("chunkbuilder"))
        {
            ChunkBuilderBaseline(streams, raw, ChunkEncoding.Zstd);
            ChunkBuilderBaseline(streams, raw, ChunkEncoding.Snappy);
            ChunkBuilderBaseline(streams, raw, ChunkEncoding.Lz4_256K);
        }

        foreach (var level in new[] { 3, 6, 9, 12, 15, 19 })
        {
            foreach (var size in new[] { 256, 1024 })
            {
                if (Want($"row-l{level}-{size}k"))
                {
                    Measure($"row-l{level}-{size}k", streams, raw, size * 1024, Row, Zstd(level));
                }

                if (Want($"col-l{level}-{size}k"))
                {
                    Measure($"col-l{level}-{size}k", streams, raw, size * 1024, Columnar, Zstd(level));
                }
            }
        }

        foreach (var level in new[] { 3, 5, 6, 7, 8, 9, 12 })
        {
            foreach (var size in new[] { 256, 512, 1024 })
            {
                if (Want($"sep-l{level}-{size}k"))
                {
                    Measure($"sep-l{level}-{size}k", streams, raw, size * 1024, Separated, Zstd(level));
                }

                if (Want($"vars-l{level}-{size}k"))
                {
                    Measure($"vars-l{level}-{size}k", streams, raw, size * 1024, Variables, Zstd(level));
                }

                if (Want($"planes-l{level}-{size}k"))
                {
                    Measure($"planes-l{level}-{size}k", streams, raw, size * 1024, Planes, Zstd(level));
                }
            }
        }

        foreach (var arg in only.Where(o => o.StartsWith("custom:", StringComparison.Ordinal)))
        {
            // custom:size=1024,level=9,strategy=7,window=20,chain=16,hash=17,search=2,minmatch=4,target=32
            var settings = arg["custom:".Length..].Split(',').Select(kv => kv.Split('='))
                .ToDictionary(kv => kv[0], kv => int.Parse(kv[1], System.Globalization.CultureInfo.InvariantCulture));
            Measure(arg, streams, raw, settings["size"] * 1024, Planes, () =>
            {
                var c = new Compressor(settings.GetValueOrDefault("level", 3));
                foreach (var (key, value) in settings)
                {
                    var parameter = key switch
                    {
                        "strategy" => ZSTD_cParameter.ZSTD_c_strategy,
                        "window" => ZSTD_cParameter.ZSTD_c_windowLog,
                        "chain" => ZSTD_cParameter.ZSTD_c_chainLog,
                        "hash" => ZSTD_cParameter.ZSTD_c_hashLog,
                        "search" => ZSTD_cParameter.ZSTD_c_searchLog,
                        "minmatch" => ZSTD_cParameter.ZSTD_c_minMatch,
                        "target" => ZSTD_cParameter.ZSTD_c_targetLength,
                        _ => (ZSTD_cParameter)(-1),
                    };
                    if ((int)parameter != -1)
                    {
                        c.SetParameter(parameter, value);
                    }
                }

                return c;
            });
        }

        foreach (var arg in only.Where(o => o.StartsWith("tdict:", StringComparison.Ordinal)))
        {
            // tdict:level,sizeK,dictK — one dictionary for the tenant, trained on the first 64 KiB of every stream.
            var p = arg["tdict:".Length..].Split(',').Select(x => int.Parse(x, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            var samples = new List<byte[]>();
            using (var w = new PooledBufferWriter(1 << 20))
            {
                foreach (var st in streams)
                {
                    var from = 0;
                    for (var k = 0; k < 4 && from < st.Timestamps.Count; k++)
                    {
                        var to = Math.Min(st.Timestamps.Count, from + 150);
                        w.Clear();
                        Planes(st, from, to, w);
                        samples.Add(w.WrittenSpan.ToArray());
                        from = to;
                    }
                }
            }

            var dict = DictBuilder.TrainFromBuffer(samples, p[2] * 1024);
            Console.WriteLine($"// tenant dictionary {dict.Length} bytes = {(double)dict.Length / raw:F5} of raw");
            Measure(arg, streams, raw, p[1] * 1024, Planes, () =>
            {
                var c = new Compressor(p[0]);
                c.LoadDictionary(dict);
                return c;
            }, dict);
        }

        if (Want("lines-only"))
        {
            Measure("lines-only-l19-256k", streams, raw, 256 * 1024, LinesOnly, Zstd(19));
            Measure("ts-only-l19-256k", streams, raw, 256 * 1024, TimestampsOnly, Zstd(19));
        }

        if (Want("stream"))
        {
            // Whole stream as one frame: the floor for what any block layout can reach.
            Measure("col-l19-stream", streams, raw, int.MaxValue, Columnar, Zstd(19, window: 27));
            Measure("col-l19-ldm-stream", streams, raw, int.MaxValue, Columnar, Zstd(19, window: 27, ldm: true));
        }

        if (Want("dict"))
        {
            foreach (var level in new[] { 3, 19 })
            {
                DictionaryStudy(streams, raw, level, 256 * 1024, 112 * 1024);
            }
        }
    }

    private static Func<Compressor> Zstd(int level, int window = 0, bool ldm = false) => () =>
    {
        var c = new Compressor(level);
        if (window > 0)
        {
            c.SetParameter(ZSTD_cParameter.ZSTD_c_windowLog, window);
        }

        if (ldm)
        {
            c.SetParameter(ZSTD_cParameter.ZSTD_c_enableLongDistanceMatching, 1);
        }

        return c;
    };

    private static List<StreamData> Load(string dir)
    {
        var byLabels = new Dictionary<string, StreamData>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(dir, "*.bin").Order(StringComparer.Ordinal))
        {
            using var batch = PushBodyDecoder.Decode(File.ReadAllBytes(file), "application/x-protobuf", null, PushEndpoint.V1);
            foreach (var stream in batch.Streams)
            {
                if (!byLabels.TryGetValue(stream.Labels, out var data))
                {
                    byLabels[stream.Labels] = data = new StreamData();
                }

                foreach (var e in batch.EntriesOf(stream))
                {
                    data.Add(e.TimestampNs, batch.Line(e));
                }
            }
        }

        // The head sorts by time before compressing; the dataset is pushed in order per stream anyway.
        foreach (var s in byLabels.Values)
        {
            for (var i = 1; i < s.Timestamps.Count; i++)
            {
                if (s.Timestamps[i] < s.Timestamps[i - 1])
                {
                    throw new InvalidOperationException("dataset stream out of order");
                }
            }
        }

        return [.. byLabels.Values];
    }

    private static void ChunkBuilderBaseline(List<StreamData> streams, long raw, ChunkEncoding encoding)
    {
        using var builder = new ChunkBuilder(encoding);
        using var output = new PooledBufferWriter(1 << 20);
        long stored = 0;
        long filters = 0;
        var chunks = new List<byte[]>();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        foreach (var s in streams)
        {
            // One chunk per 256 KiB part, as the head flushes today.
            for (var i = 0; i < s.Timestamps.Count; i++)
            {
                builder.Append(s.Timestamps[i], s.Line(i));
                if (builder.UncompressedBytes >= ChunkFormat.DefaultTargetBlockSize || i == s.Timestamps.Count - 1)
                {
                    output.Clear();
                    stored += builder.Finish(output).StoredBytes;
                    chunks.Add(output.WrittenSpan.ToArray());
                }
            }
        }

        var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        using var block = new DecodedBlock();

        // Best of three passes over every block (checksum, decompress, locate entries; then also every line): the
        // first also warms the JIT.
        var decode = double.MaxValue;
        var decodeLines = double.MaxValue;
        long lineBytes = 0;
        for (var pass = 0; pass < 6; pass++)
        {
            filters = 0;
            var sw = Stopwatch.StartNew();
            foreach (var chunk in chunks)
            {
                var layout = ChunkLayout.Parse(chunk);
                foreach (var b in layout.Blocks)
                {
                    filters += b.FilterSize;
                    block.Decode(chunk, layout.Encoding, b);
                    for (var i = 0; pass >= 3 && i < block.Count; i++)
                    {
                        lineBytes += block.LineAt(i).Length;
                    }
                }
            }

            if (pass < 3)
            {
                decode = Math.Min(decode, sw.Elapsed.TotalSeconds);
            }
            else
            {
                decodeLines = Math.Min(decodeLines, sw.Elapsed.TotalSeconds);
            }
        }

        if (lineBytes != 3 * raw)
        {
            throw new InvalidOperationException("decoded lines do not add up to the raw bytes");
        }

        Console.WriteLine($"{"chunkbuilder-" + ChunkEncodings.Name(encoding),-28} ratio {(double)stored / raw:F4}  filters {(double)filters / raw:F4}  " +
            $"chunks {chunks.Count}  encode {cpuSeconds / (raw / 1e9):F1} cpu-s/GB  decode {raw / 1e6 / decode:F0} MB/s, " +
            $"with every line {raw / 1e6 / decodeLines:F0} MB/s");
    }

    private static void Measure(string name, List<StreamData> streams, long raw, int blockSize, BlockLayout layout, Func<Compressor> make,
        byte[]? dictionary = null)
    {
        using var compressor = make();
        using var decompressor = new Decompressor();
        if (dictionary is not null)
        {
            decompressor.LoadDictionary(dictionary);
        }

        using var rawBlock = new PooledBufferWriter(1 << 20);
        long compressed = 0;
        long rawBlocks = 0;
        var frames = new List<(byte[] Frame, int RawSize)>();
        var compressTime = TimeSpan.Zero;
        foreach (var s in streams)
        {
            var from = 0;
            while (from < s.Timestamps.Count)
            {
                var to = BlockEnd(s, from, blockSize);

                rawBlock.Clear();
                layout(s, from, to, rawBlock);
                var sw = Stopwatch.StartNew();
                var frame = compressor.Wrap(rawBlock.WrittenSpan).ToArray();
                compressTime += sw.Elapsed;
                compressed += frame.Length;
                rawBlocks += rawBlock.WrittenCount;
                frames.Add((frame, rawBlock.WrittenCount));
                from = to;
            }
        }

        var buffer = ArrayPool<byte>.Shared.Rent(frames.Max(f => f.RawSize));
        var decodeWatch = Stopwatch.StartNew();
        foreach (var (frame, rawSize) in frames)
        {
            decompressor.Unwrap(frame, buffer.AsSpan(0, rawSize));
        }

        var decode = decodeWatch.Elapsed.TotalSeconds;
        ArrayPool<byte>.Shared.Return(buffer);
        Console.WriteLine($"{name,-28} ratio {(double)compressed / raw:F4}  blocks {frames.Count}  " +
            $"encode {compressTime.TotalSeconds / (raw / 1e9):F1} s/GB  decompress {rawBlocks / 1e6 / decode:F0} MB/s");
    }

    private static void DictionaryStudy(List<StreamData> streams, long raw, int level, int blockSize, int dictSize)
    {
        // Per-stream dictionary trained on the stream's first ~1 MiB of lines, stored once per stream.
        using var rawBlock = new PooledBufferWriter(1 << 20);
        long compressed = 0, dictBytes = 0;
        var sw = Stopwatch.StartNew();
        foreach (var s in streams)
        {
            var samples = new List<byte[]>();
            long sampled = 0;
            for (var i = 0; i < s.Timestamps.Count && sampled < 1 << 20; i++)
            {
                samples.Add(s.Line(i).ToArray());
                sampled += s.Lengths[i];
            }

            var dict = DictBuilder.TrainFromBuffer(samples, dictSize);
            dictBytes += dict.Length;
            using var compressor = new Compressor(level);
            compressor.LoadDictionary(dict);
            var from = 0;
            while (from < s.Timestamps.Count)
            {
                var to = BlockEnd(s, from, blockSize);

                rawBlock.Clear();
                Columnar(s, from, to, rawBlock);
                compressed += compressor.Wrap(rawBlock.WrittenSpan).Length;
                from = to;
            }
        }

        Console.WriteLine($"dict-stream-col-l{level,-2}-{blockSize / 1024}k   ratio {(double)compressed / raw:F4} + " +
            $"dicts {(double)dictBytes / raw:F4}  ({sw.Elapsed.TotalSeconds:F1} s incl. training)");
    }

    // Today's block payload: per entry varint ts delta, varint line length, line, varint 0 (no metadata).
    private static void Row(StreamData s, int from, int to, PooledBufferWriter output)
    {
        var previous = s.Timestamps[from];
        for (var i = from; i < to; i++)
        {
            Varint.Write(output, (ulong)(s.Timestamps[i] - previous));
            previous = s.Timestamps[i];
            Varint.Write(output, (ulong)s.Lengths[i]);
            output.Write(s.Line(i));
            Varint.Write(output, 0);
        }
    }

    // Columns: all ts deltas, all line lengths, all metadata (pair counts), then the lines back to back.
    private static void Columnar(StreamData s, int from, int to, PooledBufferWriter output)
    {
        TimestampsOnly(s, from, to, output);
        for (var i = from; i < to; i++)
        {
            Varint.Write(output, (ulong)s.Lengths[i]);
        }

        for (var i = from; i < to; i++)
        {
            Varint.Write(output, 0);
        }

        LinesOnly(s, from, to, output);
    }

    // The end of the block starting at from: entries until about blockSize raw bytes (3 bytes of framing each).
    private static int BlockEnd(StreamData s, int from, int blockSize)
    {
        var to = from;
        long size = 0;
        while (to < s.Timestamps.Count && size < blockSize)
        {
            size += s.Lengths[to] + 3;
            to++;
        }

        return to;
    }

    // Timestamp deltas as byte planes (width byte first), then an empty metadata column.
    private static void WritePlanesAndEmptyMetadata(StreamData s, int from, int to, PooledBufferWriter output)
    {
        var n = to - from;
        var previous = s.Timestamps[from];
        ulong max = 0;
        for (var i = from; i < to; i++)
        {
            max = Math.Max(max, (ulong)(s.Timestamps[i] - previous));
            previous = s.Timestamps[i];
        }

        var width = Math.Max(1, (64 - System.Numerics.BitOperations.LeadingZeroCount(max) + 7) / 8);
        output.GetSpan(1)[0] = (byte)width;
        output.Advance(1);
        var span = output.GetSpan(n * width);
        previous = s.Timestamps[from];
        for (var i = from; i < to; i++)
        {
            var d = (ulong)(s.Timestamps[i] - previous);
            previous = s.Timestamps[i];
            for (var b = 0; b < width; b++)
            {
                span[(b * n) + (i - from)] = (byte)(d >> (8 * b));
            }
        }

        output.Advance(n * width);
        for (var i = from; i < to; i++)
        {
            Varint.Write(output, 0);
        }
    }

    // Timestamp deltas as byte planes, then metadata column, then lines each followed by a separator byte.
    private static void Planes(StreamData s, int from, int to, PooledBufferWriter output)
    {
        WritePlanesAndEmptyMetadata(s, from, to, output);

        for (var i = from; i < to; i++)
        {
            output.Write(s.Line(i));
            Varint.Write(output, 10);
        }
    }

    private static readonly System.Buffers.SearchValues<byte> TokenBytes =
        System.Buffers.SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._-"u8);

    // Planes layout, but tokens holding a digit move to a variables column and leave a marker in the line.
    private static void Variables(StreamData s, int from, int to, PooledBufferWriter output)
    {
        WritePlanesAndEmptyMetadata(s, from, to, output);

        using var vars = new PooledBufferWriter(1 << 18);
        for (var i = from; i < to; i++)
        {
            var line = s.Line(i);
            var p = 0;
            while (p < line.Length)
            {
                var start = line[p..].IndexOfAny(TokenBytes);
                if (start < 0)
                {
                    output.Write(line[p..]);
                    break;
                }

                output.Write(line.Slice(p, start));
                p += start;
                var length = line[p..].IndexOfAnyExcept(TokenBytes);
                if (length < 0)
                {
                    length = line.Length - p;
                }

                var token = line.Slice(p, length);
                if (token.IndexOfAnyInRange((byte)'0', (byte)'9') >= 0)
                {
                    vars.Write(token);
                    vars.Write(" "u8);
                    output.Write([(byte)1]);
                }
                else
                {
                    output.Write(token);
                }

                p += length;
            }

            output.Write([(byte)10]);
        }

        output.Write(vars.WrittenSpan);
    }

    // Varint timestamp deltas, metadata column, then lines each followed by a separator byte.
    private static void Separated(StreamData s, int from, int to, PooledBufferWriter output)
    {
        TimestampsOnly(s, from, to, output);
        for (var i = from; i < to; i++)
        {
            Varint.Write(output, 0);
        }

        for (var i = from; i < to; i++)
        {
            output.Write(s.Line(i));
            Varint.Write(output, 10);
        }
    }

    private static void TimestampsOnly(StreamData s, int from, int to, PooledBufferWriter output)
    {
        var previous = s.Timestamps[from];
        for (var i = from; i < to; i++)
        {
            Varint.Write(output, (ulong)(s.Timestamps[i] - previous));
            previous = s.Timestamps[i];
        }
    }

    private static void LinesOnly(StreamData s, int from, int to, PooledBufferWriter output)
    {
        for (var i = from; i < to; i++)
        {
            output.Write(s.Line(i));
        }
    }
}
