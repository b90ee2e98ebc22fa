using System.Collections;
using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Text;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;

namespace LokiSharp.Server.Configuration;

/// <summary>
/// Binds a YAML node tree onto the typed configuration, keeping line numbers for error messages. Keys the
/// typed model lacks are looked up in the <see cref="ConfigKeyCatalog"/>: known ones are recorded as notices,
/// unknown ones stop loading.
/// </summary>
internal sealed class ConfigBinder
{
    private static readonly ConcurrentDictionary<Type, Dictionary<string, PropertyInfo>> PropertyMaps = new();

    private const string UnknownKey = "unknown configuration key (no Loki version accepts it; check its spelling and indentation)";

    private readonly ConfigKeyCatalog _catalog;
    private readonly string _source;
    private readonly List<ConfigNotice> _notices = [];

    // How many [InertKey] properties enclose the node being bound: under one, only deprecations get a notice.
    private int _inertDepth;

    public ConfigBinder(ConfigKeyCatalog catalog, string source)
    {
        _catalog = catalog;
        _source = source;
    }

    /// <summary>Keys accepted but not applied (unmodelled ones and <see cref="InertKeyAttribute"/> ones), in file order.</summary>
    public IReadOnlyList<ConfigNotice> Notices => _notices;

    /// <summary>Binds every key of <paramref name="node"/> onto <paramref name="target"/>.</summary>
    public void BindMapping(YamlMappingNode node, object target, string path)
    {
        var properties = PropertiesOf(target.GetType());
        foreach (var (keyNode, valueNode) in node.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key })
            {
                throw Error(keyNode, path, "a mapping key must be a plain string");
            }

            var childPath = path.Length == 0 ? key : path + "." + key;
            if (properties.TryGetValue(key, out var property))
            {
                if (IsNull(valueNode))
                {
                    continue;
                }

                var inert = property.IsDefined(typeof(InertKeyAttribute), inherit: false);
                if (inert && _inertDepth == 0)
                {
                    _notices.Add(new ConfigNotice(childPath, keyNode.Start.Line, ConfigNoticeKind.Ignored));
                }

                _inertDepth += inert ? 1 : 0;
                try
                {
                    var current = property.GetValue(target);
                    property.SetValue(target, ConvertNode(valueNode, property.PropertyType, current, childPath));
                }
                finally
                {
                    _inertDepth -= inert ? 1 : 0;
                }
            }
            else
            {
                AcceptUnmodelled(keyNode, valueNode, childPath);
            }
        }
    }

    /// <summary>The YAML names of a type's settable properties.</summary>
    public static Dictionary<string, PropertyInfo> PropertiesOf(Type type) => PropertyMaps.GetOrAdd(type, static t =>
    {
        var map = new Dictionary<string, PropertyInfo>(StringComparer.Ordinal);
        foreach (var property in t.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.CanWrite && property.GetIndexParameters().Length == 0)
            {
                map[YamlName(property)] = property;
            }
        }

        return map;
    });

    /// <summary>A property's key: its YamlMember alias, else its name in snake_case.</summary>
    public static string YamlName(PropertyInfo property)
    {
        var alias = property.GetCustomAttribute<YamlMemberAttribute>()?.Alias;
        return alias ?? SnakeCase(property.Name);
    }

    private static string SnakeCase(string name)
    {
        var sb = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                if (i > 0)
                {
                    sb.Append('_');
                }

                sb.Append(char.ToLowerInvariant(c));
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }

    private object? ConvertNode(YamlNode node, Type type, object? current, string path)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying == typeof(string))
        {
            return Scalar(node, path, "string");
        }

        if (underlying == typeof(bool))
        {
            var text = Scalar(node, path, "bool");
            return text.ToUpperInvariant() switch
            {
                "TRUE" or "YES" or "ON" => true,
                "FALSE" or "NO" or "OFF" => false,
                _ => throw TypeError(node, path, text, "bool"),
            };
        }

        if (underlying == typeof(int))
        {
            var text = Scalar(node, path, "int");
            return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
                ? value
                : throw TypeError(node, path, text, "int");
        }

        if (underlying == typeof(long))
        {
            var text = Scalar(node, path, "int");
            return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
                ? value
                : throw TypeError(node, path, text, "int");
        }

        if (underlying == typeof(double))
        {
            var text = Scalar(node, path, "float");
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                ? value
                : throw TypeError(node, path, text, "float");
        }

        if (underlying == typeof(TimeSpan))
        {
            var text = Scalar(node, path, "duration");
            return ConfigDuration.TryParse(text, out var value) ? value : throw TypeError(node, path, text, "duration");
        }

        if (underlying == typeof(ByteSize))
        {
            var text = Scalar(node, path, "byte size");
            return ByteSize.TryParse(text, out var value) ? value : throw TypeError(node, path, text, "byte size");
        }

        if (underlying == typeof(DateOnly))
        {
            var text = Scalar(node, path, "date");
            return DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var value)
                ? value
                : throw TypeError(node, path, text, "date (YYYY-MM-DD)");
        }

        if (underlying.IsGenericType && underlying.GetGenericTypeDefinition() == typeof(List<>))
        {
            if (node is not YamlSequenceNode sequence)
            {
                throw Error(node, path, "expected a list");
            }

            var elementType = underlying.GetGenericArguments()[0];
            var list = (IList)Activator.CreateInstance(underlying)!;
            foreach (var item in sequence.Children)
            {
                list.Add(ConvertNode(item, elementType, null, path + "[]"));
            }

            return list;
        }

        if (underlying.IsGenericType && underlying.GetGenericTypeDefinition() == typeof(Dictionary<,>))
        {
            if (node is not YamlMappingNode mapping)
            {
                throw Error(node, path, "expected a mapping");
            }

            var valueType = underlying.GetGenericArguments()[1];
            var dictionary = (IDictionary)Activator.CreateInstance(underlying, StringComparer.Ordinal)!;
            foreach (var (key, value) in mapping.Children)
            {
                var name = ((YamlScalarNode)key).Value ?? "";
                dictionary[name] = ConvertNode(value, valueType, null, path + ".*");
            }

            return dictionary;
        }

        if (underlying.IsClass)
        {
            if (node is not YamlMappingNode mapping)
            {
                throw Error(node, path, "expected a mapping of keys, found " + Describe(node));
            }

            var target = current ?? Activator.CreateInstance(underlying)!;
            BindMapping(mapping, target, path);
            return target;
        }

        throw Error(node, path, "unsupported configuration type " + underlying.Name);
    }

    // A key the typed model lacks: accept it only if some Loki version knows it, and check its shape.
    private void AcceptUnmodelled(YamlNode keyNode, YamlNode valueNode, string path)
    {
        var normalised = Normalise(path);
        var info = _catalog.Find(normalised);
        if (info is null)
        {
            throw Error(keyNode, path, UnknownKey);
        }

        CheckShape(valueNode, normalised, path, info);
        if (info.Deprecated || _inertDepth == 0)
        {
            _notices.Add(new ConfigNotice(path, keyNode.Start.Line, info.Deprecated ? ConfigNoticeKind.Deprecated : ConfigNoticeKind.Ignored));
        }
    }

    private void CheckShape(YamlNode node, string normalised, string path, ConfigKeyInfo info)
    {
        if (IsNull(node))
        {
            return;
        }

        var type = info.Type;
        if (type == "block")
        {
            if (node is not YamlMappingNode mapping)
            {
                throw Error(node, path, "expected a mapping of keys, found " + Describe(node));
            }

            foreach (var (key, value) in mapping.Children)
            {
                var name = ((YamlScalarNode)key).Value ?? "";
                var childNormalised = normalised + "." + name;
                var childInfo = _catalog.Find(childNormalised)
                    ?? throw Error(key, path + "." + name, UnknownKey);
                CheckShape(value, childNormalised, path + "." + name, childInfo);
            }

            return;
        }

        if (type.StartsWith("map", StringComparison.Ordinal))
        {
            if (node is not YamlMappingNode)
            {
                throw Error(node, path, "expected a mapping, found " + Describe(node));
            }

            return;
        }

        if (type.StartsWith("list", StringComparison.Ordinal))
        {
            if (node is YamlSequenceNode sequence)
            {
                var itemPath = normalised + "[]";
                foreach (var item in sequence.Children)
                {
                    if (item is not YamlMappingNode itemMapping)
                    {
                        continue;
                    }

                    foreach (var (key, value) in itemMapping.Children)
                    {
                        var name = ((YamlScalarNode)key).Value ?? "";
                        var childInfo = _catalog.Find(itemPath + "." + name)
                            ?? throw Error(key, path + "[]." + name, UnknownKey);
                        CheckShape(value, itemPath + "." + name, path + "[]." + name, childInfo);
                    }
                }

                return;
            }

            // Loki's flagext.StringSliceCSV also accepts a comma-separated string.
            if (node is YamlScalarNode)
            {
                return;
            }

            throw Error(node, path, "expected a list, found " + Describe(node));
        }

        if (node is not YamlScalarNode { Value: { } text })
        {
            throw Error(node, path, "expected a single " + type + " value, found " + Describe(node));
        }

        var valid = type switch
        {
            "int" => long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _),
            "float" => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _),
            "bool" => text.ToUpperInvariant() is "TRUE" or "FALSE" or "YES" or "NO" or "ON" or "OFF",
            "duration" => ConfigDuration.TryParse(text, out _),
            "bytes" => ByteSize.TryParse(text, out _),
            _ => true,
        };
        if (!valid)
        {
            throw TypeError(node, path, text, type);
        }
    }

    // Turns "limits_config.retention_stream[].selector" style paths with user map keys into catalog form.
    private string Normalise(string path)
    {
        var segments = path.Split('.');
        var sb = new StringBuilder(path.Length);
        for (var i = 0; i < segments.Length; i++)
        {
            if (i > 0)
            {
                sb.Append('.');
            }

            if (i > 0 && _catalog.IsUserKeyedMap(sb.ToString(0, sb.Length - 1)))
            {
                sb.Append('*');
            }
            else
            {
                sb.Append(segments[i]);
            }
        }

        return sb.ToString();
    }

    private static bool IsNull(YamlNode node) =>
        node is YamlScalarNode scalar && scalar.Style == YamlDotNet.Core.ScalarStyle.Plain
        && (scalar.Value is null or "" or "~" or "null" or "Null" or "NULL");

    private string Scalar(YamlNode node, string path, string expected) =>
        node is YamlScalarNode { Value: { } value }
            ? value
            : throw Error(node, path, "expected a single " + expected + " value, found " + Describe(node));

    private static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        YamlScalarNode s => "\"" + s.Value + "\"",
        _ => "an alias",
    };

    private ConfigException TypeError(YamlNode node, string path, string text, string expected) =>
        Error(node, path, $"cannot parse \"{text}\" as {expected}");

    private ConfigException Error(YamlNode node, string path, string message) =>
        new($"{_source}: line {node.Start.Line}, column {node.Start.Column}: key {path}: {message}");
}
