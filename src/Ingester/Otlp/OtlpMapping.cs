namespace LokiSharp.Ingester.Otlp;

/// <summary>
/// The settings that shape how OTLP logs become Loki streams: which resource attributes are index labels and
/// which index labels may stand in for a missing <c>service.name</c>.
/// </summary>
public sealed record OtlpMapping
{
    /// <summary>Loki's <c>distributor.otlp.default_resource_attributes_as_index_labels</c>.</summary>
    public static IReadOnlyList<string> DefaultIndexLabelAttributes { get; } =
    [
        "service.name",
        "service.namespace",
        "service.instance.id",
        "deployment.environment",
        "deployment.environment.name",
        "cloud.region",
        "cloud.availability_zone",
        "k8s.cluster.name",
        "k8s.namespace.name",
        "k8s.pod.name",
        "k8s.container.name",
        "container.name",
        "k8s.replicaset.name",
        "k8s.deployment.name",
        "k8s.statefulset.name",
        "k8s.daemonset.name",
        "k8s.cronjob.name",
        "k8s.job.name",
    ];

    /// <summary>Resource attribute names (as sent, before sanitising) stored as stream labels.</summary>
    public IReadOnlySet<string> IndexLabelAttributes { get; init; } = new HashSet<string>(DefaultIndexLabelAttributes, StringComparer.Ordinal);

    /// <summary>
    /// The tenant's <c>discover_service_name</c> list, matched against the sanitised index labels; empty turns
    /// the <c>service_name</c> fallback off.
    /// </summary>
    public IReadOnlyList<string> DiscoverServiceName { get; init; } = [];
}
