using LokiSharp.Ingester.Otlp;
using LokiSharp.Server.Hosting;
using YamlDotNet.RepresentationModel;

namespace LokiSharp.Server.Configuration;

/// <summary>
/// Loki's <c>runtime-config</c> module: per-tenant limits from the <c>overrides:</c> map of
/// <c>runtime_config.file</c>, laid over <c>limits_config</c> and reloaded every <c>runtime_config.period</c>.
/// A file that fails to load at start-up stops the server; a bad reload is logged and the last good one kept.
/// </summary>
public sealed partial class TenantLimitsSource : ILokiModule, IDisposable
{
    private readonly LimitsConfig _defaults;
    private readonly RuntimeConfigSection _settings;
    private readonly ILogger<TenantLimitsSource> _logger;
    private volatile Dictionary<string, LimitsConfig> _overrides = new(StringComparer.Ordinal);
    private DateTime _lastWrite;
    private Timer? _timer;

    public TenantLimitsSource(LokiConfig config, ILogger<TenantLimitsSource> logger)
    {
        _defaults = config.LimitsConfig;
        _settings = config.RuntimeConfig;
        DefaultOtlpIndexLabels = config.Distributor.OtlpConfig.DefaultResourceAttributesAsIndexLabels;
        _logger = logger;
    }

    /// <inheritdoc />
    public string Name => "runtime-config";

    /// <summary>The limits in force for a tenant: its overrides if any, else <c>limits_config</c>.</summary>
    public LimitsConfig LimitsFor(string tenant) => _overrides.GetValueOrDefault(tenant) ?? _defaults;

    /// <summary>
    /// The limits of a query over several tenants, combined as Loki's frontend does: the smallest positive
    /// entries, series, length, lookback and split interval of them all, the longest timeout and freshness.
    /// </summary>
    public LimitsConfig LimitsFor(IReadOnlyList<string> tenants)
    {
        var all = tenants.Select(LimitsFor).ToList();
        if (all.Count == 1)
        {
            return all[0];
        }

        var combined = all[0].Clone();
        combined.MaxEntriesLimitPerQuery = (int)SmallestPositive(all.Select(l => (long)l.MaxEntriesLimitPerQuery));
        combined.MaxQuerySeries = (int)SmallestPositive(all.Select(l => (long)l.MaxQuerySeries));
        combined.MaxQueryLength = TimeSpan.FromTicks(SmallestPositive(all.Select(l => l.MaxQueryLength.Ticks)));
        combined.MaxQueryLookback = TimeSpan.FromTicks(SmallestPositive(all.Select(l => l.MaxQueryLookback.Ticks)));
        combined.SplitQueriesByInterval = TimeSpan.FromTicks(SmallestPositive(all.Select(l => l.SplitQueriesByInterval.Ticks)));
        combined.QueryTimeout = all.Max(l => l.QueryTimeout);
        combined.MaxCacheFreshnessPerQuery = all.Max(l => l.MaxCacheFreshnessPerQuery);
        return combined;
    }

    // 0 (unlimited) only when every tenant is unlimited.
    private static long SmallestPositive(IEnumerable<long> values) => values.Where(v => v > 0).DefaultIfEmpty(0).Min();

    /// <summary>
    /// <c>distributor.otlp_config.default_resource_attributes_as_index_labels</c>, put before every tenant's
    /// resource rules unless it sets <c>ignore_defaults</c>.
    /// </summary>
    public IReadOnlyList<string> DefaultOtlpIndexLabels { get; }

    /// <summary>Tenants that have overrides.</summary>
    public IReadOnlyCollection<string> TenantsWithOverrides => _overrides.Keys;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_settings.File.Length == 0)
        {
            return Task.CompletedTask;
        }

        Reload();
        if (_settings.Period > TimeSpan.Zero)
        {
            _timer = new Timer(_ => TryReload(), null, _settings.Period, _settings.Period);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public void Dispose() => _timer?.Dispose();

    /// <summary>Parses a runtime configuration text into per-tenant limits over <paramref name="defaults"/>.</summary>
    public static Dictionary<string, LimitsConfig> ParseOverrides(string text, string source, LimitsConfig defaults)
    {
        var result = new Dictionary<string, LimitsConfig>(StringComparer.Ordinal);
        var root = ConfigLoader.ParseRoot(text, source);
        if (root is null)
        {
            return result;
        }

        foreach (var (key, value) in root.Children)
        {
            if (key is YamlScalarNode { Value: "overrides" } && value is YamlMappingNode tenants)
            {
                foreach (var (tenantNode, limitsNode) in tenants.Children)
                {
                    var tenant = ((YamlScalarNode)tenantNode).Value ?? "";
                    var limits = defaults.Clone();
                    if (limitsNode is YamlMappingNode mapping)
                    {
                        // As in Loki, a tenant's otlp_config replaces the default one whole rather than merging into it.
                        limits.OtlpConfig = null;
                        var tenantSource = $"{source} (overrides for tenant {tenant})";
                        new ConfigBinder(ConfigKeyCatalog.Embedded, tenantSource).BindMapping(mapping, limits, "limits_config");
                        if (limits.OtlpConfig is null)
                        {
                            limits.OtlpConfig = defaults.OtlpConfig?.Clone();
                        }
                        else
                        {
                            limits.OtlpConfig.ToMapping(OtlpMapping.DefaultIndexLabelAttributes, tenantSource, "limits_config.otlp_config");
                        }
                    }

                    result[tenant] = limits;
                }
            }
        }

        return result;
    }

    private void Reload()
    {
        var path = _settings.File;
        _lastWrite = File.GetLastWriteTimeUtc(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"failed to read runtime config file {path}: {e.Message}", e);
        }

        _overrides = ParseOverrides(text, path, _defaults);
        LogLoaded(path, _overrides.Count);
    }

    private void TryReload()
    {
        try
        {
            if (File.GetLastWriteTimeUtc(_settings.File) != _lastWrite)
            {
                Reload();
            }
        }
        catch (ConfigException e)
        {
            LogReloadFailed(e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "runtime config loaded")]
    private partial void LogLoaded(string file, int tenants);

    [LoggerMessage(Level = LogLevel.Error, Message = "failed to reload runtime config, keeping the previous one")]
    private partial void LogReloadFailed(string err);
}
