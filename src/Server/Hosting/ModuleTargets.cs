using LokiSharp.Server.Configuration;

namespace LokiSharp.Server.Hosting;

/// <summary>
/// What <c>-target</c> (or <c>target:</c>) asks this process to run: Loki's comma-separated list of targets,
/// expanded to the modules LokiSharp implements. The one place that knows which target runs which module.
/// </summary>
/// <remarks>
/// Loki 3.x (pkg/loki/loki.go, up to v3.7) expands <c>read</c> to query-frontend + querier, <c>write</c> to
/// distributor + ingester + pattern-ingester and <c>backend</c> to query-scheduler, ruler, compactor,
/// index-gateway and the bloom modules; LokiSharp runs the parts of those it has (its pattern detection is part
/// of the querier). Loki's main branch has since removed the
/// three aliases; LokiSharp keeps them because 3.x configurations and Helm charts use them.
/// </remarks>
public sealed class ModuleTargets
{
    /// <summary>Loki's module names for the modules a target can select.</summary>
    public const string Distributor = "distributor";

    /// <inheritdoc cref="Distributor"/>
    public const string Ingester = "ingester";

    /// <inheritdoc cref="Distributor"/>
    public const string QueryFrontend = "query-frontend";

    /// <inheritdoc cref="Distributor"/>
    public const string Querier = "querier";

    /// <inheritdoc cref="Distributor"/>
    public const string Compactor = "compactor";

    /// <inheritdoc cref="Distributor"/>
    public const string Ruler = "ruler";

    /// <summary>The targets LokiSharp accepts and the modules each runs, in the order <c>-help</c> lists them.</summary>
    public static readonly IReadOnlyList<(string Target, string[] Modules)> Supported =
    [
        ("all", [Distributor, Ingester, QueryFrontend, Querier, Compactor, Ruler]),
        ("read", [QueryFrontend, Querier]),
        ("write", [Distributor, Ingester]),
        ("backend", [Compactor, Ruler]),
        (Distributor, [Distributor]),
        (Ingester, [Ingester]),
        (Querier, [Querier]),
        (Compactor, [Compactor]),
        (Ruler, [Ruler]),
    ];

    // Targets Loki 3.x accepts that LokiSharp does not run (its user-visible modules, the aliases' parts, and the
    // internal modules Loki also lets one target). Anything else is a typo, answered in Loki's words.
    private static readonly HashSet<string> LokiOnly = new(StringComparer.Ordinal)
    {
        QueryFrontend, "query-scheduler", "index-gateway", "pattern-ingester", "table-manager",
        "ingester-querier", "overrides-exporter", "bloom-planner", "bloom-builder", "bloom-gateway", "ui",
        "ingest-limits", "ingest-limits-frontend", "dataobj-consumer", "dataobj-explorer", "dataobj-index-builder",
        "server", "internal-server", "store", "ring", "overrides", "tenant-configs", "runtime-config", "memberlist-kv",
        "analytics", "cache-generation-loader", "ruler-storage", "rule-evaluator", "bloom-store",
    };

    private readonly HashSet<string> _modules;

    private ModuleTargets(IReadOnlyList<string> targets, HashSet<string> modules)
    {
        Targets = targets;
        _modules = modules;
    }

    /// <summary>The targets as given, e.g. <c>[querier, compactor]</c>.</summary>
    public IReadOnlyList<string> Targets { get; }

    /// <summary>Whether the distributor runs: the push routes (HTTP, OTLP, gRPC).</summary>
    public bool RunsDistributor => _modules.Contains(Distributor);

    /// <summary>Whether the ingester runs: WAL, head, flushes, <c>/flush</c>, <c>/ingester/shutdown</c>.</summary>
    public bool RunsIngester => _modules.Contains(Ingester);

    /// <summary>Whether the query-frontend runs; in LokiSharp it is the query API that the querier answers.</summary>
    public bool RunsQueryFrontend => _modules.Contains(QueryFrontend);

    /// <summary>Whether the querier runs: the query, metadata, tail, detected and patterns routes.</summary>
    public bool RunsQuerier => _modules.Contains(Querier);

    /// <summary>Whether the compactor runs: retention, delete requests and the delete API.</summary>
    public bool RunsCompactor => _modules.Contains(Compactor);

    /// <summary>Whether the ruler runs: rule evaluation and the rules API.</summary>
    public bool RunsRuler => _modules.Contains(Ruler);

    /// <summary>Whether this process writes to the chunk store (and so must be its only writer).</summary>
    public bool WritesStore => RunsIngester || RunsCompactor;

    /// <summary>Whether module <paramref name="name"/> runs.</summary>
    public bool Runs(string name) => _modules.Contains(name);

    /// <summary>
    /// Parses a target list such as <c>read</c> or <c>querier,compactor</c> (the union of the modules of each);
    /// throws <see cref="ConfigException"/> naming the target for one LokiSharp does not run or Loki does not know.
    /// </summary>
    public static ModuleTargets Parse(string target)
    {
        var targets = new List<string>();
        var modules = new HashSet<string>(StringComparer.Ordinal);
        foreach (var part in target.Split(','))
        {
            var name = part.Trim();
            var found = false;
            foreach (var (supported, expanded) in Supported)
            {
                if (supported == name)
                {
                    modules.UnionWith(expanded);
                    found = true;
                    break;
                }
            }

            if (!found)
            {
                throw new ConfigException(LokiOnly.Contains(name)
                    ? $"target \"{name}\" is not supported by LokiSharp; it runs {SupportedList()}"
                    : $"unrecognised module name: {name}");
            }

            targets.Add(name);
        }

        // Until distributors can reach other ingesters (peers, issue #19), a distributor pushes into its own.
        if (modules.Contains(Distributor) && !modules.Contains(Ingester))
        {
            throw new ConfigException(
                "target \"distributor\" needs the ingester in the same process: LokiSharp cannot forward pushes to other ingesters yet; " +
                "use -target=write or -target=distributor,ingester");
        }

        return new ModuleTargets(targets, modules);
    }

    /// <summary>The supported targets as <c>-help</c> and errors list them.</summary>
    public static string SupportedList() => string.Join(", ", Supported.Select(static s => s.Target));
}
