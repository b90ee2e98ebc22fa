using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace LokiSharp.IntegrationTests.Deploy;

/// <summary>
/// The manifests in deploy/k8s parse, pass the Kubernetes OpenAPI schemas offline, and agree with each
/// other, with the Loki config they carry and with the Dockerfile: the mistakes that otherwise only show
/// up as a pod stuck in CrashLoopBackOff or Promtail pushing into nothing.
/// </summary>
public sealed partial class ManifestTests
{
    private static YamlMappingNode LokiDeployment => DeployFiles.Object("Deployment", "loki");

    private static YamlNode LokiPod => LokiDeployment.Get("spec", "template", "spec");

    private static YamlNode LokiContainer => LokiPod.Seq("containers").Named("loki");

    private static YamlMappingNode LokiService => DeployFiles.Object("Service", "loki");

    private static YamlMappingNode PromtailDaemonSet => DeployFiles.Object("DaemonSet", "promtail");

    private static YamlNode PromtailPod => PromtailDaemonSet.Get("spec", "template", "spec");

    private static YamlNode PromtailContainer => PromtailPod.Seq("containers").Named("promtail");

    private static YamlMappingNode LokiConfig => DeployFiles.ParseYaml(DeployFiles.ConfigMapFile("loki-config", "loki.yaml"));

    private static YamlMappingNode PromtailConfig => DeployFiles.ParseYaml(DeployFiles.ConfigMapFile("promtail-config", "promtail.yaml"));

    private static string Dockerfile => File.ReadAllText(Path.Combine(DeployFiles.RepositoryRoot, "Dockerfile"));

    [Fact]
    public void Every_manifest_parses_into_the_expected_objects()
    {
        var objects = DeployFiles.AllObjects()
            .Select(o => $"{o.File}: {o.Object.Str("apiVersion")} {o.Object.Str("kind")}/{o.Object.Str("metadata", "name")}")
            .ToList();

        Assert.Equal(
            [
                "loki-configmap.yaml: v1 ConfigMap/loki-config",
                "loki-rules.yaml: v1 ConfigMap/loki-rules",
                "loki-deployment.yaml: v1 PersistentVolumeClaim/loki-storage",
                "loki-deployment.yaml: v1 Service/loki",
                "loki-deployment.yaml: apps/v1 Deployment/loki",
                "promtail-configmap.yaml: v1 ConfigMap/promtail-config",
                "promtail-daemonset.yaml: apps/v1 DaemonSet/promtail",
                "promtail-rbac.yaml: v1 ServiceAccount/promtail",
                "promtail-rbac.yaml: rbac.authorization.k8s.io/v1 ClusterRole/promtail",
                "promtail-rbac.yaml: rbac.authorization.k8s.io/v1 ClusterRoleBinding/promtail",
                "loki-datasource.yaml: v1 ConfigMap/loki-datasource",
            ],
            objects);
        Assert.Equal(
            DeployFiles.ManifestNames.Order(StringComparer.Ordinal),
            Directory.GetFiles(DeployFiles.K8sDirectory, "*.yaml").Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public Task Every_object_passes_the_Kubernetes_OpenAPI_schema() => DeployFiles.AssertSchemasPassAsync(DeployFiles.ManifestNames);

    [Fact]
    public async Task The_schema_validator_rejects_a_broken_manifest()
    {
        // Guards the validator itself: a wrong type and an unknown kind must fail, or the test above proves nothing.
        var validateDir = Path.Combine(DeployFiles.K8sDirectory, "validate");
        Assert.True(Directory.Exists(Path.Combine(validateDir, "node_modules", "kubernetes-models")),
            $"{validateDir}/node_modules is missing: run `npm ci --prefix deploy/k8s/validate`");
        var broken = Path.Combine(Directory.CreateTempSubdirectory("lokisharp-deploy-").FullName, "broken.yaml");
        var text = File.ReadAllText(DeployFiles.PathOf("loki-deployment.yaml"))
            .Replace("containerPort: 3100", "containerPort: \"3100\"", StringComparison.Ordinal)
            .Replace("kind: Service\n", "kind: Servic\n", StringComparison.Ordinal);
        await File.WriteAllTextAsync(broken, text);
        try
        {
            var (exitCode, output) = await ExternalTool.RunAsync("node", ["validate.mjs", broken], validateDir);

            Assert.Equal(1, exitCode);
            Assert.Contains("FAIL broken.yaml Servic/loki: unknown kind Servic in v1", output, StringComparison.Ordinal);
            Assert.Contains("FAIL broken.yaml Deployment/loki: /spec/template/spec/containers/0/ports/0/containerPort must be integer", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(broken)!, recursive: true);
        }
    }

    [Fact]
    public void Namespaced_objects_are_in_jewelry_shop_and_cluster_objects_bind_to_it()
    {
        foreach (var (file, obj) in DeployFiles.AllObjects())
        {
            var kind = obj.Str("kind");
            var clusterScoped = kind is "ClusterRole" or "ClusterRoleBinding";
            Assert.True(
                clusterScoped ? !obj.Has("metadata", "namespace") : obj.Has("metadata", "namespace") && obj.Str("metadata", "namespace") == DeployFiles.Namespace,
                $"{file} {kind}/{obj.Str("metadata", "name")}: namespace must be {(clusterScoped ? "absent" : DeployFiles.Namespace)}");
        }

        Assert.Equal(DeployFiles.Namespace, DeployFiles.Object("ClusterRoleBinding", "promtail").Seq("subjects").Named("promtail").Str("namespace"));
        Assert.Contains(DeployFiles.Namespace, PromtailConfig.Seq("scrape_configs").Named("kubernetes-pods", "job_name")
            .Seq("kubernetes_sd_configs").Single().Seq("namespaces", "names").Select(n => ((YamlScalarNode)n).Value));
    }

    [Fact]
    public void Deployment_is_one_replica_recreated_for_its_ReadWriteOnce_volume()
    {
        var pvc = DeployFiles.Object("PersistentVolumeClaim", "loki-storage");

        Assert.Equal(1, LokiDeployment.Int("spec", "replicas"));
        Assert.Equal("Recreate", LokiDeployment.Str("spec", "strategy", "type"));
        Assert.Equal(["ReadWriteOnce"], pvc.Seq("spec", "accessModes").Select(n => ((YamlScalarNode)n).Value));
        Assert.Equal("10Gi", pvc.Str("spec", "resources", "requests", "storage"));
        Assert.Equal("loki-storage", LokiPod.Seq("volumes").Named("storage").Str("persistentVolumeClaim", "claimName"));
        Assert.Equal("/loki", LokiContainer.Seq("volumeMounts").Named("storage").Str("mountPath"));
    }

    [Fact]
    public void Selectors_match_pod_labels_for_the_Deployment_the_Service_and_the_DaemonSet()
    {
        var lokiPodLabels = LokiDeployment.StringMap("spec", "template", "metadata", "labels");
        var promtailPodLabels = PromtailDaemonSet.StringMap("spec", "template", "metadata", "labels");

        foreach (var (key, value) in LokiDeployment.StringMap("spec", "selector", "matchLabels"))
        {
            Assert.Equal(value, lokiPodLabels.GetValueOrDefault(key));
        }

        foreach (var (key, value) in LokiService.StringMap("spec", "selector"))
        {
            Assert.Equal(value, lokiPodLabels.GetValueOrDefault(key));
        }

        foreach (var (key, value) in PromtailDaemonSet.StringMap("spec", "selector", "matchLabels"))
        {
            Assert.Equal(value, promtailPodLabels.GetValueOrDefault(key));
        }

        // The Service must not also select Promtail pods (both live in jewelry-shop).
        Assert.False(LokiService.StringMap("spec", "selector").All(kv => promtailPodLabels.GetValueOrDefault(kv.Key) == kv.Value));
    }

    [Fact]
    public void Service_ports_container_ports_and_the_Loki_config_agree()
    {
        var ports = LokiService.Seq("spec", "ports").ToList();
        var http = ports.Named("http-metrics");
        var grpc = ports.Named("grpc");

        Assert.Equal(2, ports.Count);
        Assert.Equal(3100, http.Int("port"));
        Assert.Equal(9096, grpc.Int("port"));
        foreach (var servicePort in ports)
        {
            // targetPort by name must exist on the container with the same number the Service advertises.
            var containerPort = LokiContainer.Seq("ports").Named(servicePort.Str("targetPort"));
            Assert.Equal(servicePort.Int("port"), containerPort.Int("containerPort"));
        }

        Assert.Equal(http.Int("port"), LokiConfig.Int("server", "http_listen_port"));
        Assert.Equal(grpc.Int("port"), LokiConfig.Int("server", "grpc_listen_port"));
        Assert.Equal(http.Int("port").ToString(System.Globalization.CultureInfo.InvariantCulture),
            LokiDeployment.Str("spec", "template", "metadata", "annotations", "prometheus.io/port"));
        Assert.Equal("/metrics", LokiDeployment.Str("spec", "template", "metadata", "annotations", "prometheus.io/path"));
        Assert.Matches(@"(?m)^EXPOSE 3100 9096$", Dockerfile);
    }

    [Fact]
    public void Every_volume_mount_has_a_volume_and_config_maps_exist_with_the_mounted_keys()
    {
        foreach (var (pod, container) in new[] { (LokiPod, LokiContainer), (PromtailPod, PromtailContainer) })
        {
            var volumes = pod.Seq("volumes").ToList();
            foreach (var mount in container.Seq("volumeMounts"))
            {
                var volume = volumes.Named(mount.Str("name"));
                if (volume.Has("configMap"))
                {
                    var configMap = DeployFiles.Object("ConfigMap", volume.Str("configMap", "name"));
                    // Without items every key is mounted: there must be at least one.
                    Assert.True(volume.Has("configMap", "items") || ((YamlMappingNode)configMap.Get("data")).Children.Count > 0);
                    foreach (var item in volume.Has("configMap", "items") ? volume.Seq("configMap", "items") : [])
                    {
                        Assert.True(configMap.Has("data", item.Str("key")), $"ConfigMap {volume.Str("configMap", "name")} has no key {item.Str("key")}");
                    }
                }
            }
        }
    }

    [Fact]
    public void The_config_file_the_image_reads_is_the_one_the_ConfigMap_mounts()
    {
        var mount = LokiContainer.Seq("volumeMounts").Named("config");
        var item = LokiPod.Seq("volumes").Named("config").Seq("configMap", "items").Single();
        var mountedPath = mount.Str("mountPath") + "/" + item.Str("path");

        Assert.Equal("loki-config", LokiPod.Seq("volumes").Named("config").Str("configMap", "name"));
        Assert.Equal("/etc/loki/loki.yaml", mountedPath);
        // The pod names the file itself, as Loki's manifests do, so an image with another default works too.
        Assert.Equal([$"-config.file={mountedPath}", "-config.expand-env=true"], LokiContainer.Seq("args").Select(a => a.Str()));
        Assert.False(LokiContainer.Has("command"), "the container must use the image's entrypoint");
        Assert.Contains("ENTRYPOINT [\"lokisharp\"]", Dockerfile, StringComparison.Ordinal);
        Assert.Contains($"CMD [\"-config.file={mountedPath}\"]", Dockerfile, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_path_in_the_Loki_config_is_on_the_persistent_volume()
    {
        // The root filesystem is read-only: a path outside /loki would fail at start, or (on /tmp) lose data.
        var mountPath = LokiContainer.Seq("volumeMounts").Named("storage").Str("mountPath");
        var paths = DeployFiles.ScalarsUnder(LokiConfig).Where(kv => kv.Value.StartsWith('/') || kv.Key.EndsWith("_directory", StringComparison.Ordinal)
            || kv.Key.EndsWith("path_prefix", StringComparison.Ordinal) || kv.Key.EndsWith(".dir", StringComparison.Ordinal)).ToList();

        Assert.True(paths.Count >= 7, "expected the config's storage, index, WAL and compactor paths: " + string.Join(", ", paths));
        foreach (var (key, value) in paths)
        {
            Assert.True(value == mountPath || value.StartsWith(mountPath + "/", StringComparison.Ordinal), $"{key}: {value} is not under {mountPath}");
        }

        Assert.True(LokiContainer.Str("securityContext", "readOnlyRootFilesystem") == "true");
    }

    [Fact]
    public void Loki_runs_as_UID_and_GID_10001_as_the_image_does()
    {
        var pod = LokiPod.Get("securityContext");
        var container = LokiContainer.Get("securityContext");

        Assert.Equal("10001", pod.Str("runAsUser"));
        Assert.Equal("10001", pod.Str("runAsGroup"));
        Assert.Equal("10001", pod.Str("fsGroup"));
        Assert.Equal("true", pod.Str("runAsNonRoot"));
        Assert.Equal("10001", container.Str("runAsUser"));
        Assert.Equal("false", container.Str("allowPrivilegeEscalation"));
        Assert.Equal(["ALL"], container.Seq("capabilities", "drop").Select(n => ((YamlScalarNode)n).Value));
        Assert.Matches(@"(?m)^USER 10001$", Dockerfile);
        Assert.Matches(@"(?m)^VOLUME /loki$", Dockerfile);
    }

    [Fact]
    public void Probes_use_ready_for_readiness_and_never_restart_a_replaying_server()
    {
        Assert.Equal("/ready", LokiContainer.Str("readinessProbe", "httpGet", "path"));
        Assert.Equal("http-metrics", LokiContainer.Str("readinessProbe", "httpGet", "port"));
        // /ready is 503 while the WAL replays and during shutdown_delay: a liveness probe on it would kill the
        // pod in exactly the states it must survive.
        Assert.NotEqual("/ready", LokiContainer.Str("livenessProbe", "httpGet", "path"));
        Assert.NotEqual("/ready", LokiContainer.Str("startupProbe", "httpGet", "path"));
        var startupBudget = LokiContainer.Int("startupProbe", "periodSeconds") * LokiContainer.Int("startupProbe", "failureThreshold");
        Assert.True(startupBudget >= 600, $"the startup probe allows only {startupBudget}s for a WAL replay");
    }

    [Fact]
    public void Termination_grace_covers_shutdown_delay_and_graceful_shutdown_timeout()
    {
        var grace = TimeSpan.FromSeconds(LokiPod.Int("terminationGracePeriodSeconds"));
        var needed = DeployFiles.GoDuration(LokiConfig.Str("shutdown_delay")) + DeployFiles.GoDuration(LokiConfig.Str("server", "graceful_shutdown_timeout"));

        Assert.True(grace > needed, $"terminationGracePeriodSeconds {grace} must exceed shutdown_delay + graceful_shutdown_timeout = {needed}, or SIGKILL cuts the WAL close");
    }

    [Fact]
    public void Memory_limit_leaves_room_beyond_the_results_cache()
    {
        var cacheBytes = LokiConfig.Int("query_range", "results_cache", "cache", "embedded_cache", "max_size_mb") * 1024d * 1024;
        var request = DeployFiles.Quantity(LokiContainer.Str("resources", "requests", "memory"));
        var limit = DeployFiles.Quantity(LokiContainer.Str("resources", "limits", "memory"));

        Assert.True(request >= 2 * cacheBytes, $"memory request {request} should be at least twice the {cacheBytes}-byte results cache");
        Assert.True(limit >= request, "memory limit below request");
        Assert.True(DeployFiles.Quantity(LokiContainer.Str("resources", "limits", "cpu")) >= DeployFiles.Quantity(LokiContainer.Str("resources", "requests", "cpu")));
    }

    [Fact]
    public void Loki_config_has_the_limits_retention_compactor_and_cache_the_issue_asks_for()
    {
        var config = LokiConfig;

        Assert.Equal("/loki", config.Str("common", "path_prefix"));
        Assert.Equal("filesystem", config.Seq("schema_config", "configs").Single().Str("object_store"));
        Assert.Equal("tsdb", config.Seq("schema_config", "configs").Single().Str("store"));
        Assert.Equal("10", config.Str("limits_config", "ingestion_rate_mb"));
        Assert.Equal("20", config.Str("limits_config", "ingestion_burst_size_mb"));
        Assert.Equal("500", config.Str("limits_config", "max_query_series"));
        Assert.Equal("744h", config.Str("limits_config", "retention_period"));
        Assert.Equal("true", config.Str("compactor", "retention_enabled"));
        Assert.Equal("10m", config.Str("compactor", "compaction_interval"));
        Assert.Equal("true", config.Str("query_range", "results_cache", "cache", "embedded_cache", "enabled"));
        Assert.Equal("500", config.Str("query_range", "results_cache", "cache", "embedded_cache", "max_size_mb"));
    }

    [Fact]
    public void Ruler_reads_the_rules_ConfigMap_mounted_read_only_as_tenant_fake_and_notifies_an_Alertmanager_Service()
    {
        var ruler = LokiConfig.Get("ruler");
        var directory = ruler.Str("storage", "local", "directory");
        var mount = LokiContainer.Seq("volumeMounts").Named("rules");

        Assert.Equal("false", LokiConfig.Str("auth_enabled"));
        Assert.Equal("local", ruler.Str("storage", "type"));
        Assert.Equal("/loki/rules", directory);
        Assert.Equal(directory + "/fake", mount.Str("mountPath"));
        Assert.Equal("true", mount.Str("readOnly"));
        Assert.Equal("loki-rules", LokiPod.Seq("volumes").Named("rules").Str("configMap", "name"));
        Assert.Equal("true", ruler.Str("enable_api"));
        Assert.Matches(@"^http://alertmanager\.[a-z0-9-]+\.svc\.cluster\.local:9093$", ruler.Str("alertmanager_url"));
        Assert.Contains(ruler.Str("alertmanager_url"), File.ReadAllText(DeployFiles.PathOf("README.md")), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_rule_of_the_rules_ConfigMap_is_valid_for_the_ruler_with_the_guides_HighErrorRate_first()
    {
        var files = DeployFiles.Object("ConfigMap", "loki-rules").StringMap("data");
        var rules = new List<LokiSharp.Ruler.Rules.RuleDefinition>();
        foreach (var (name, text) in files)
        {
            var parsed = LokiSharp.Ruler.Rules.RuleFileParser.Parse(name, text);

            Assert.True(LokiSharp.Ruler.Rules.RuleDirectory.IsRuleFileName(name), name);
            Assert.True(parsed.Problems.Count == 0, string.Join("\n", parsed.Problems));
            rules.AddRange(parsed.Groups.SelectMany(g => g.Rules));
        }

        Assert.Equal(["HighErrorRate", "NginxHigh5xxRate", "CeleryTaskFailures", "PostgresErrors"], rules.Select(r => r.Name));
        Assert.All(rules, r => Assert.Equal(LokiSharp.Ruler.Rules.RuleKind.Alerting, r.Kind));
        Assert.Equal("sum(rate({app=\"django\"} |= \"error\" [5m])) > 10", rules[0].Expr.Trim());
        // The check can fail: the same file with a log query where a metric query belongs is refused.
        var broken = LokiSharp.Ruler.Rules.RuleFileParser.Parse("broken.yaml",
            files.Values.First().Replace("sum(rate({app=\"django\"} |= \"error\" [5m])) > 10", "{app=\"django\"} |= \"error\"", StringComparison.Ordinal));
        Assert.NotEmpty(broken.Problems);
    }

    [Fact]
    public void Promtail_pushes_to_the_loki_Service_port()
    {
        var url = PromtailConfig.Seq("clients").Single().Str("url");
        var http = LokiService.Seq("spec", "ports").Named("http-metrics");

        Assert.Equal($"http://{LokiService.Str("metadata", "name")}:{http.Int("port")}/loki/api/v1/push", url);
    }

    [Fact]
    public void Grafana_datasource_points_at_the_loki_Service()
    {
        var provisioning = DeployFiles.ParseYaml(DeployFiles.ConfigMapFile("loki-datasource", "loki-datasource.yaml"));
        var datasource = provisioning.Seq("datasources").Single();
        var http = LokiService.Seq("spec", "ports").Named("http-metrics");

        Assert.Equal("1", provisioning.Str("apiVersion"));
        Assert.Equal("loki", datasource.Str("type"));
        Assert.Equal("proxy", datasource.Str("access"));
        Assert.Equal($"http://{LokiService.Str("metadata", "name")}:{http.Int("port")}", datasource.Str("url"));
    }

    [Fact]
    public void Promtail_uses_its_service_account_and_may_only_read_what_discovery_needs()
    {
        var role = DeployFiles.Object("ClusterRole", "promtail");
        var binding = DeployFiles.Object("ClusterRoleBinding", "promtail");
        var account = DeployFiles.Object("ServiceAccount", "promtail");
        var rule = role.Seq("rules").Single();

        Assert.Equal(account.Str("metadata", "name"), PromtailPod.Str("serviceAccountName"));
        Assert.Equal("ClusterRole", binding.Str("roleRef", "kind"));
        Assert.Equal(role.Str("metadata", "name"), binding.Str("roleRef", "name"));
        Assert.Equal("ServiceAccount", binding.Seq("subjects").Named(account.Str("metadata", "name")).Str("kind"));
        Assert.Equal([""], rule.Seq("apiGroups").Select(n => ((YamlScalarNode)n).Value));
        Assert.Equal(["endpoints", "nodes", "pods", "services"], rule.Seq("resources").Select(n => ((YamlScalarNode)n).Value!).Order(StringComparer.Ordinal));
        Assert.Equal(["get", "list", "watch"], rule.Seq("verbs").Select(n => ((YamlScalarNode)n).Value!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Promtail_runs_the_official_3x_image_as_root_reading_the_nodes_pod_logs()
    {
        var volumes = PromtailPod.Seq("volumes").ToList();
        var mounts = PromtailContainer.Seq("volumeMounts").ToList();
        var podLogs = mounts.Single(m => volumes.Named(m.Str("name")).Has("hostPath", "path")
            && volumes.Named(m.Str("name")).Str("hostPath", "path") == "/var/log/pods");
        var pathRule = PromtailConfig.Seq("scrape_configs").Single().Seq("relabel_configs").Single(r => r.Has("target_label") && r.Str("target_label") == "__path__");
        var positionsFile = PromtailConfig.Str("positions", "filename");
        var positionsMount = mounts.Single(m => positionsFile.StartsWith(m.Str("mountPath") + "/", StringComparison.Ordinal));

        Assert.Matches(@"^grafana/promtail:3\.[0-9]+\.[0-9]+$", PromtailContainer.Str("image"));
        Assert.Equal("0", PromtailContainer.Str("securityContext", "runAsUser"));
        Assert.Equal("true", podLogs.Str("readOnly"));
        Assert.StartsWith(podLogs.Str("mountPath") + "/", pathRule.Str("replacement"), StringComparison.Ordinal);
        Assert.True(volumes.Named(positionsMount.Str("name")).Has("hostPath"), "positions must live on the node so restarts resume");
        Assert.Equal(PromtailConfig.Int("server", "http_listen_port"), PromtailContainer.Seq("ports").Named("http-metrics").Int("containerPort"));
        Assert.Equal(9080, PromtailConfig.Int("server", "http_listen_port"));
        Assert.Equal("9080", PromtailDaemonSet.Str("spec", "template", "metadata", "annotations", "prometheus.io/port"));
        Assert.Equal("spec.nodeName", PromtailContainer.Seq("env").Named("HOSTNAME").Str("valueFrom", "fieldRef", "fieldPath"));
    }

    [Fact]
    public void Promtail_sets_the_namespace_app_pod_container_and_level_labels()
    {
        var scrape = PromtailConfig.Seq("scrape_configs").Single();
        var relabelTargets = scrape.Seq("relabel_configs").Where(r => r.Has("target_label")).Select(r => r.Str("target_label")).ToHashSet(StringComparer.Ordinal);
        var stages = scrape.Seq("pipeline_stages").ToList();
        var matchBlocks = stages.Where(s => s.Has("match")).Select(s => s.Get("match")).ToList();

        foreach (var label in new[] { "namespace", "app", "pod", "container", "__host__", "__path__" })
        {
            Assert.Contains(label, relabelTargets);
        }

        Assert.True(stages[0].Has("cri"), "the first stage must decode the CRI line format");
        foreach (var app in new[] { "django", "nginx", "postgres", "redis", "celery" })
        {
            var block = matchBlocks.SingleOrDefault(b => b.Str("selector").Contains(app, StringComparison.Ordinal));
            Assert.True(block is not null, $"no match stage for {app}");
            Assert.Contains(block.Seq("stages"), s => s.Has("labels", "level"));
        }

        // Every match selector must be valid LogQL, as Promtail parses it with Loki's parser at start-up.
        foreach (var block in matchBlocks)
        {
            LokiSharp.LogQL.Syntax.LogQLParser.ParseMatchers(block.Str("selector"));
        }

        // Promtail's regex stages use Go's RE2. With RE2's (?P<name>) spelled the .NET way they compile as
        // .NET regexes too, which catches unbalanced brackets and typos before a Promtail pod does.
        var expressions = matchBlocks.SelectMany(b => b.Seq("stages")).Where(s => s.Has("regex")).Select(s => s.Str("regex", "expression")).ToList();
        Assert.True(expressions.Count >= 5, $"expected the Nginx, PostgreSQL, Redis and Celery regexes, found {expressions.Count}");
        foreach (var expression in expressions)
        {
            var regex = new Regex(expression.Replace("(?P<", "(?<", StringComparison.Ordinal), RegexOptions.None, TimeSpan.FromSeconds(1));
            Assert.True(regex.GetGroupNames().Length > 1, $"regex stage without a named group extracts nothing: {expression}");
        }
    }

    [Theory]
    [InlineData("nginx", "10.42.0.7 - - [01/May/2024:10:00:00 +0000] \"GET /api/rings?page=2 HTTP/1.1\" 503 157 \"-\" \"curl/8.5\"", "status", "503")]
    [InlineData("nginx", "2024/05/01 10:00:00 [error] 29#29: *1 connect() failed (111: Connection refused)", "level", "error")]
    [InlineData("postgres", "2024-05-01 10:00:00.123 UTC [42] ERROR:  deadlock detected", "level", "ERROR")]
    [InlineData("postgres", "2024-05-01 10:00:00,123 INFO: no action. I am (shop-db-0), the leader with the lock", "level", "INFO")]
    [InlineData("redis", "1:M 01 May 2024 10:00:00.123 # Server initialized", "redis_level", "#")]
    [InlineData("celery", "[2024-05-01 10:00:00,123: ERROR/ForkPoolWorker-1] Task shop.tasks.send_invoice[1f2e] raised unexpected: Timeout()", "level", "ERROR")]
    public void Promtail_regex_stages_extract_fields_from_real_log_lines(string app, string line, string field, string expected)
    {
        var block = PromtailConfig.Seq("scrape_configs").Single().Seq("pipeline_stages")
            .Where(s => s.Has("match")).Select(s => s.Get("match"))
            .Single(b => b.Str("selector").Contains(app, StringComparison.Ordinal));
        var extracted = block.Seq("stages").Where(s => s.Has("regex"))
            .Select(s => new Regex(s.Str("regex", "expression").Replace("(?P<", "(?<", StringComparison.Ordinal), RegexOptions.None, TimeSpan.FromSeconds(1)).Match(line))
            .Where(m => m.Success && m.Groups[field].Success)
            .Select(m => m.Groups[field].Value)
            .ToList();

        Assert.Equal([expected], extracted);
    }

    [Fact]
    public void Dockerfile_restores_before_copying_sources_and_covers_every_project_the_server_needs()
    {
        var dockerfile = Dockerfile;
        var restoreAt = dockerfile.IndexOf("RUN dotnet restore src/Server/LokiSharp.Server.csproj", StringComparison.Ordinal);
        var sourcesAt = dockerfile.IndexOf("COPY src/ src/", StringComparison.Ordinal);

        Assert.True(restoreAt > 0 && sourcesAt > restoreAt, "the restore layer must come before the sources are copied");
        Assert.Contains("FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build", dockerfile, StringComparison.Ordinal);
        Assert.Contains("FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime", dockerfile, StringComparison.Ordinal);
        foreach (var file in new[] { "global.json", "Directory.Build.props", "Directory.Packages.props", ".editorconfig" })
        {
            Assert.True(File.Exists(Path.Combine(DeployFiles.RepositoryRoot, file)));
            Assert.Contains(file, dockerfile[..restoreAt], StringComparison.Ordinal);
        }

        // A project added to the server's references without a COPY here would break the image's restore.
        foreach (var project in ServerProjectClosure())
        {
            var relative = Path.GetRelativePath(DeployFiles.RepositoryRoot, project).Replace('\\', '/');
            Assert.Contains($"COPY {relative} {Path.GetDirectoryName(relative)!.Replace('\\', '/')}/\n", dockerfile[..restoreAt], StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Dockerignore_keeps_build_outputs_and_node_modules_out_of_the_context()
    {
        var lines = File.ReadAllLines(Path.Combine(DeployFiles.RepositoryRoot, ".dockerignore"));

        foreach (var pattern in new[] { "**/bin/", "**/obj/", "**/node_modules/", ".git/" })
        {
            Assert.Contains(pattern, lines);
        }

        // The build needs these; ignoring them would break `docker build` in a way only a real build shows.
        foreach (var needed in new[] { "src/", "global.json", "Directory.Build.props", "Directory.Packages.props", ".editorconfig" })
        {
            Assert.DoesNotContain(needed, lines);
        }
    }

    [Fact]
    public void The_image_and_dotnet_run_start_the_server_with_one_runtime_environment()
    {
        // The runtime stage's settings outside comments, less the CLI's own, which the server never reads.
        var runtimeStage = string.Join('\n', Dockerfile[Dockerfile.IndexOf("AS runtime", StringComparison.Ordinal)..].Split('\n')
            .Where(l => !l.TrimStart().StartsWith('#')));
        var image = DotnetSetting().Matches(runtimeStage).Select(m => m.Value)
            .Where(s => !s.StartsWith("DOTNET_CLI_", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();

        // The perf scripts (benchmarks/perf/perf-lib.sh, perf_start) read this same file.
        using var launchSettings = System.Text.Json.JsonDocument.Parse(
            File.ReadAllText(Path.Combine(DeployFiles.RepositoryRoot, "src", "Server", "Properties", "launchSettings.json")));
        var dotnetRun = launchSettings.RootElement.GetProperty("profiles").EnumerateObject().Single().Value
            .GetProperty("environmentVariables").EnumerateObject().Select(v => $"{v.Name}={v.Value.GetString()}")
            .Order(StringComparer.Ordinal).ToList();

        Assert.Contains("DOTNET_ReadyToRun=0", image);
        Assert.Equal(image, dotnetRun);
    }

    [GeneratedRegex(@"\bDOTNET_\w+=\w*")]
    private static partial Regex DotnetSetting();

    private static List<string> ServerProjectClosure()
    {
        var seen = new List<string>();
        var pending = new Stack<string>([Path.Combine(DeployFiles.RepositoryRoot, "src", "Server", "LokiSharp.Server.csproj")]);
        while (pending.Count > 0)
        {
            var project = Path.GetFullPath(pending.Pop());
            if (seen.Contains(project))
            {
                continue;
            }

            seen.Add(project);
            foreach (Match reference in ProjectReference().Matches(File.ReadAllText(project)))
            {
                pending.Push(Path.Combine(Path.GetDirectoryName(project)!, reference.Groups[1].Value));
            }
        }

        return seen;
    }

    [GeneratedRegex("<ProjectReference Include=\"([^\"]+)\"")]
    private static partial Regex ProjectReference();
}
