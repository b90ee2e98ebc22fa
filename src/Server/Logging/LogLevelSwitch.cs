namespace LokiSharp.Server.Logging;

/// <summary>The process-wide minimum log level, changeable at run time through <c>/log_level</c>.</summary>
public sealed class LogLevelSwitch
{
    private volatile int _level;

    public LogLevelSwitch(string name) => Set(name);

    /// <summary>The minimum level that is written.</summary>
    public LogLevel Level => (LogLevel)_level;

    /// <summary>The level by Loki's name: debug, info, warn or error.</summary>
    public string Name => NameOf(Level);

    /// <summary>Sets the level from Loki's name; returns false for an unknown name.</summary>
    public bool TrySet(string name)
    {
        var level = Parse(name);
        if (level is null)
        {
            return false;
        }

        _level = (int)level.Value;
        return true;
    }

    private void Set(string name)
    {
        if (!TrySet(name))
        {
            throw new ArgumentException($"unrecognized log level \"{name}\"", nameof(name));
        }
    }

    /// <summary>Loki's level names mapped onto .NET's.</summary>
    public static LogLevel? Parse(string name) => name switch
    {
        "debug" => LogLevel.Debug,
        "info" => LogLevel.Information,
        "warn" => LogLevel.Warning,
        "error" => LogLevel.Error,
        _ => null,
    };

    /// <summary>The Loki name of a .NET level.</summary>
    public static string NameOf(LogLevel level) => level switch
    {
        LogLevel.Trace or LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        _ => "error",
    };
}
