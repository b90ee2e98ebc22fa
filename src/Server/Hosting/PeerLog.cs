namespace LokiSharp.Server.Hosting;

/// <summary>Log lines about the peer ingesters a querier reads.</summary>
internal static partial class PeerLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "peer ingesters")]
    public static partial void PeersProblem(this ILogger logger, string problem);
}
