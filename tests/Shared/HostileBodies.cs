using System.IO.Compression;
using System.Text;

namespace LokiSharp.Tests.Shared;

/// <summary>
/// Hostile push bodies the room tests and the integration tests both send; compiled into each of those projects
/// (linked from their csproj), as test projects do not reference one another.
/// </summary>
internal static class HostileBodies
{
    /// <summary>Concatenated gzip members inflate as one stream: a few kilobytes that inflate to many megabytes.</summary>
    public static byte[] GzipBomb(int inflatedMegabytes)
    {
        using var member = new MemoryStream();
        using (var gzip = new GZipStream(member, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            gzip.Write(new byte[1 << 20]);
        }

        var one = member.ToArray();
        var bomb = new byte[one.Length * inflatedMegabytes];
        for (var i = 0; i < inflatedMegabytes; i++)
        {
            one.CopyTo(bomb, i * one.Length);
        }

        return bomb;
    }

    /// <summary>A JSON body with raw bytes spliced in where the text says BAD.</summary>
    public static byte[] WithRawBytes(string json, params byte[] bad)
    {
        var parts = json.Split("BAD");
        var bytes = new List<byte>(Encoding.UTF8.GetBytes(parts[0]));
        for (var i = 1; i < parts.Length; i++)
        {
            bytes.AddRange(bad);
            bytes.AddRange(Encoding.UTF8.GetBytes(parts[i]));
        }

        return [.. bytes];
    }
}
