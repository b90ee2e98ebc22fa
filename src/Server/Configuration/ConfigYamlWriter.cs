using System.Collections;
using System.Globalization;
using System.Reflection;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace LokiSharp.Server.Configuration;

/// <summary>Prints a configuration as Loki's <c>/config</c> endpoint does: full, only the differences, or the defaults.</summary>
public static class ConfigYamlWriter
{
    /// <summary>The whole configuration as YAML.</summary>
    public static string Write(LokiConfig config) => Serialize(ToNode(config));

    /// <summary>Only the values that differ from Loki's defaults, like <c>/config?mode=diff</c>.</summary>
    public static string WriteDiff(LokiConfig config, LokiConfig defaults)
    {
        var diff = Diff((YamlMappingNode)ToNode(defaults), (YamlMappingNode)ToNode(config));
        return Serialize(diff);
    }

    /// <summary>The per-tenant overrides in force, as the runtime config file's <c>overrides:</c> map.</summary>
    public static string WriteOverrides(Dictionary<string, LimitsConfig> overrides)
    {
        var root = new YamlMappingNode { { "overrides", ToNode(overrides) } };
        return Serialize(root);
    }

    private static string Serialize(YamlNode node)
    {
        var stream = new YamlStream(new YamlDocument(node));
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        stream.Save(writer, assignAnchors: false);
        var text = writer.ToString();

        // YamlStream closes the document with "...", which Loki's output does not have.
        return text.EndsWith("...\n", StringComparison.Ordinal) ? text[..^4] : text;
    }

    private static YamlMappingNode Diff(YamlMappingNode defaults, YamlMappingNode actual)
    {
        var output = new YamlMappingNode();
        foreach (var (key, value) in actual.Children)
        {
            if (!defaults.Children.TryGetValue(key, out var defaultValue))
            {
                output.Add(key, value);
                continue;
            }

            if (value is YamlMappingNode mapping && defaultValue is YamlMappingNode defaultMapping)
            {
                var nested = Diff(defaultMapping, mapping);
                if (nested.Children.Count > 0)
                {
                    output.Add(key, nested);
                }
            }
            else if (!value.Equals(defaultValue))
            {
                output.Add(key, value);
            }
        }

        return output;
    }

    private static YamlNode ToNode(object? value)
    {
        switch (value)
        {
            case null:
                return new YamlScalarNode("null");
            case string s:
                return new YamlScalarNode(s) { Style = s.Length == 0 || NeedsQuotes(s) ? ScalarStyle.DoubleQuoted : ScalarStyle.Plain };
            case bool b:
                return new YamlScalarNode(b ? "true" : "false");
            case int or long:
                return new YamlScalarNode(Convert.ToString(value, CultureInfo.InvariantCulture));
            case double d:
                return new YamlScalarNode(d.ToString("R", CultureInfo.InvariantCulture));
            case TimeSpan t:
                return new YamlScalarNode(ConfigDuration.Format(t));
            case ByteSize size:
                return new YamlScalarNode(size.ToString());
            case DateOnly date:
                return new YamlScalarNode(date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            case IDictionary dictionary:
                {
                    var mapping = new YamlMappingNode();
                    var keys = new List<string>();
                    foreach (var key in dictionary.Keys)
                    {
                        keys.Add((string)key);
                    }

                    keys.Sort(StringComparer.Ordinal);
                    foreach (var key in keys)
                    {
                        mapping.Add(key, ToNode(dictionary[key]));
                    }

                    return mapping;
                }

            case IList list:
                {
                    var sequence = new YamlSequenceNode();
                    foreach (var item in list)
                    {
                        sequence.Add(ToNode(item));
                    }

                    return sequence;
                }

            default:
                {
                    var mapping = new YamlMappingNode();
                    foreach (var (name, property) in ConfigBinder.PropertiesOf(value.GetType()))
                    {
                        var propertyValue = property.GetValue(value);
                        if (propertyValue is string text && property.GetCustomAttribute<SecretAttribute>() is { } secret)
                        {
                            propertyValue = secret.Redact(text);
                        }

                        if (propertyValue is not null)
                        {
                            mapping.Add(name, ToNode(propertyValue));
                        }
                    }

                    return mapping;
                }
        }
    }

    private static bool NeedsQuotes(string s) =>
        s is "true" or "false" or "null" or "~" or "yes" or "no" or "on" or "off"
        || char.IsAsciiDigit(s[0]) || s.AsSpan().IndexOfAny(":#{}[]&*!|>'\"%@`,") >= 0 || s[0] is '-' or ' ' || s[^1] == ' ';
}
