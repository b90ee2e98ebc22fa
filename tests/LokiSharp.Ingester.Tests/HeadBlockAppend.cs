using System.Buffers;
using LokiSharp.Ingester.Head;
using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Chunks;

namespace LokiSharp.Ingester.Tests;

/// <summary>One entry with its metadata as label pairs, appended as WAL replay appends it (the server appends pushes whole).</summary>
internal static class HeadBlockAppend
{
    public static void Append(this HeadBlock block, long timestamp, ReadOnlySpan<byte> line, ReadOnlySpan<LabelPair> metadata, long recordId,
        long walSegment, long now, ChunkBuilderPool builders)
    {
        var encoded = new ArrayBufferWriter<byte>(64);
        StructuredMetadata.Encode(encoded, metadata);
        block.AppendEncoded(timestamp, line, encoded.WrittenSpan, recordId, walSegment, now, builders);
    }
}
