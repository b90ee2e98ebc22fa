using System.Reflection;

namespace LokiSharp.Server.Configuration;

/// <summary>How Loki declares a configuration key: its YAML kind and whether it is a 2.x leftover.</summary>
public sealed record ConfigKeyInfo(string Path, string Type, bool Deprecated);

/// <summary>
/// Every configuration key some Loki version accepts (3.x, plus the 2.x keys old files still carry), loaded from
/// the embedded <c>loki-config-keys.txt</c>. Keys LokiSharp does not model are checked against it, so a
/// real Loki file loads while a misspelt key still stops start-up.
/// </summary>
public sealed class ConfigKeyCatalog
{
    private readonly Dictionary<string, ConfigKeyInfo> _keys;

    private ConfigKeyCatalog(Dictionary<string, ConfigKeyInfo> keys) => _keys = keys;

    /// <summary>The catalog shipped inside the server assembly.</summary>
    public static ConfigKeyCatalog Embedded { get; } = LoadEmbedded();

    /// <summary>Number of known key paths.</summary>
    public int Count => _keys.Count;

    /// <summary>Parses the tab-separated catalog format: <c>path, type[, deprecated]</c>; <c>#</c> starts a comment.</summary>
    public static ConfigKeyCatalog Parse(TextReader reader)
    {
        var keys = new Dictionary<string, ConfigKeyInfo>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var parts = line.Split('\t');
            var path = parts[0].Trim();
            var type = parts.Length > 1 ? parts[1].Trim() : "string";
            var deprecated = parts.Length > 2 && parts[2].Trim() == "deprecated";
            keys[path] = new ConfigKeyInfo(path, type, deprecated);
        }

        return new ConfigKeyCatalog(keys);
    }

    /// <summary>Looks up a normalised path (list items as <c>[]</c>, user-chosen map keys as <c>*</c>).</summary>
    public ConfigKeyInfo? Find(string path) => _keys.GetValueOrDefault(path);

    /// <summary>Whether <paramref name="path"/> is a map whose child keys are user-chosen names.</summary>
    public bool IsUserKeyedMap(string path) =>
        _keys.TryGetValue(path, out var info) && info.Type.StartsWith("map", StringComparison.Ordinal);

    private static ConfigKeyCatalog LoadEmbedded()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("LokiSharp.Server.loki-config-keys.txt")
            ?? throw new InvalidOperationException("the embedded configuration key catalog is missing from the build");
        using var reader = new StreamReader(stream);
        return Parse(reader);
    }
}
