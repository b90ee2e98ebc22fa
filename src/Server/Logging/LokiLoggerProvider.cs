using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using LokiSharp.LogQL.Text;

namespace LokiSharp.Server.Logging;

/// <summary>
/// Writes log lines the way Loki does: logfmt (<c>level=info ts=... caller=... msg="..."</c>) or the same keys as
/// JSON, with the message template's arguments as extra keys.
/// </summary>
public sealed class LokiLoggerProvider : ILoggerProvider
{
    private readonly LogLevelSwitch _level;
    private readonly bool _json;
    private readonly TextWriter _output;
    private readonly Lock _writeLock = new();

    public LokiLoggerProvider(LogLevelSwitch level, bool json, TextWriter output)
    {
        _level = level;
        _json = json;
        _output = output;
    }

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new LokiLogger(this, Caller(categoryName));

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_writeLock)
        {
            _output.Flush();
        }
    }

    // Loki's caller is file:line; ours is the component name, the last segment of the logger category.
    private static string Caller(string category)
    {
        var dot = category.LastIndexOf('.');
        return dot >= 0 ? category[(dot + 1)..] : category;
    }

    private void Write(LogLevel level, string caller, string message, IReadOnlyList<KeyValuePair<string, object?>>? state, Exception? exception)
    {
        var fields = new List<KeyValuePair<string, string>>(6)
        {
            new("level", LogLevelSwitch.NameOf(level)),
            new("ts", DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture)),
            new("caller", caller),
            new("msg", message),
        };
        if (state is not null)
        {
            var template = "";
            foreach (var (key, value) in state)
            {
                if (key == "{OriginalFormat}")
                {
                    template = value as string ?? "";
                }
            }

            foreach (var (key, value) in state)
            {
                // Arguments already spelled out in msg are not repeated as keys.
                if (key != "{OriginalFormat}" && !template.Contains("{" + key + "}", StringComparison.Ordinal))
                {
                    fields.Add(new(key, Convert.ToString(value, CultureInfo.InvariantCulture) ?? ""));
                }
            }
        }

        if (exception is not null)
        {
            fields.Add(new("err", exception.Message));
        }

        var line = _json ? FormatJson(fields) : FormatLogfmt(fields);
        lock (_writeLock)
        {
            _output.WriteLine(line);
            _output.Flush();
        }
    }

    private static string FormatLogfmt(List<KeyValuePair<string, string>> fields)
    {
        var sb = new StringBuilder(128);
        foreach (var (key, value) in fields)
        {
            if (sb.Length > 0)
            {
                sb.Append(' ');
            }

            sb.Append(key).Append('=');
            if (value.Length == 0 || value.AsSpan().IndexOfAny(" =\"\\") >= 0 || HasControl(value))
            {
                GoString.AppendQuoted(sb, value);
            }
            else
            {
                sb.Append(value);
            }
        }

        return sb.ToString();
    }

    private static bool HasControl(string value)
    {
        foreach (var c in value)
        {
            if (c < 0x20 || c == 0x7f)
            {
                return true;
            }
        }

        return false;
    }

    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string FormatJson(List<KeyValuePair<string, string>> fields)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, JsonOptions))
        {
            writer.WriteStartObject();
            foreach (var (key, value) in fields)
            {
                writer.WriteString(key, value);
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private sealed class LokiLogger(LokiLoggerProvider provider, string caller) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= provider._level.Level;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            provider.Write(logLevel, caller, formatter(state, exception), state as IReadOnlyList<KeyValuePair<string, object?>>, exception);
        }
    }
}
