using LokiSharp.LogQL.Labels;

namespace LokiSharp.Ruler.Configuration;

/// <summary>
/// The ruler's settings (Loki's <c>ruler:</c> block): where rules live, how often groups are evaluated and the
/// directory polled, the alert-state timings, and the settings of the Alertmanager and remote-write clients.
/// </summary>
public sealed record RulerOptions
{
    /// <summary>
    /// The local rule directory (<c>ruler.storage.local.directory</c>, or <c>common.storage.filesystem.rules_directory</c>):
    /// <c>&lt;dir&gt;/&lt;tenant&gt;/&lt;namespace&gt;</c>.
    /// </summary>
    public required string RuleDirectory { get; init; }

    /// <summary><c>rule_path</c>: Loki's copy of the rule files; here only the file part of the <c>rule_group</c> metric label.</summary>
    public string RulePath { get; init; } = "/rules";

    /// <summary><c>evaluation_interval</c>: the interval of groups that set none.</summary>
    public TimeSpan EvaluationInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary><c>poll_interval</c>: how often the rule directory is read again.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary><c>external_url</c>: the base of alerts' <c>generatorURL</c> and the templates' <c>$externalURL</c>.</summary>
    public string ExternalUrl { get; init; } = "";

    /// <summary><c>datasource_uid</c>: the Grafana datasource named in <c>generatorURL</c> links, empty for none.</summary>
    public string DatasourceUid { get; init; } = "";

    /// <summary><c>external_labels</c>: added to recorded series and available to templates.</summary>
    public LabelSet ExternalLabels { get; init; } = LabelSet.Empty;

    /// <summary><c>resend_delay</c>: the least time between two sends of a firing alert.</summary>
    public TimeSpan ResendDelay { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary><c>for_outage_tolerance</c>: the longest outage after which the <c>for</c> state is still restored.</summary>
    public TimeSpan ForOutageTolerance { get; init; } = TimeSpan.FromHours(1);

    /// <summary><c>for_grace_period</c>: the least time between a restart and a restored alert firing.</summary>
    public TimeSpan ForGracePeriod { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary><c>wal.dir</c>: where the alert state of each group is kept for restarts.</summary>
    public string StateDirectory { get; init; } = "ruler-wal";

    /// <summary>
    /// How many groups evaluate at once. Loki has no such key (each group is a goroutine); a bound keeps rule
    /// evaluation from taking every core from pushes and queries.
    /// </summary>
    public int MaxConcurrentEvaluations { get; init; } = Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>Where and how alerts are sent; no URL: alerts are evaluated but not sent, as in Loki.</summary>
    public Notifications.AlertmanagerNotifierOptions Alertmanager { get; init; } = new();

    /// <summary>Whether any Alertmanager is configured.</summary>
    public bool NotifiesAlertmanager => Alertmanager.AlertmanagerUrl.Trim().Trim(',').Length > 0;

    /// <summary><c>remote_write.enabled</c>: without it recorded samples are dropped, as in Loki.</summary>
    public bool RemoteWriteEnabled { get; init; }

    /// <summary>The remote-write clients (<c>remote_write.clients</c>, or the deprecated single <c>client</c>).</summary>
    public IReadOnlyList<RemoteWrite.RemoteWriteOptions> RemoteWriteClients { get; init; } = [];
}
