using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
    public static bool MayContain(ReadOnlySpan<byte> filter, ReadOnlySpan<byte> literal) => AllSet(filter, TextProbe(literal));

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

    /// <summary>
    /// Bytes per id gram, and the shortest run of ASCII letters and digits whose grams the id filter holds (the build's
    /// bit masks rely on the two being one length): ids draw from few symbols (hex has 65,536 4-byte grams), so their
    /// grams are longer.
    /// </summary>
    public const int IdGramLength = 8;

    /// <summary>
    /// Whether a block with id filter <paramref name="idFilter"/> may contain <paramref name="literal"/>. The id filter
    /// holds the 8-byte grams with an ASCII digit inside runs of at least <see cref="IdGramLength"/> letters and digits
    /// (request and trace ids, hashes, long numbers), which the text filter leaves out. Wherever a literal occurs, each of its own
    /// such runs lies inside a run of the line at least as long, so those grams of the literal are in the filter.
    /// An empty filter (block without one) and literals without such a run always may.
    /// </summary>
    public static bool MayContainId(ReadOnlySpan<byte> idFilter, ReadOnlySpan<byte> literal) => AllSet(idFilter, IdProbe(literal));

    /// <summary>ASCII letter or digit: the bytes an id run is made of.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsIdByte(byte b) => (uint)(b - '0') <= 9 || (uint)((b | 0x20) - 'a') <= 'z' - 'a';

    /// <summary>
    /// The hashes of <paramref name="literal"/>'s indexable grams (those without a digit), at full scratch width: what
    /// <see cref="MayContain"/> tests, derived once per search and tested per block with <see cref="AllSet"/>; null
    /// when there is none (always may).
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

    /// <summary>
    /// The hashes of the digit-bearing 8-byte grams of <paramref name="literal"/>'s runs of at least
    /// <see cref="IdGramLength"/> letters and digits: what <see cref="MayContainId"/> tests, as <see cref="TextProbe"/>.
    /// </summary>
    internal static uint[]? IdProbe(ReadOnlySpan<byte> literal)
    {
        if (literal.Length < IdGramLength)
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

            if (end - start >= IdGramLength)
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint Hash(uint gram) => (gram * 0x9E3779B1u) >> (32 - ScratchBits);

    /// <summary>The id filter's hash of an 8-byte gram (first byte highest): a 64-bit mix whose every bit depends on every byte.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
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
    // Above this share of set bits a stored filter rejects too little to be worth its bytes.
    private const double MaxFill = 0.8;

    // Above this share of set bits an id filter rejects too little: a 16-digit id's 9 grams still pass 13% of blocks.
    private const double MaxIdFill = 0.8;

    // The scratch filters are indexed by the low bits of the hashes (what every fold keeps), so one no larger than the
    // largest filter a block can store builds the same filters as the full ScratchBits: a default chunk builder's are 8 KB
    // and 32 KB, where bits set at random stay in cache (2 x 128 KB did not; 4 KB and 16 KB built no faster).
    private readonly int _textWords;
    private readonly int _idWords;
    private ulong[] _scratch;
    private ulong[] _ids;
    private bool _dirty;
    private bool _idsDirty;

    // Whether text grams are hashed eight at a time (AVX2); false builds the same filters one gram at a time, as on
    // CPUs without it (ARM, older x64), and lets tests on any machine check that path.
    private readonly bool _hashEightAtATime;

    public NGramFilterBuilder()
        : this(hashEightAtATime: true)
    {
    }

    /// <summary>A builder that hashes one gram at a time even where the CPU could do eight (for tests).</summary>
    internal NGramFilterBuilder(bool hashEightAtATime)
        : this(1 << NGramFilter.ScratchBits, 1 << NGramFilter.ScratchBits, hashEightAtATime)
    {
    }

    /// <summary>
    /// A builder whose filters hold at most <paramref name="textBits"/> and <paramref name="idBits"/> bits (powers of two,
    /// at least <see cref="NGramFilter.MinBits"/>, at most 2^<see cref="NGramFilter.ScratchBits"/>): a block whose
    /// budget allows more gets a filter of that size, with as many false positives as its grams make.
    /// </summary>
    internal NGramFilterBuilder(int textBits, int idBits, bool hashEightAtATime = true)
    {
        _hashEightAtATime = hashEightAtATime && Avx2.IsSupported;
        _textWords = ScratchWordsFor(textBits);
        _idWords = ScratchWordsFor(idBits);
        _scratch = ArrayPool<ulong>.Shared.Rent(_textWords);
        _ids = ArrayPool<ulong>.Shared.Rent(_idWords);
        Array.Clear(_scratch, 0, _textWords);
        Array.Clear(_ids, 0, _idWords);
    }

    /// <summary>
    /// The smallest scratch (in bits) that still builds the largest filter a budget of <paramref name="budgetBytes"/> allows:
    /// the largest power of two within the budget, at least <see cref="NGramFilter.MinBits"/>, at most the full scratch.
    /// </summary>
    internal static int BitsForBudget(long budgetBytes)
    {
        var budgetBits = budgetBytes * 8;
        return budgetBits < NGramFilter.MinBits * 2
            ? NGramFilter.MinBits
            : (int)Math.Min(1L << NGramFilter.ScratchBits, (long)BitOperations.RoundUpToPowerOf2((ulong)(budgetBits + 1)) >> 1);
    }

    private static int ScratchWordsFor(int bits)
    {
        if (bits < NGramFilter.MinBits || bits > 1 << NGramFilter.ScratchBits || !BitOperations.IsPow2(bits))
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "a power of two between the smallest filter and the full scratch");
        }

        return bits / 64;
    }

    // Locals are not zeroed (SkipLocalsInit): the padded copy is cleared where it needs to be, and the hash buffer is
    // written before it is read.
    [SkipLocalsInit]
    public void AddLine(ReadOnlySpan<byte> line)
    {
        if (line.Length < NGramFilter.GramLength)
        {
            return;
        }

        _dirty = true;
        if (line.Length < Chunk)
        {
            // Padded with zero bytes (neither digits nor id bytes) so that one 32-byte pass classifies it.
            Span<byte> padded = stackalloc byte[Chunk];
            padded.Clear();
            line.CopyTo(padded);
            AddChunks(padded, line.Length);
        }
        else
        {
            AddChunks(line, line.Length);
        }
    }

    /// <summary>
    /// Adds <paramref name="line"/> when <paramref name="previous"/> is a line added since the last write or clear: the
    /// grams within the bytes both lines start with are set already, so only those reaching past them are hashed (lines
    /// of one stream often share their first bytes, a template or JSON keys). The filters come out the same.
    /// </summary>
    public void AddLine(ReadOnlySpan<byte> line, ReadOnlySpan<byte> previous)
    {
        // A gram (at most IdGramLength bytes) that ends past the shared bytes starts at most IdGramLength - 1 before their
        // end: the rest of the line from there holds every such gram, and grams of the line only.
        var skip = line.CommonPrefixLength(previous) - (NGramFilter.IdGramLength - 1);
        AddLine(skip > 0 ? line[skip..] : line);
    }

    private const int Chunk = 32;

    // Both filters in one pass over the line, 32 bytes at a time: one vector classification gives the chunk's digit
    // and id-byte (ASCII letter or digit) positions, and from those bit masks alone follow the grams to index.
    // A text gram (4 bytes, GramLength) is indexed when none of its bytes is a digit. An id gram (8 bytes,
    // IdGramLength) is indexed when all its bytes are id bytes and one is a digit: that is exactly every digit-bearing
    // gram of every run of at least IdGramLength letters and digits (see NGramFilter.MayContainId), so runs need no
    // walking. Each gram is then read from the line directly, first byte highest, as the query side builds it.
    // line holds at least Chunk bytes (a short line comes padded); only its first length bytes are the line.
    [SkipLocalsInit]
    private void AddChunks(ReadOnlySpan<byte> line, int length)
    {
        ref var start = ref MemoryMarshal.GetReference(line);
        ref var scratch = ref MemoryMarshal.GetArrayDataReference(_scratch);
        ref var ids = ref MemoryMarshal.GetArrayDataReference(_ids);
        var textMask = (uint)(_textWords * 64) - 1;
        var idLowBits = (uint)(_idWords * 64) - 1;

        Span<uint> hashes = stackalloc uint[Chunk];

        // Masks carry the 7 bytes before the chunk in their low bits (bit k is byte offset + k - 7). Before the line's
        // start those count as digits (no text gram starts before the line) and as non-id bytes (nor does an id gram).
        var digitsBehind = 0x7FUL;
        var idsBehind = 0UL;
        var anyId = false;
        for (var offset = 0; offset < length; offset += Chunk)
        {
            var count = Math.Min(Chunk, length - offset);
            uint digitMask, idMask;
            if (offset + Chunk <= line.Length)
            {
                Classify(ref Unsafe.Add(ref start, offset), out digitMask, out idMask);
            }
            else
            {
                // The line's last Chunk bytes, shifted so that bit 0 is this chunk's first byte.
                Classify(ref Unsafe.Add(ref start, line.Length - Chunk), out digitMask, out idMask);
                digitMask >>= Chunk - count;
                idMask >>= Chunk - count;
            }

            var digits = ((ulong)digitMask << 7) | digitsBehind;
            var idBytes = ((ulong)idMask << 7) | idsBehind;
            digitsBehind = digits >> Chunk;
            idsBehind = idBytes >> Chunk;
            var inChunk = (1UL << count) - 1;

            // Bit j of digits4: a digit among bytes j-3 .. j of the chunk, i.e. in the 4-byte gram ending at j;
            // of digits8, in the 8-byte gram ending at j; of idRun8, all 8 bytes of that gram are id bytes.
            var digits2 = digits | (digits >> 1);
            var digits4Wide = digits2 | (digits2 >> 2);
            var digits4 = digits4Wide >> 4;
            var digits8 = digits4Wide | digits4;
            var idRun2 = idBytes & (idBytes >> 1);
            var idRun4 = idRun2 & (idRun2 >> 2);
            var idRun8 = idRun4 & (idRun4 >> 4);

            var text = ~digits4 & inChunk;
            // A chunk without a text gram (digits only) hashes nothing.
            if (text != 0 && _hashEightAtATime)
            {
                // The chunk's 32 gram hashes eight at a time, then only the indexed ones set their bits.
                ref var hashed = ref MemoryMarshal.GetReference(hashes);
                var lowBits = Vector256.Create(textMask);
                for (var group = 0; group < Chunk; group += 8)
                {
                    (HashEightGrams(ref start, line.Length, offset + group) & lowBits).StoreUnsafe(ref hashed, (nuint)group);
                }

                while (text != 0)
                {
                    var h = Unsafe.Add(ref hashed, BitOperations.TrailingZeroCount(text));
                    text &= text - 1;
                    Unsafe.Add(ref scratch, (nint)(h >> 6)) |= 1UL << (int)h;
                }
            }
            else
            {
                while (text != 0)
                {
                    var end = offset + BitOperations.TrailingZeroCount(text);
                    text &= text - 1;
                    var raw = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref start, end - 3));
                    var h = NGramFilter.Hash(BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(raw) : raw) & textMask;
                    Unsafe.Add(ref scratch, (nint)(h >> 6)) |= 1UL << (int)(h & 63);
                }
            }

            var id = idRun8 & digits8 & inChunk;
            anyId |= id != 0;
            while (id != 0)
            {
                var end = offset + BitOperations.TrailingZeroCount(id);
                id &= id - 1;
                var raw = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, end - 7));
                var h = NGramFilter.IdHash(BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(raw) : raw) & idLowBits;
                Unsafe.Add(ref ids, (nint)(h >> 6)) |= 1UL << (int)(h & 63);
            }
        }

        _idsDirty |= anyId;
    }

    // The text hashes of the grams ending at bytes end .. end + 7 (line holds at least Chunk bytes), lane k the gram
    // ending at end + k. The 16-byte window read stays inside the line; every gram that is indexed (starts at or after
    // the line's first byte, ends before its last) comes out right, the others are never used.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> HashEightGrams(ref byte line, int lineLength, int end)
    {
        var window = Math.Min(Math.Max(end - 3, 0), lineLength - Vector128<byte>.Count);
        var bytes = Vector256.Create(Vector128.LoadUnsafe(ref line, (nuint)window));

        // Byte m of lane k is the gram's byte m places before its last (window index k - m + shift), so each lane reads
        // the gram first byte highest, as NGramFilter.Hash wants. An index below 0 wraps to 0xFD..0xFF, which selects a
        // zero byte: only grams starting before the window get one, and those are not indexed.
        var gramBytes = Vector256.Create(
            (byte)0, 0xFF, 0xFE, 0xFD, 1, 0, 0xFF, 0xFE, 2, 1, 0, 0xFF, 3, 2, 1, 0,
            4, 3, 2, 1, 5, 4, 3, 2, 6, 5, 4, 3, 7, 6, 5, 4);
        var grams = Avx2.Shuffle(bytes, gramBytes + Vector256.Create((byte)(end - window))).AsUInt32();
        return (grams * 0x9E3779B1u) >> (32 - NGramFilter.ScratchBits);
    }

    // Bit i of digits: byte i of the 32 at chunk is an ASCII digit; of ids: an ASCII letter or digit (NGramFilter.IsIdByte).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Classify(ref byte chunk, out uint digits, out uint ids)
    {
        if (Vector256.IsHardwareAccelerated)
        {
            var bytes = Vector256.LoadUnsafe(ref chunk);
            var digit = Vector256.LessThan(bytes - Vector256.Create((byte)'0'), Vector256.Create((byte)10));
            var letter = Vector256.LessThan((bytes | Vector256.Create((byte)0x20)) - Vector256.Create((byte)'a'), Vector256.Create((byte)26));
            digits = digit.ExtractMostSignificantBits();
            ids = (digit | letter).ExtractMostSignificantBits();
            return;
        }

        if (Vector128.IsHardwareAccelerated)
        {
            Classify128(ref chunk, out var lowDigits, out var lowIds);
            Classify128(ref Unsafe.Add(ref chunk, Vector128<byte>.Count), out var highDigits, out var highIds);
            digits = lowDigits | (highDigits << Vector128<byte>.Count);
            ids = lowIds | (highIds << Vector128<byte>.Count);
            return;
        }

        digits = 0;
        ids = 0;
        for (var i = 0; i < Chunk; i++)
        {
            var b = Unsafe.Add(ref chunk, i);
            digits |= ((uint)(b - '0') <= 9 ? 1u : 0u) << i;
            ids |= (NGramFilter.IsIdByte(b) ? 1u : 0u) << i;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Classify128(ref byte chunk, out uint digits, out uint ids)
    {
        var bytes = Vector128.LoadUnsafe(ref chunk);
        var digit = Vector128.LessThan(bytes - Vector128.Create((byte)'0'), Vector128.Create((byte)10));
        var letter = Vector128.LessThan((bytes | Vector128.Create((byte)0x20)) - Vector128.Create((byte)'a'), Vector128.Create((byte)26));
        digits = digit.ExtractMostSignificantBits();
        ids = (digit | letter).ExtractMostSignificantBits();
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

        _dirty = false;

        // Aim for ~8 bits per gram (a few % false positives per gram) but never above the budget.
        return WriteFoldedAndClear(output, _scratch, _textWords, budgetBytes, MaxFill,
            distinct => distinct == 0 ? 0 : BitOperations.RoundUpToPowerOf2((uint)Math.Min(distinct * 8L, 1L << NGramFilter.ScratchBits)));
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
            return WriteFoldedAndClear(output, null, _idWords, budgetBytes, MaxIdFill, _ => NGramFilter.MinBits);
        }

        _idsDirty = false;
        return WriteFoldedAndClear(output, _ids, _idWords, budgetBytes, MaxIdFill, distinct => BitOperations.RoundUpToPowerOf2((uint)distinct * 2));
    }

    // Folds scratch (null: an empty one) to the bits wanted for its count of set bits (a power of two, bounded by the budget
    // and MinBits; 0 writes nothing) and writes it unless fuller than maxFill; clears scratch. One pass over the scratch
    // counts, folds to the largest size the budget allows and clears; that fold is then folded further, as folding twice
    // to powers of two is folding once to the smaller.
    private static int WriteFoldedAndClear(IBufferWriter<byte> output, ulong[]? scratch, int scratchWords, int budgetBytes, double maxFill,
        Func<int, uint> wantedBits)
    {
        var largest = Math.Min(scratchWords * 64, BitsForBudget(budgetBytes));
        var largestWords = largest / 64;
        var folded = ArrayPool<ulong>.Shared.Rent(largestWords);
        try
        {
            var target = folded.AsSpan(0, largestWords);
            target.Clear();
            var distinct = 0;
            if (scratch is not null)
            {
                ref var source = ref MemoryMarshal.GetArrayDataReference(scratch);
                ref var into = ref MemoryMarshal.GetReference(target);
                var mask = largestWords - 1;
                for (var i = 0; i < scratchWords; i++)
                {
                    var word = Unsafe.Add(ref source, i);
                    distinct += BitOperations.PopCount(word);
                    Unsafe.Add(ref into, i & mask) |= word;
                }

                scratch.AsSpan(0, scratchWords).Clear();
                distinct = DistinctGrams(distinct, scratchWords * 64);
            }

            var wanted = wantedBits(distinct);
            if (wanted == 0 || budgetBytes * 8L < NGramFilter.MinBits)
            {
                return 0;
            }

            var bits = Math.Max((int)Math.Min(wanted, (uint)largest), NGramFilter.MinBits);
            var words = bits / 64;
            for (var i = words; i < largestWords; i++)
            {
                target[i & (words - 1)] |= target[i];
            }

            target = target[..words];
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

    // The grams that set `set` of `bits` bits (linear counting): a scratch smaller than the full one sets fewer bits per
    // gram once it fills, and the count sizes the filter. The full scratch keeps its count of bits as it was.
    private static int DistinctGrams(int set, int bits)
    {
        if (bits == 1 << NGramFilter.ScratchBits || set == 0)
        {
            return set;
        }

        return set >= bits ? bits * 16 : (int)Math.Min(bits * 16L, Math.Round(-bits * Math.Log(1 - ((double)set / bits))));
    }

    /// <summary>Forgets the grams added since the last write.</summary>
    public void Clear()
    {
        if (_dirty)
        {
            _scratch.AsSpan(0, _textWords).Clear();
            _dirty = false;
        }

        if (_idsDirty)
        {
            _ids.AsSpan(0, _idWords).Clear();
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
