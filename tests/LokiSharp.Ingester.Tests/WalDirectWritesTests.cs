using System.Buffers.Binary;
using LokiSharp.Ingester.Wal;
using LokiSharp.Storage.Hashing;
using LokiSharp.Storage.Store;

namespace LokiSharp.Ingester.Tests;

/// <summary>
/// The write-ahead log's segments written with direct I/O: appends rewrite the last, partial block and pad it with
/// zeros, which replay takes as the end of the segment.
/// </summary>
public sealed class WalDirectWritesTests : IDisposable
{
    private const int Block = DirectWrites.Alignment;

    private readonly string _directory = Directory.CreateTempSubdirectory("lokisharp-wal-direct-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    // Sizes at and around block boundaries, and past the appender's 1 MiB buffer, which such a commit is written in pieces of.
    private static readonly int[] Sizes = [1, Block - 9, Block - 8, Block, (2 * Block) - 8, 5000, (1 << 20) + 123, (3 << 20) - 5, 17, 70_000];

    private static byte[] Record(int seed, int size)
    {
        var record = new byte[size];
        for (var i = 0; i < size; i++)
        {
            record[i] = (byte)((seed * 31) + (i * 7) + 1);
        }

        return record;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Records_of_every_size_replay_whole_from_segments_written_directly_or_through_the_page_cache(bool direct)
    {
        var path = Path.Combine(_directory, "wal");
        var expected = new List<byte[]>();
        using (var wal = WriteAheadLog.Open(path, 1 << 20, direct))
        {
            wal.Start();
            for (var i = 0; i < Sizes.Length; i++)
            {
                expected.Add(Record(i, Sizes[i]));
                await wal.AppendAsync(expected[^1]);
            }

            // Concurrent appends commit together: several records in one write.
            var batch = Enumerable.Range(0, 40).Select(i => Record(100 + i, Sizes[i % Sizes.Length] % 9000)).ToList();
            expected.AddRange(batch);
            await Task.WhenAll(batch.Select(record => wal.AppendAsync(record)));
        }

        var damage = new List<WalDamage>();
        var replayed = new List<byte[]>();
        using (var reopened = WriteAheadLog.Open(path, 1 << 20))
        {
            reopened.Replay((_, record) => replayed.Add(record.ToArray()), damage);
        }

        Assert.Empty(damage);
        Assert.Equal(expected.Count, replayed.Count);
        Assert.True(expected.Zip(replayed).All(pair => pair.First.AsSpan().SequenceEqual(pair.Second)));
        var segments = Directory.GetFiles(path, "*.wal");
        Assert.True(segments.Length >= 3, $"{segments.Length} segments");
        foreach (var segment in segments)
        {
            var length = new FileInfo(segment).Length;
            if (direct && DirectIoWorksIn(path))
            {
                Assert.Equal(0, length % Block);
            }
            else
            {
                Assert.Equal(WalSegments.RecordsEnd(segment), length);
            }
        }
    }

    [Fact]
    public void An_append_cut_off_after_a_failure_is_overwritten_by_the_next_from_the_bytes_reloaded_from_the_file()
    {
        var path = Path.Combine(_directory, "appended");
        using var file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite);
        DirectWrites.TryEnable(file);
        var appender = new AlignedAppender();
        var (first, second, failed, next) = (Record(1, 5000), Record(2, 3000), Record(3, 10_000), Record(4, 7000));
        appender.Append(file, 0, [first]);
        appender.Append(file, 5000, [second]);

        // A commit whose write went out but whose fsync failed: the log cuts the file back to what was committed.
        appender.Append(file, 8000, [failed]);
        RandomAccess.SetLength(file, 8000);
        appender.Reload(path, 8000);
        appender.Append(file, 8000, [next]);

        var bytes = File.ReadAllBytes(path);
        Assert.Equal(4 * Block, bytes.Length);
        Assert.Equal([.. first, .. second, .. next], bytes[..15_000]);
        Assert.True(bytes.AsSpan(15_000).IndexOfAnyExcept((byte)0) < 0);
    }

    [Fact]
    public void A_zero_length_frame_before_intact_records_is_damage_and_the_records_after_it_replay()
    {
        var path = Path.Combine(_directory, "zeros");
        Directory.CreateDirectory(path);
        var segment = new List<byte>();
        segment.AddRange(BitConverter.GetBytes(0x57534B4Cu));
        segment.AddRange(BitConverter.GetBytes(3u));
        segment.AddRange(Frame([WalRecord.EntriesKind, 1, 2, 3]));
        segment.AddRange(new byte[8]);
        segment.AddRange(Frame([WalRecord.EntriesKind, 4, 5]));
        segment.AddRange(new byte[Block]);
        File.WriteAllBytes(Path.Combine(path, "0000000001.wal"), [.. segment]);

        var damage = new List<WalDamage>();
        var replayed = new List<byte[]>();
        using var wal = WriteAheadLog.Open(path, 1 << 20);
        wal.Replay((_, record) => replayed.Add(record.ToArray()), damage);

        Assert.Equal([[WalRecord.EntriesKind, 1, 2, 3], [WalRecord.EntriesKind, 4, 5]], replayed);
        var problem = Assert.Single(damage);
        Assert.Equal(("zero-length record", 8 + 12L), (problem.Reason, problem.Offset));
    }

    private static byte[] Frame(byte[] payload)
    {
        var frame = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(4), Crc32C.Compute(payload));
        payload.CopyTo(frame, 8);
        return frame;
    }

    private static bool DirectIoWorksIn(string directory)
    {
        var probe = Path.Combine(directory, "probe");
        try
        {
            using var file = File.OpenHandle(probe, FileMode.CreateNew, FileAccess.Write);
            return DirectWrites.TryEnable(file);
        }
        finally
        {
            File.Delete(probe);
        }
    }
}
