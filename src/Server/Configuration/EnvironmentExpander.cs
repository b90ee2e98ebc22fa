using System.Text;

namespace LokiSharp.Server.Configuration;

/// <summary>
/// Replaces <c>${VAR}</c> and <c>${VAR:-default}</c> in a config file before parsing, as Loki does with
/// <c>-config.expand-env=true</c>. An unset variable without a default becomes empty.
/// </summary>
public static class EnvironmentExpander
{
    /// <summary>Expands placeholders using <paramref name="lookup"/> (normally the process environment).</summary>
    public static string Expand(string text, Func<string, string?> lookup)
    {
        var index = text.IndexOf("${", StringComparison.Ordinal);
        if (index < 0)
        {
            return text;
        }

        var sb = new StringBuilder(text.Length);
        var position = 0;
        while (index >= 0)
        {
            var close = text.IndexOf('}', index + 2);
            if (close < 0)
            {
                break;
            }

            sb.Append(text, position, index - position);
            var body = text.AsSpan(index + 2, close - index - 2);
            var separator = body.IndexOf(":-", StringComparison.Ordinal);
            var name = separator >= 0 ? body[..separator].ToString() : body.ToString();
            var value = lookup(name);
            if (string.IsNullOrEmpty(value) && separator >= 0)
            {
                value = body[(separator + 2)..].ToString();
            }

            sb.Append(value);
            position = close + 1;
            index = text.IndexOf("${", position, StringComparison.Ordinal);
        }

        sb.Append(text, position, text.Length - position);
        return sb.ToString();
    }
}
