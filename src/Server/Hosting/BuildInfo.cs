using System.Reflection;
using System.Runtime.InteropServices;

namespace LokiSharp.Server.Hosting;

/// <summary>Version facts served at <c>/loki/api/v1/status/buildinfo</c> and as <c>loki_build_info</c>.</summary>
public sealed record BuildInfo(string Version, string Revision, string Branch, string BuildUser, string BuildDate, string GoVersion)
{
    /// <summary>
    /// The Loki release whose API LokiSharp answers to. Grafana and its Logs Drilldown app compare the reported
    /// version against 3.x to switch features on, so the version leads with it and carries ours as semver build
    /// metadata, which version comparisons ignore.
    /// </summary>
    public const string LokiCompatibleVersion = "3.5.0";

    /// <summary>This build's facts, from assembly metadata stamped at build time.</summary>
    public static BuildInfo Current { get; } = Read();

    /// <summary>LokiSharp's own version.</summary>
    public static string ProductVersion =>
        typeof(BuildInfo).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    private static BuildInfo Read()
    {
        var assembly = typeof(BuildInfo).Assembly;
        var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "";
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        var revision = Metadata(assembly, "GitRevision") is { Length: > 0 } sha ? sha : plus >= 0 ? informational[(plus + 1)..] : "";
        return new BuildInfo(
            $"{LokiCompatibleVersion}+lokisharp.{ProductVersion}",
            revision,
            Metadata(assembly, "GitBranch") ?? "",
            "lokisharp",
            Metadata(assembly, "GitCommitDate") ?? "",
            RuntimeInformation.FrameworkDescription);
    }

    private static string? Metadata(Assembly assembly, string key)
    {
        foreach (var attribute in assembly.GetCustomAttributes<AssemblyMetadataAttribute>())
        {
            if (attribute.Key == key)
            {
                return attribute.Value;
            }
        }

        return null;
    }
}
