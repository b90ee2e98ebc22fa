using System.Reflection;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace LokiSharp.Server.Configuration;

/// <summary>A loaded configuration with the keys that were accepted but not applied.</summary>
/// <param name="Config">The effective configuration.</param>
/// <param name="Notices">Ignored and deprecated keys, each to be logged once.</param>
/// <param name="Source">Where it came from: a path, or <c>embedded default</c>.</param>
public sealed record LoadedConfig(LokiConfig Config, IReadOnlyList<ConfigNotice> Notices, string Source);

/// <summary>Reads Loki YAML configuration files into <see cref="LokiConfig"/>.</summary>
public static partial class ConfigLoader
{
    /// <summary>The name the embedded default configuration reports as its source.</summary>
    public const string EmbeddedSource = "embedded default config";

    private static readonly string[] ChunkEncodings =
        ["none", "gzip", "snappy", "lz4-64k", "lz4-256k", "lz4-1M", "lz4-4M", "flate", "zstd", "lz4"];

    /// <summary>Loads a file, optionally expanding <c>${VAR}</c> placeholders from the environment.</summary>
    public static LoadedConfig LoadFile(string path, bool expandEnv, Action<LokiConfig>? applyFlags = null)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"failed to read config file {path}: {e.Message}", e);
        }

        return LoadText(text, path, expandEnv, applyFlags);
    }

    /// <summary>The configuration built into the binary, used when no <c>-config.file</c> is given.</summary>
    public static LoadedConfig LoadEmbeddedDefault(Action<LokiConfig>? applyFlags = null) =>
        LoadText(EmbeddedDefaultText(), EmbeddedSource, expandEnv: false, applyFlags);

    /// <summary>The text of the embedded default configuration.</summary>
    public static string EmbeddedDefaultText()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("LokiSharp.Server.default-config.yaml")
            ?? throw new InvalidOperationException("the embedded default configuration is missing from the build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>
    /// Parses configuration text; <paramref name="source"/> names it in error messages. Command-line flags, when
    /// given, are applied after the file and before defaults are derived and the result validated.
    /// </summary>
    public static LoadedConfig LoadText(string text, string source, bool expandEnv, Action<LokiConfig>? applyFlags = null)
    {
        if (expandEnv)
        {
            text = EnvironmentExpander.Expand(text, Environment.GetEnvironmentVariable);
        }

        var root = ParseRoot(text, source);
        var config = new LokiConfig();
        var binder = new ConfigBinder(ConfigKeyCatalog.Embedded, source);
        if (root is not null)
        {
            binder.BindMapping(root, config, "");
            ApplyCommonS3(root, config, source);
        }

        applyFlags?.Invoke(config);

        ApplyCommonDefaults(config);
        Validate(config, source);
        return new LoadedConfig(config, SortedByLine(binder.Notices), source);
    }

    /// <summary>Parses a YAML document that must be a mapping (or empty); syntax errors name the line.</summary>
    internal static YamlMappingNode? ParseRoot(string text, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new ConfigException($"{source}: line {e.Start.Line}, column {e.Start.Column}: malformed YAML: {Innermost(e).Message}", e);
        }

        if (stream.Documents.Count == 0)
        {
            return null;
        }

        return stream.Documents[0].RootNode switch
        {
            YamlMappingNode mapping => mapping,
            YamlScalarNode { Value: null or "" } => null,
            var other => throw new ConfigException(
                $"{source}: line {other.Start.Line}, column {other.Start.Column}: the configuration must be a mapping of sections"),
        };
    }

    // Loki derives these paths from common.path_prefix and common.storage when they are not set explicitly.
    private static void ApplyCommonDefaults(LokiConfig config)
    {
        var prefix = config.Common.PathPrefix;
        var filesystem = config.Common.Storage.Filesystem;
        if (config.StorageConfig.Filesystem.Directory.Length == 0)
        {
            if (filesystem is { ChunksDirectory.Length: > 0 })
            {
                config.StorageConfig.Filesystem.Directory = filesystem.ChunksDirectory;
            }
            else if (prefix.Length > 0)
            {
                config.StorageConfig.Filesystem.Directory = Path.Combine(prefix, "chunks");
            }
        }

        if (prefix.Length == 0)
        {
            return;
        }

        if (config.Ingester.Wal.Dir == "wal")
        {
            config.Ingester.Wal.Dir = Path.Combine(prefix, "wal");
        }

        if (config.Compactor.WorkingDirectory.Length == 0)
        {
            config.Compactor.WorkingDirectory = Path.Combine(prefix, "compactor");
        }

        foreach (var shipper in new[] { (config.StorageConfig.TsdbShipper, "tsdb"), (config.StorageConfig.BoltdbShipper, "boltdb") })
        {
            if (shipper.Item1.ActiveIndexDirectory.Length == 0)
            {
                shipper.Item1.ActiveIndexDirectory = Path.Combine(prefix, shipper.Item2 + "-shipper-active");
            }

            if (shipper.Item1.CacheLocation.Length == 0)
            {
                shipper.Item1.CacheLocation = Path.Combine(prefix, shipper.Item2 + "-shipper-cache");
            }
        }
    }

    private static void Validate(LokiConfig config, string source)
    {
        void Fail(string key, string message) => throw new ConfigException($"{source}: key {key}: {message}");

        // Loki rejects bad otlp_config rules while parsing the file, before any other check.
        config.LimitsConfig.OtlpConfig?.ToMapping(config.Distributor.OtlpConfig.DefaultResourceAttributesAsIndexLabels, source, "limits_config.otlp_config");

        try
        {
            Hosting.ModuleTargets.Parse(config.Target);
        }
        catch (ConfigException e)
        {
            Fail("target", e.Message);
        }

        if (config.Server.HttpListenPort is < 0 or > 65535)
        {
            Fail("server.http_listen_port", $"port {config.Server.HttpListenPort} is out of range");
        }

        if (config.Server.GrpcListenPort is < 0 or > 65535)
        {
            Fail("server.grpc_listen_port", $"port {config.Server.GrpcListenPort} is out of range");
        }

        if (config.Server.LogLevel is not ("debug" or "info" or "warn" or "error"))
        {
            Fail("server.log_level", $"unrecognized log level \"{config.Server.LogLevel}\"");
        }

        if (config.Server.LogFormat is not ("logfmt" or "json"))
        {
            Fail("server.log_format", $"unrecognized log format \"{config.Server.LogFormat}\", use logfmt or json");
        }

        if (Array.IndexOf(ChunkEncodings, config.Ingester.ChunkEncoding) < 0)
        {
            Fail("ingester.chunk_encoding", $"unknown chunk encoding \"{config.Ingester.ChunkEncoding}\", use one of: {string.Join(", ", ChunkEncodings)}");
        }

        var periods = config.SchemaConfig.Configs;
        if (periods.Count == 0)
        {
            Fail("schema_config.configs", "must specify at least one schema configuration");
        }

        for (var i = 0; i < periods.Count; i++)
        {
            var period = periods[i];
            var key = $"schema_config.configs[{i}]";
            if (i > 0 && period.From <= periods[i - 1].From)
            {
                Fail(key + ".from", "from time in schemas must be distinct and in increasing order");
            }

            if (!IsSchemaVersion(period.Schema))
            {
                Fail(key + ".schema", $"invalid schema version \"{period.Schema}\"");
            }

            if (period.Index.Period.Ticks % TimeSpan.TicksPerDay != 0 || period.Index.Period <= TimeSpan.Zero)
            {
                Fail(key + ".index.period", "the table period must be a multiple of 24h");
            }

            if (period.Store == "tsdb" && period.Index.Period != TimeSpan.FromHours(24))
            {
                Fail(key + ".index.period", "tsdb must always have periodic config for index set to 24h");
            }
        }

        ValidateObjectStores(config, source);

        foreach (var rule in config.LimitsConfig.RetentionStream)
        {
            if (rule.Selector.Length == 0)
            {
                Fail("limits_config.retention_stream[].selector", "a retention_stream rule needs a selector");
            }
        }
    }

    private static List<ConfigNotice> SortedByLine(IReadOnlyList<ConfigNotice> notices)
    {
        var sorted = new List<ConfigNotice>(notices);
        sorted.Sort(static (a, b) => a.Line.CompareTo(b.Line));
        return sorted;
    }

    private static bool IsSchemaVersion(string schema) =>
        schema.Length >= 2 && schema[0] == 'v' && int.TryParse(schema.AsSpan(1), out var version) && version is >= 1 and <= 13;

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e;
    }
}
