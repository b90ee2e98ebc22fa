using LokiSharp.Ruler.RemoteWrite;
using LokiSharp.Ruler.RemoteWrite.Protos;
using Prometheus;
using Snappier;

namespace LokiSharp.Ruler.Tests.RemoteWrite;

internal static class RemoteWriteTestData
{
    public static RemoteWriteMetrics NewMetrics() => new(Metrics.WithCustomRegistry(Metrics.NewCustomRegistry()));

    public static WriteRequest Decode(byte[] body) => WriteRequest.Parser.ParseFrom(Snappy.DecompressToArray(body));

    public static string RemoteName(Uri url) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(url.ToString())))[..6];
}
