namespace LokiSharp.IntegrationTests.Deploy;

/// <summary>
/// install-loki.sh against a stand-in kubectl that records its arguments and answers `apply` with
/// "created/configured" or "unchanged" per file, as kubectl does: the install order, the rollout waits, the
/// restarts on a changed ConfigMap and the dry run, without a cluster.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class InstallScriptTests : IDisposable
{
    private const string FakeKubectl = """
        #!/usr/bin/env bash
        # Records every call; `apply -f FILE` reports FILE as changed when its name is in $FAKE_CHANGED.
        set -euo pipefail
        echo "$*" >> "$FAKE_LOG"
        case "$1" in
          get) [[ -z "${FAKE_NO_NAMESPACE:-}" ]] ;;
          apply)
            file=""
            prev=""
            for arg in "$@"; do
              if [[ "$prev" == "-f" ]]; then file="$(basename "$arg")"; fi
              prev="$arg"
            done
            if [[ " ${FAKE_CHANGED:-} " == *" $file "* ]]; then echo "object/from-$file configured"; else echo "object/from-$file unchanged"; fi
            ;;
          *) ;;
        esac
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("lokisharp-install-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<(int ExitCode, string Output, string[] Calls)> InstallAsync(Dictionary<string, string> environment)
    {
        var kubectl = Path.Combine(_dir, "kubectl");
        await File.WriteAllTextAsync(kubectl, FakeKubectl.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n");
        File.SetUnixFileMode(kubectl, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var log = Path.Combine(_dir, "calls.log");
        File.Delete(log);
        environment["KUBECTL"] = kubectl;
        environment["FAKE_LOG"] = log;

        var (exitCode, output) = await ExternalTool.RunAsync("bash", [DeployFiles.PathOf("install-loki.sh")], _dir, environment);
        return (exitCode, output, File.Exists(log) ? await File.ReadAllLinesAsync(log) : []);
    }

    private static string AllManifests => string.Join(' ', DeployFiles.ManifestNames);

    [Fact]
    public async Task First_install_applies_RBAC_and_config_before_the_pods_and_waits_for_both_rollouts()
    {
        var (exitCode, output, calls) = await InstallAsync(new() { ["FAKE_CHANGED"] = AllManifests });

        Assert.True(exitCode == 0, output);
        var applied = calls.Where(c => c.StartsWith("apply ", StringComparison.Ordinal)).Select(c => Path.GetFileName(c.Split(' ')[4])).ToList();
        Assert.Equal(
            ["promtail-rbac.yaml", "loki-configmap.yaml", "loki-rules.yaml", "loki-deployment.yaml", "promtail-configmap.yaml", "promtail-daemonset.yaml", "loki-datasource.yaml"],
            applied);
        Assert.All(calls.Where(c => c.StartsWith("apply ", StringComparison.Ordinal)), c => Assert.StartsWith("apply -n jewelry-shop -f ", c, StringComparison.Ordinal));
        // The Deployment and DaemonSet changed themselves, so they roll anyway: no extra restart.
        Assert.DoesNotContain(calls, c => c.Contains("rollout restart", StringComparison.Ordinal));
        Assert.Contains("-n jewelry-shop rollout status deployment/loki --timeout=300s", calls);
        Assert.Contains("-n jewelry-shop rollout status daemonset/promtail --timeout=300s", calls);
        Assert.DoesNotContain(calls, c => c.StartsWith("create namespace", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Rerunning_with_only_the_Loki_config_changed_restarts_only_LokiSharp()
    {
        var (exitCode, output, calls) = await InstallAsync(new() { ["FAKE_CHANGED"] = "loki-configmap.yaml" });

        Assert.True(exitCode == 0, output);
        Assert.Contains("-n jewelry-shop rollout restart deployment/loki", calls);
        Assert.DoesNotContain("-n jewelry-shop rollout restart daemonset/promtail", calls);
    }

    [Fact]
    public async Task Rerunning_with_only_the_rules_changed_restarts_nothing_as_the_ruler_rereads_its_mount()
    {
        var (exitCode, output, calls) = await InstallAsync(new() { ["FAKE_CHANGED"] = "loki-rules.yaml" });

        Assert.True(exitCode == 0, output);
        Assert.Contains(calls, c => c.StartsWith("apply ", StringComparison.Ordinal) && c.Contains("/loki-rules.yaml", StringComparison.Ordinal));
        Assert.DoesNotContain(calls, c => c.Contains("rollout restart", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Rerunning_with_nothing_changed_restarts_nothing()
    {
        var (exitCode, output, calls) = await InstallAsync(new() { ["FAKE_CHANGED"] = "" });

        Assert.True(exitCode == 0, output);
        Assert.Equal(DeployFiles.ManifestNames.Length, calls.Count(c => c.StartsWith("apply ", StringComparison.Ordinal)));
        Assert.DoesNotContain(calls, c => c.Contains("rollout restart", StringComparison.Ordinal));
        Assert.DoesNotContain(calls, c => c.Contains("set image", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Dry_run_only_sends_server_side_dry_runs()
    {
        var (exitCode, output, calls) = await InstallAsync(new()
        {
            ["FAKE_CHANGED"] = AllManifests,
            ["FAKE_NO_NAMESPACE"] = "1",
            ["DRY_RUN"] = "1",
            ["LOKI_IMAGE"] = "registry.example/lokisharp:0.1.0",
        });

        Assert.True(exitCode == 0, output);
        var mutating = calls.Where(c => !c.StartsWith("get ", StringComparison.Ordinal)).ToList();
        // The namespace, every manifest and the image.
        Assert.Equal(DeployFiles.ManifestNames.Length + 2, mutating.Count);
        Assert.All(mutating, c => Assert.EndsWith(" --dry-run=server", c, StringComparison.Ordinal));
        Assert.DoesNotContain(calls, c => c.Contains("rollout", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_missing_namespace_is_created_and_LOKI_IMAGE_replaces_the_image()
    {
        var (exitCode, output, calls) = await InstallAsync(new()
        {
            ["FAKE_NO_NAMESPACE"] = "1",
            ["LOKI_IMAGE"] = "registry.example/lokisharp:0.1.0",
            ["NAMESPACE"] = "jewelry-shop",
        });

        Assert.True(exitCode == 0, output);
        Assert.Contains("create namespace jewelry-shop", calls);
        Assert.Contains("-n jewelry-shop set image deployment/loki loki=registry.example/lokisharp:0.1.0", calls);
    }
}
