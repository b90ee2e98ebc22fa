using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace LokiSharp.IntegrationTests.Deploy;

/// <summary>
/// deploy/k8s/scalable, Loki's scalable shape: the manifests pass the Kubernetes schemas offline, each
/// workload runs its role on the one shared config, the readers find the writers through the headless
/// Service, the secrets the config names come from the Secret, and the gateway takes the single binary's
/// Service name and routes each path to the role that serves it.
/// </summary>
public sealed partial class ScalableManifestTests
{
    private static readonly string[] Files = DeployFiles.ScalableManifestNames;

    // Component (the pod label app=loki-<component>) -> the -target it runs.
    private static readonly (string Component, string Kind, string Target)[] Roles =
    [
        ("write", "StatefulSet", "write"),
        ("read", "Deployment", "read"),
        ("backend", "StatefulSet", "backend"),
    ];

    private static YamlMappingNode LokiConfig => DeployFiles.ParseYaml(DeployFiles.ConfigMapFile("loki-scalable-config", "loki.yaml", Files));

    private static YamlMappingNode Workload(string kind, string name) => DeployFiles.Object(kind, name, Files);

    private static YamlNode Pod(YamlNode workload) => workload.Get("spec", "template", "spec");

    private static YamlNode Container(YamlNode workload, string name = "loki") => Pod(workload).Seq("containers").Named(name);

    [Fact]
    public void Every_manifest_parses_into_the_expected_objects()
    {
        var objects = DeployFiles.AllObjects(Files)
            .Select(o => $"{o.File}: {o.Object.Str("apiVersion")} {o.Object.Str("kind")}/{o.Object.Str("metadata", "name")}")
            .ToList();

        Assert.Equal(
            [
                "scalable/loki-config.yaml: v1 ConfigMap/loki-scalable-config",
                "scalable/loki-s3-secret.yaml: v1 Secret/loki-s3",
                "scalable/loki-write.yaml: v1 Service/loki-write-headless",
                "scalable/loki-write.yaml: v1 Service/loki-write",
                "scalable/loki-write.yaml: apps/v1 StatefulSet/loki-write",
                "scalable/loki-read.yaml: v1 Service/loki-read",
                "scalable/loki-read.yaml: apps/v1 Deployment/loki-read",
                "scalable/loki-backend.yaml: v1 Service/loki-backend-headless",
                "scalable/loki-backend.yaml: v1 Service/loki-backend",
                "scalable/loki-backend.yaml: apps/v1 StatefulSet/loki-backend",
                "scalable/loki-gateway.yaml: v1 ConfigMap/loki-gateway",
                "scalable/loki-gateway.yaml: v1 Service/loki",
                "scalable/loki-gateway.yaml: apps/v1 Deployment/loki-gateway",
            ],
            objects);
        Assert.Equal(
            Files.Select(Path.GetFileName).Order(StringComparer.Ordinal),
            Directory.GetFiles(Path.Combine(DeployFiles.K8sDirectory, "scalable"), "*.yaml").Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.All(DeployFiles.AllObjects(Files), o => Assert.Equal(DeployFiles.Namespace, o.Object.Str("metadata", "namespace")));
    }

    [Fact]
    public Task Every_object_passes_the_Kubernetes_OpenAPI_schema() => DeployFiles.AssertSchemasPassAsync(Files);

    [Fact]
    public void Each_role_runs_its_target_on_the_shared_config_with_the_bucket_secret()
    {
        foreach (var (component, kind, target) in Roles)
        {
            var workload = Workload(kind, "loki-" + component);
            var container = Container(workload);
            var volumes = Pod(workload).Seq("volumes").ToList();

            Assert.Equal(
                ["-config.file=/etc/loki/loki.yaml", "-config.expand-env=true", "-target=" + target],
                container.Seq("args").Select(a => a.Str()));
            Assert.Equal("loki-scalable-config", volumes.Named("config").Str("configMap", "name"));
            Assert.Equal("/etc/loki", container.Seq("volumeMounts").Named("config").Str("mountPath"));
            Assert.Equal("loki-s3", container.Seq("envFrom").Single().Str("secretRef", "name"));
            Assert.Equal("/loki", container.Seq("volumeMounts").Named("data").Str("mountPath"));
            Assert.Equal("true", container.Str("securityContext", "readOnlyRootFilesystem"));
            Assert.Equal("10001", Pod(workload).Str("securityContext", "runAsUser"));
            Assert.Equal("/ready", container.Str("readinessProbe", "httpGet", "path"));
            Assert.NotEqual("/ready", container.Str("livenessProbe", "httpGet", "path"));

            // Each Service of the role selects exactly this workload's pods.
            var podLabels = workload.StringMap("spec", "template", "metadata", "labels");
            Assert.All(workload.StringMap("spec", "selector", "matchLabels"), kv => Assert.Equal(kv.Value, podLabels.GetValueOrDefault(kv.Key)));
            foreach (var (_, service) in DeployFiles.AllObjects(Files).Where(o => o.Object.Str("kind") == "Service"))
            {
                var selects = service.StringMap("spec", "selector").All(kv => podLabels.GetValueOrDefault(kv.Key) == kv.Value);
                Assert.Equal(service.Str("metadata", "name").StartsWith("loki-" + component, StringComparison.Ordinal), selects);
            }
        }
    }

    [Fact]
    public void Every_variable_the_config_needs_comes_from_the_Secret()
    {
        var text = DeployFiles.ConfigMapFile("loki-scalable-config", "loki.yaml", Files);
        var secret = DeployFiles.Object("Secret", "loki-s3", Files).StringMap("stringData");
        var variables = EnvReference().Matches(text).Select(m => (Name: m.Groups[1].Value, HasDefault: m.Groups[2].Success)).ToList();

        Assert.Contains(("S3_SECRET_ACCESS_KEY", false), variables);
        Assert.All(variables, v => Assert.True(v.HasDefault || secret.ContainsKey(v.Name), $"${{{v.Name}}} has no default and is not in Secret loki-s3"));
    }

    [Fact]
    public void The_config_stores_in_the_bucket_and_keeps_the_single_binarys_limits_and_retention()
    {
        var config = LokiConfig;
        var single = DeployFiles.ParseYaml(DeployFiles.ConfigMapFile("loki-config", "loki.yaml"));

        Assert.Equal("s3", config.Seq("schema_config", "configs").Single().Str("object_store"));
        Assert.Equal("true", config.Str("common", "storage", "s3", "s3forcepathstyle"));
        foreach (var path in new[]
        {
            new[] { "limits_config", "ingestion_rate_mb" }, ["limits_config", "ingestion_burst_size_mb"], ["limits_config", "max_query_series"],
            ["limits_config", "retention_period"], ["compactor", "retention_enabled"], ["compactor", "compaction_interval"],
            ["ingester", "wal", "enabled"], ["ingester", "chunk_encoding"],
        })
        {
            Assert.Equal(single.Str(path), config.Str(path));
        }

        // The paths a pod writes are on its /loki volume (the root filesystem is read-only).
        Assert.All(
            DeployFiles.ScalarsUnder(config).Where(kv => kv.Value.StartsWith('/')),
            kv => Assert.StartsWith("/loki/", kv.Value + "/", StringComparison.Ordinal));
    }

    [Fact]
    public void Writers_keep_their_WAL_on_their_own_volume_and_readers_find_them_through_the_headless_Service()
    {
        var write = Workload("StatefulSet", "loki-write");
        var headless = Workload("Service", "loki-write-headless");
        var grpcPort = headless.Seq("spec", "ports").Named("grpc").Int("port");

        Assert.Equal("loki-write-headless", write.Str("spec", "serviceName"));
        Assert.Equal("None", headless.Str("spec", "clusterIP"));
        Assert.Equal("data", write.Seq("spec", "volumeClaimTemplates").Single().Str("metadata", "name"));
        Assert.StartsWith("/loki/", LokiConfig.Str("ingester", "wal", "dir"), StringComparison.Ordinal);
        Assert.True(write.Int("spec", "replicas") >= 2);
        Assert.Equal(
            [$"dns+loki-write-headless.{DeployFiles.Namespace}.svc.cluster.local:{grpcPort}"],
            LokiConfig.Seq("memberlist", "join_members").Select(n => n.Str()));
        Assert.Equal(grpcPort, LokiConfig.Int("server", "grpc_listen_port"));

        // Readers are a cache of the bucket; exactly one backend runs the compactor.
        Assert.False(Pod(Workload("Deployment", "loki-read")).Seq("volumes").Named("data").Has("persistentVolumeClaim"));
        Assert.Equal(1, Workload("StatefulSet", "loki-backend").Int("spec", "replicas"));
    }

    [Fact]
    public void The_gateway_takes_the_loki_Service_name_so_Promtail_and_Grafana_need_no_change()
    {
        var service = Workload("Service", "loki");
        var gateway = Workload("Deployment", "loki-gateway");
        var http = service.Seq("spec", "ports").Named("http-metrics");
        var promtail = DeployFiles.ParseYaml(DeployFiles.ConfigMapFile("promtail-config", "promtail.yaml"));
        var datasource = DeployFiles.ParseYaml(DeployFiles.ConfigMapFile("loki-datasource", "loki-datasource.yaml")).Seq("datasources").Single();

        Assert.Equal($"http://loki:{http.Int("port")}/loki/api/v1/push", promtail.Seq("clients").Single().Str("url"));
        Assert.Equal($"http://loki:{http.Int("port")}", datasource.Str("url"));
        var containerPort = Container(gateway, "nginx").Seq("ports").Named(http.Str("targetPort")).Int("containerPort");
        Assert.Matches($@"listen {containerPort};", Gateway);
        Assert.Equal("loki-gateway", gateway.Str("spec", "selector", "matchLabels", "app"));
        Assert.Equal("loki-gateway", service.Str("spec", "selector", "app"));
    }

    [Fact]
    public void The_backend_ruler_reads_deploy_k8s_rules_for_tenant_fake_and_the_writers_heads()
    {
        var backend = Workload("StatefulSet", "loki-backend");
        var mount = Container(backend).Seq("volumeMounts").Named("rules");
        var configMap = Pod(backend).Seq("volumes").Named("rules").Str("configMap", "name");

        Assert.Equal(LokiConfig.Str("ruler", "storage", "local", "directory") + "/fake", mount.Str("mountPath"));
        Assert.Equal("true", mount.Str("readOnly"));
        Assert.NotEmpty(DeployFiles.Object("ConfigMap", configMap).StringMap("data"));
        Assert.Contains("-target=backend", Container(backend).Seq("args").Select(a => a.Str()));
        Assert.NotEmpty(LokiConfig.Seq("memberlist", "join_members"));
    }

    [Theory]
    [InlineData("/loki/api/v1/push", "write")]
    [InlineData("/api/prom/push", "write")]
    [InlineData("/otlp/v1/logs", "write")]
    [InlineData("/loki/api/v1/query_range", "read")]
    [InlineData("/loki/api/v1/labels", "read")]
    [InlineData("/loki/api/v1/tail", "read")]
    [InlineData("/loki/api/v1/delete", "backend")]
    [InlineData("/loki/api/v1/rules/shop", "backend")]
    [InlineData("/prometheus/api/v1/alerts", "backend")]
    public void The_gateway_routes_each_path_to_the_role_that_serves_it(string path, string upstream)
    {
        Assert.Equal(upstream, Route(path));

        // The upstream names the role's Service, which exists and listens on 3100.
        var server = Regex.Match(Gateway, $@"upstream {upstream} \{{\s*server ([a-z-]+)\.{DeployFiles.Namespace}\.svc\.cluster\.local:([0-9]+);");
        Assert.True(server.Success, $"upstream {upstream} has no server line");
        Assert.Equal("loki-" + upstream, server.Groups[1].Value);
        Assert.Equal(
            int.Parse(server.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture),
            Workload("Service", server.Groups[1].Value).Seq("spec", "ports").Named("http-metrics").Int("port"));
    }

    private static string Gateway => DeployFiles.ConfigMapFile("loki-gateway", "nginx.conf", Files);

    // nginx's choice, for the location forms the gateway uses: an exact match wins, then a regex in order of
    // appearance, then the longest prefix.
    private static string Route(string path)
    {
        var locations = Location().Matches(Gateway).Select(m => (Modifier: m.Groups[1].Value, Pattern: m.Groups[2].Value, Upstream: m.Groups[3].Value)).ToList();
        var exact = locations.FirstOrDefault(l => l.Modifier == "=" && l.Pattern == path);
        if (exact.Upstream is { } exactUpstream)
        {
            return exactUpstream;
        }

        var regex = locations.FirstOrDefault(l => l.Modifier == "~" && Regex.IsMatch(path, l.Pattern));
        if (regex.Upstream is { } regexUpstream)
        {
            return regexUpstream;
        }

        return locations.Where(l => l.Modifier == "" && path.StartsWith(l.Pattern, StringComparison.Ordinal))
            .MaxBy(l => l.Pattern.Length).Upstream ?? throw new Xunit.Sdk.XunitException($"no location for {path}");
    }

    [GeneratedRegex(@"\$\{([A-Z0-9_]+)(:-[^}]*)?\}")]
    private static partial Regex EnvReference();

    [GeneratedRegex(@"location (?:(=|~) )?(\S+) \{[^}]*?proxy_pass http://([a-z]+);", RegexOptions.Singleline)]
    private static partial Regex Location();
}
