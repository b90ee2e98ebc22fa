using LokiSharp.Server.Configuration;

namespace LokiSharp.Server.Hosting;

/// <summary>The start-up log lines: version, config source, and each ignored key or flag once.</summary>
internal static partial class StartupLog
{
    public static void Write(WebApplication app, LoadedConfig loaded, CommandLineFlags flags)
    {
        var logger = Logger(app);
        var build = BuildInfo.Current;
        Starting(logger, build.Version, build.Revision, loaded.Source);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var notice in loaded.Notices)
        {
            if (!seen.Add(notice.Key))
            {
                continue;
            }

            if (notice.Kind == ConfigNoticeKind.Deprecated)
            {
                DeprecatedKey(logger, notice.Key, notice.Line);
            }
            else
            {
                IgnoredKey(logger, notice.Key, notice.Line);
            }
        }

        foreach (var flag in flags.IgnoredFlags)
        {
            IgnoredFlag(logger, "-" + flag);
        }
    }

    /// <summary>The logger for start-up and fatal errors; taken before the host runs, while its services exist.</summary>
    public static ILogger Logger(WebApplication app) => app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("LokiSharp.Server.main");

    public static void Failed(ILogger logger, Exception e) => StartFailed(logger, e);

    [LoggerMessage(Level = LogLevel.Information, Message = "Starting LokiSharp")]
    private static partial void Starting(ILogger logger, string version, string revision, string config);

    [LoggerMessage(Level = LogLevel.Warning, Message = "config key is not implemented by LokiSharp and is ignored")]
    private static partial void IgnoredKey(ILogger logger, string key, long line);

    [LoggerMessage(Level = LogLevel.Warning, Message = "config key is deprecated in Loki and ignored")]
    private static partial void DeprecatedKey(ILogger logger, string key, long line);

    [LoggerMessage(Level = LogLevel.Warning, Message = "flag is not implemented by LokiSharp and is ignored")]
    private static partial void IgnoredFlag(ILogger logger, string flag);

    [LoggerMessage(Level = LogLevel.Error, Message = "error running LokiSharp")]
    private static partial void StartFailed(ILogger logger, Exception e);
}
