using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LokiSharp.Storage.ContentIndex;

/// <summary>
/// Per-block content filter: a one-hash bloom filter over the 4-byte n-grams of every line. A literal
/// <c>|= "needle"</c> can only occur in a block whose filter holds all of the needle's grams, so blocks missing
/// any gram are skipped without decompression. Grams containing an ASCII digit are not indexed: numbers
/// (timestamps, ids, addresses) produce most distinct grams yet are rarely what a needle is about; a needle's
/// digit-bearing grams are simply not tested.
/// </summary>
public static class NGramFilter
{
    /// <summary>Bytes per gram.</summary>
    public const int GramLength = 4;

    /// <summary>Hash width of the build-time scratch filter; stored filters are folds of it.</summary>
    internal const int ScratchBits = 20;

    /// <summary>Smallest filter worth storing, in bits.</summary>
    internal const int MinBits = 512;

    /// <summary>
    /// Whether a block with <paramref name="filter"/> may contain <paramref name="literal"/>. An empty filter
    /// (block without one) and literals with no indexable gram always may.
    /// </summary>
    public static bool MayContain(ReadOnlySpan<byte> filter, ReadOnlySpan<byte> literal)
    {
        if (filter.IsEmpty || literal.Length < GramLength)
        {
            return true;
        }

        var mask = (uint)(filter.Length * 8) - 1;
        uint gram = 0;
        var lastDigit = -1; // also keeps the first GramLength-1 partial grams out
        for (var i = 0; i < literal.Length; i++)
        {
            var b = literal[i];
            gram = (gram << 8) | b;
            if ((uint)(b - '0') <= 9)
            {
                lastDigit = i;
            }

            if (i - lastDigit >= GramLength)
            {
                var bit = Hash(gram) & mask;
                if ((filter[(int)(bit >> 3)] & (1 << (int)(bit & 7))) == 0)
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>
    /// Whether a block with <paramref name="filter"/> may contain <paramref name="lowerLiteral"/> (ASCII, lower case) in
    /// any mix of ASCII letter case: each indexable gram is tested in all its case variants. Grams covering a k or s are
    /// not tested, since RE2's case folding also matches those letters as U+212A and U+017F.
    /// </summary>
    public static bool MayContainIgnoreCase(ReadOnlySpan<byte> filter, ReadOnlySpan<byte> lowerLiteral)
    {
        if (filter.IsEmpty || lowerLiteral.Length < GramLength)
        {
            return true;
        }

        var mask = (uint)(filter.Length * 8) - 1;
        uint gram = 0;
        uint letters = 0; // bit k set when the gram's k-th newest byte is a letter
        var lastUntestable = -1;
        for (var i = 0; i < lowerLiteral.Length; i++)
        {
            var b = lowerLiteral[i];
            gram = (gram << 8) | b;
            letters = ((letters << 1) | (char.IsAsciiLetterLower((char)b) ? 1u : 0u)) & 0xF;
            if ((uint)(b - '0') <= 9 || b is (byte)'k' or (byte)'s')
            {
                lastUntestable = i;
            }

            if (i - lastUntestable >= GramLength && !AnyCaseVariantSet(filter, mask, gram, letters))
            {
                return false;
            }
        }

        return true;
    }

    private static bool AnyCaseVariantSet(ReadOnlySpan<byte> filter, uint mask, uint gram, uint letters)
    {
        // Every subset of the gram's letters upper-cased (clearing bit 0x20 of those bytes).
        var caseBits = 0u;
        for (var k = 0; k < GramLength; k++)
        {
            if ((letters & (1u << k)) != 0)
            {
                caseBits |= 0x20u << (8 * k);
            }
        }

        var subset = caseBits;
        while (true)
        {
            var bit = Hash(gram & ~subset) & mask;
            if ((filter[(int)(bit >> 3)] & (1 << (int)(bit & 7))) != 0)
            {
                return true;
            }

            if (subset == 0)
            {
                return false;
            }

            subset = (subset - 1) & caseBits;
        }
    }

    /// <summary>Bytes per id gram: ids draw from few symbols (hex has 65,536 4-byte grams), so their grams are longer.</summary>
    public const int IdGramLength = 8;

    /// <summary>Shortest run of ASCII letters and digits whose digit-bearing grams the id filter holds.</summary>
    public const int IdRunLength = IdGramLength;

    /// <summary>
    /// Whether a block with id filter <paramref name="idFilter"/> may contain <paramref name="literal"/>. The id filter
    /// holds the 8-byte grams with an ASCII digit inside runs of at least <see cref="IdRunLength"/> letters and digits
    /// (request and trace ids, hashes, long numbers), which the text filter leaves out. Wherever a literal occurs, each of its own
    /// such runs lies inside a run of the line at least as long, so those grams of the literal are in the filter.
    /// An empty filter (block without one) and literals without such a run always may.
    /// </summary>
    public static bool MayContainId(ReadOnlySpan<byte> idFilter, ReadOnlySpan<byte> literal)
    {
        if (idFilter.IsEmpty || literal.Length < IdRunLength)
        {
            return true;
        }

        var mask = (uint)(idFilter.Length * 8) - 1;
        var start = 0;
        while (start < literal.Length)
        {
            while (start < literal.Length && !IsIdByte(literal[start]))
            {
                start++;
            }

            var end = start;
            while (end < literal.Length && IsIdByte(literal[end]))
            {
                end++;
            }

            if (end - start >= IdRunLength && !IdGramsSet(idFilter, mask, literal[start..end]))
            {
                return false;
            }

            start = end;
        }

        return true;
    }

    private static bool IdGramsSet(ReadOnlySpan<byte> filter, uint mask, ReadOnlySpan<byte> run)
    {
        ulong gram = 0;
        var lastDigit = -IdGramLength;
        for (var i = 0; i < run.Length; i++)
        {
            var b = run[i];
            gram = (gram << 8) | b;
            if ((uint)(b - '0') <= 9)
            {
                lastDigit = i;
            }

            if (i >= IdGramLength - 1 && i - lastDigit < IdGramLength)
            {
                var bit = IdHash(gram) & mask;
                if ((filter[(int)(bit >> 3)] & (1 << (int)(bit & 7))) == 0)
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>ASCII letter or digit: the bytes an id run is made of.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsIdByte(byte b) => (uint)(b - '0') <= 9 || (uint)((b | 0x20) - 'a') <= 'z' - 'a';

    /// <summary>
    /// The hashes <see cref="MayContain"/> tests for <paramref name="literal"/>, at full scratch width, so a search
    /// derives them once and tests each block with <see cref="AllSet"/>; null when it tests none (always may).
    /// </summary>
    internal static uint[]? TextProbe(ReadOnlySpan<byte> literal)
    {
        if (literal.Length < GramLength)
        {
            return null;
        }

        var hashes = new List<uint>();
        uint gram = 0;
        var lastDigit = -1;
        for (var i = 0; i < literal.Length; i++)
        {
            var b = literal[i];
            gram = (gram << 8) | b;
            if ((uint)(b - '0') <= 9)
            {
                lastDigit = i;
            }

            if (i - lastDigit >= GramLength)
            {
                hashes.Add(Hash(gram));
            }
        }

        return hashes.Count == 0 ? null : [.. hashes];
    }

    /// <summary>The hashes <see cref="MayContainId"/> tests for <paramref name="literal"/>, as <see cref="TextProbe"/>.</summary>
    internal static uint[]? IdProbe(ReadOnlySpan<byte> literal)
    {
        if (literal.Length < IdRunLength)
        {
            return null;
        }

        var hashes = new List<uint>();
        var start = 0;
        while (start < literal.Length)
        {
            while (start < literal.Length && !IsIdByte(literal[start]))
            {
                start++;
            }

            var end = start;
            while (end < literal.Length && IsIdByte(literal[end]))
            {
                end++;
            }

            if (end - start >= IdRunLength)
            {
                ulong gram = 0;
                var lastDigit = -IdGramLength;
                for (var i = start; i < end; i++)
                {
                    var b = literal[i];
                    gram = (gram << 8) | b;
                    if ((uint)(b - '0') <= 9)
                    {
                        lastDigit = i - start;
                    }

                    if (i - start >= IdGramLength - 1 && i - start - lastDigit < IdGramLength)
                    {
                        hashes.Add(IdHash(gram));
                    }
                }
            }

            start = end;
        }

        return hashes.Count == 0 ? null : [.. hashes];
    }

    /// <summary>
    /// Whether every bit of <paramref name="probe"/> (from <see cref="TextProbe"/> or <see cref="IdProbe"/>) is set in
    /// <paramref name="filter"/>: the same answer as the literal's own test, without deriving its grams again. An
    /// empty filter and a null probe always pass.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool AllSet(ReadOnlySpan<byte> filter, uint[]? probe)
    {
        if (probe is null || filter.IsEmpty)
        {
            return true;
        }

        // Filters are folds of the scratch filter, so a hash's bit in one is its low bits.
        var mask = (uint)(filter.Length * 8) - 1;
        ref var bytes = ref MemoryMarshal.GetReference(filter);
        foreach (var h in probe)
        {
            var bit = h & mask;
            if ((Unsafe.Add(ref bytes, (nint)(bit >> 3)) & (1 << (int)(bit & 7))) == 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether every literal in <paramref name="literals"/> may be in the block.</summary>
    public static bool MayContainAll(ReadOnlySpan<byte> filter, IReadOnlyList<byte[]> literals)
    {
        for (var i = 0; i < literals.Count; i++)
        {
            if (!MayContain(filter, literals[i]))
            {
                return false;
            }
        }

        return true;
    }

    internal static uint Hash(uint gram) => (gram * 0x9E3779B1u) >> (32 - ScratchBits);

    /// <summary>The id filter's hash of an 8-byte gram (first byte highest): a 64-bit mix whose every bit depends on every byte.</summary>
    internal static uint IdHash(ulong gram)
    {
        var h = gram * 0x9E3779B97F4A7C15UL;
        h ^= h >> 29;
        h *= 0xBF58476D1CE4E5B9UL;
        h ^= h >> 32;
        return (uint)(h >> (64 - ScratchBits));
    }
}

/// <summary>Accumulates the grams of one block and writes its folded filter.</summary>
internal sealed class NGramFilterBuilder : IDisposable
{
    private const int ScratchWords = (1 << NGramFilter.ScratchBits) / 64;

    // Above this share of set bits a stored filter rejects too little to be worth its bytes.
    private const double MaxFill = 0.8;

    // Above this share of set bits an id filter rejects too little: a 16-digit id's 9 grams still pass 13% of blocks.
    private const double MaxIdFill = 0.8;

    private ulong[] _scratch = ArrayPool<ulong>.Shared.Rent(ScratchWords);
    private ulong[] _ids = ArrayPool<ulong>.Shared.Rent(ScratchWords);
    private bool _dirty;
    private bool _idsDirty;

    public NGramFilterBuilder()
    {
        Array.Clear(_scratch, 0, ScratchWords);
        Array.Clear(_ids, 0, ScratchWords);
    }

    public void AddLine(ReadOnlySpan<byte> line)
    {
        if (line.Length < NGramFilter.GramLength)
        {
            return;
        }

        // Grams are 4 bytes (GramLength), read as one big-endian uint. The line is taken 32 bytes at a time: one
        // vector compare gives the chunk's digit positions, from which the grams to index (no digit among their 4
        // bytes) follow as a bit mask; each such gram is read from the line directly. No per-byte branch and no
        // byte-to-byte dependency, where building grams a byte at a time with a digit test per byte is bound by both.
        ref var start = ref MemoryMarshal.GetReference(line);
        ref var scratch = ref MemoryMarshal.GetArrayDataReference(_scratch);
        var behind = 0b111UL; // digit bits of the 3 bytes before the chunk; the line's start counts as digits
        var anyDigit = 0u;
        for (var offset = 0; offset < line.Length; offset += 32)
        {
            var length = Math.Min(32, line.Length - offset);
            var chunkDigits = DigitMask(line.Slice(offset, length));
            anyDigit |= chunkDigits;
            var digits = ((ulong)chunkDigits << 3) | behind;

            // Bit j: a digit among bytes offset+j-3 .. offset+j, i.e. in the gram ending at offset+j.
            var covered = digits | (digits >> 1) | (digits >> 2) | (digits >> 3);
            var indexed = ~covered & ((1UL << length) - 1);
            behind = digits >> 32;
            while (indexed != 0)
            {
                var end = offset + BitOperations.TrailingZeroCount(indexed);
                indexed &= indexed - 1;
                // The gram's 4 bytes, first byte highest, as the query side builds it.
                var raw = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref start, end - 3));
                var gram = BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(raw) : raw;
                var h = NGramFilter.Hash(gram);
                Unsafe.Add(ref scratch, (nint)(h >> 6)) |= 1UL << (int)(h & 63);
            }
        }

        _dirty = true;
        if (anyDigit != 0 && line.Length >= NGramFilter.IdRunLength)
        {
            AddIdGrams(line);
        }
    }

    // The digit-bearing grams of every run of at least IdRunLength letters and digits (see NGramFilter.MayContainId).
    // Runs are found 32 bytes at a time from two vector masks (letter-or-digit, digit); only runs long enough and holding
    // a digit are walked byte by byte, and most lines have none (timestamps and words make short runs).
    private void AddIdGrams(ReadOnlySpan<byte> line)
    {
        var runStart = -1;
        var runDigit = false;
        for (var offset = 0; offset < line.Length; offset += 32)
        {
            var length = Math.Min(32, line.Length - offset);
            var chunk = line.Slice(offset, length);
            var id = (ulong)IdMask(chunk);
            var digit = (ulong)DigitMask(chunk);
            var all = (1UL << length) - 1;
            var position = 0;
            while (position < length)
            {
                if (runStart < 0)
                {
                    var ahead = id >> position;
                    if (ahead == 0)
                    {
                        break;
                    }

                    position += BitOperations.TrailingZeroCount(ahead);
                    runStart = offset + position;
                    runDigit = false;
                }

                var stop = (~id & all) >> position;
                var end = stop == 0 ? length : position + BitOperations.TrailingZeroCount(stop);
                runDigit |= (digit & (((1UL << end) - 1) ^ ((1UL << position) - 1))) != 0;
                if (end == length)
                {
                    break; // the run goes on into the next chunk
                }

                AddIdRun(line[runStart..(offset + end)], runDigit);
                runStart = -1;
                position = end + 1;
            }
        }

        if (runStart >= 0)
        {
            AddIdRun(line[runStart..], runDigit);
        }
    }

    private void AddIdRun(ReadOnlySpan<byte> run, bool hasDigit)
    {
        if (run.Length < NGramFilter.IdRunLength || !hasDigit)
        {
            return;
        }

        ref var ids = ref MemoryMarshal.GetArrayDataReference(_ids);
        ulong gram = 0;
        var runDigit = -NGramFilter.IdGramLength;
        for (var j = 0; j < run.Length; j++)
        {
            var b = run[j];
            gram = (gram << 8) | b;
            if ((uint)(b - '0') <= 9)
            {
                runDigit = j;
            }

            if (j >= NGramFilter.IdGramLength - 1 && j - runDigit < NGramFilter.IdGramLength)
            {
                var h = NGramFilter.IdHash(gram);
                Unsafe.Add(ref ids, (nint)(h >> 6)) |= 1UL << (int)(h & 63);
                _idsDirty = true;
            }
        }
    }

    // Bit i set when chunk[i] is an ASCII letter or digit (NGramFilter.IsIdByte); chunk holds at most 32 bytes.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint IdMask(ReadOnlySpan<byte> chunk)
    {
        if (Vector256.IsHardwareAccelerated && chunk.Length == Vector256<byte>.Count)
        {
            var bytes = Vector256.Create(chunk);
            var digits = Vector256.LessThan(bytes - Vector256.Create((byte)'0'), Vector256.Create((byte)10));
            var letters = Vector256.LessThan((bytes | Vector256.Create((byte)0x20)) - Vector256.Create((byte)'a'), Vector256.Create((byte)26));
            return (digits | letters).ExtractMostSignificantBits();
        }

        var mask = 0u;
        for (var i = 0; i < chunk.Length; i++)
        {
            mask |= (NGramFilter.IsIdByte(chunk[i]) ? 1u : 0u) << i;
        }

        return mask;
    }

    // Bit i set when chunk[i] is an ASCII digit; chunk holds at most 32 bytes.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint DigitMask(ReadOnlySpan<byte> chunk)
    {
        if (Vector256.IsHardwareAccelerated && chunk.Length == Vector256<byte>.Count)
        {
            var bytes = Vector256.Create(chunk);
            return Vector256.LessThan(bytes - Vector256.Create((byte)'0'), Vector256.Create((byte)10)).ExtractMostSignificantBits();
        }

        if (Vector128.IsHardwareAccelerated && chunk.Length == 2 * Vector128<byte>.Count)
        {
            var zero = Vector128.Create((byte)'0');
            var ten = Vector128.Create((byte)10);
            var low = Vector128.LessThan(Vector128.Create(chunk) - zero, ten).ExtractMostSignificantBits();
            var high = Vector128.LessThan(Vector128.Create(chunk[Vector128<byte>.Count..]) - zero, ten).ExtractMostSignificantBits();
            return low | (high << Vector128<byte>.Count);
        }

        var mask = 0u;
        for (var i = 0; i < chunk.Length; i++)
        {
            mask |= ((uint)(chunk[i] - '0') <= 9 ? 1u : 0u) << i;
        }

        return mask;
    }

    /// <summary>
    /// Folds the scratch filter to at most <paramref name="budgetBytes"/> and writes it; returns the bytes
    /// written, 0 when no useful filter fits. Clears the scratch for the next block.
    /// </summary>
    public int WriteAndClear(IBufferWriter<byte> output, int budgetBytes)
    {
        if (!_dirty)
        {
            return 0;
        }

        var scratch = _scratch.AsSpan(0, ScratchWords);
        var distinct = 0;
        foreach (var word in scratch)
        {
            distinct += BitOperations.PopCount(word);
        }

        // Aim for ~8 bits per gram (a few % false positives per gram) but never above the budget.
        var written = distinct == 0 ? 0 : WriteFolded(output, scratch,
            BitOperations.RoundUpToPowerOf2((uint)Math.Min(distinct * 8L, 1L << NGramFilter.ScratchBits)), budgetBytes, MaxFill);
        scratch.Clear();
        _dirty = false;
        return written;
    }

    /// <summary>
    /// Folds the id grams to at most <paramref name="budgetBytes"/> and writes them (an empty filter when the block has
    /// none); returns the bytes written, 0 when no useful filter fits. Clears them for the next block. Sized at two to four
    /// bits per gram: a 16-digit id tests 9 grams, so a filter 22-39% full passes at most 0.02% of the blocks (one to two
    /// bits, 39-63% full, let 0.3% through: at 6,500 blocks a needle search decoded 7-9 blocks instead of 1-2).
    /// </summary>
    public int WriteIdsAndClear(IBufferWriter<byte> output, int budgetBytes)
    {
        if (!_idsDirty)
        {
            // An all-zero filter of the smallest size: the block holds no id, so every id needle skips it.
            return WriteFolded(output, [], NGramFilter.MinBits, budgetBytes, MaxIdFill);
        }

        var scratch = _ids.AsSpan(0, ScratchWords);
        var distinct = 0;
        foreach (var word in scratch)
        {
            distinct += BitOperations.PopCount(word);
        }

        var written = WriteFolded(output, scratch, BitOperations.RoundUpToPowerOf2((uint)distinct * 2), budgetBytes, MaxIdFill);
        scratch.Clear();
        _idsDirty = false;
        return written;
    }

    // Folds scratch to the wanted bits (a power of two, bounded by the budget and MinBits) and writes it unless fuller than maxFill.
    private static int WriteFolded(IBufferWriter<byte> output, ReadOnlySpan<ulong> scratch, uint wanted, int budgetBytes, double maxFill)
    {
        var budgetBits = (long)budgetBytes * 8;
        if (budgetBits < NGramFilter.MinBits)
        {
            return 0;
        }

        var bits = (int)Math.Min(Math.Min(wanted, 1u << NGramFilter.ScratchBits), BitOperations.RoundUpToPowerOf2((uint)(budgetBits + 1)) >> 1);
        bits = Math.Max(bits, NGramFilter.MinBits);
        var words = bits / 64;
        var folded = ArrayPool<ulong>.Shared.Rent(words);
        try
        {
            var target = folded.AsSpan(0, words);
            target.Clear();
            for (var i = 0; i < scratch.Length; i++)
            {
                target[i & (words - 1)] |= scratch[i];
            }

            var set = 0;
            foreach (var word in target)
            {
                set += BitOperations.PopCount(word);
            }

            if (set > bits * maxFill)
            {
                return 0;
            }

            var span = output.GetSpan(words * 8);
            for (var i = 0; i < words; i++)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(span[(i * 8)..], target[i]);
            }

            output.Advance(words * 8);
            return words * 8;
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(folded);
        }
    }

    /// <summary>Forgets the grams added since the last write.</summary>
    public void Clear()
    {
        if (_dirty)
        {
            _scratch.AsSpan(0, ScratchWords).Clear();
            _dirty = false;
        }

        if (_idsDirty)
        {
            _ids.AsSpan(0, ScratchWords).Clear();
            _idsDirty = false;
        }
    }

    public void Dispose()
    {
        if (_scratch.Length > 0)
        {
            ArrayPool<ulong>.Shared.Return(_scratch);
            ArrayPool<ulong>.Shared.Return(_ids);
            _scratch = [];
            _ids = [];
        }
    }
}
