using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace LokiSharp.IntegrationTests.Deploy;

/// <summary>
/// The files under <c>deploy/k8s</c> and the repository root, read from the source tree (not copied to the
/// test output) so the tests always check what would be committed and applied.
/// </summary>
internal static partial class DeployFiles
{
    public const string Namespace = "jewelry-shop";

    public static readonly string[] ManifestNames =
    [
        "loki-configmap.yaml",
        "loki-deployment.yaml",
        "promtail-configmap.yaml",
        "promtail-daemonset.yaml",
        "promtail-rbac.yaml",
        "loki-datasource.yaml",
    ];

    /// <summary>The scalable shape (write / read / backend and a gateway) under <c>deploy/k8s/scalable</c>.</summary>
    public static readonly string[] ScalableManifestNames =
    [
        "scalable/loki-config.yaml",
        "scalable/loki-s3-secret.yaml",
        "scalable/loki-write.yaml",
        "scalable/loki-read.yaml",
        "scalable/loki-backend.yaml",
        "scalable/loki-gateway.yaml",
    ];

    public static readonly string[] ScriptNames = ["install-loki.sh", "validate-loki.sh", "test-loki-comprehensive.sh"];

    private static readonly Lazy<string> Root = new(FindRepositoryRoot);

    public static string RepositoryRoot => Root.Value;

    public static string K8sDirectory => Path.Combine(RepositoryRoot, "deploy", "k8s");

    public static string PathOf(string name) => Path.Combine(K8sDirectory, name);

    /// <summary>Every YAML document of a manifest file, skipping empty ones (a trailing <c>---</c>).</summary>
    public static List<YamlMappingNode> Documents(string name)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(PathOf(name)))
        {
            stream.Load(reader);
        }

        return stream.Documents
            .Select(d => d.RootNode)
            .Where(n => n is not YamlScalarNode { Value: null or "" })
            .Select(n => n as YamlMappingNode ?? throw new InvalidDataException($"{name}: a document is not a mapping (line {n.Start.Line})"))
            .ToList();
    }

    /// <summary>All objects of the given manifests (by default the single binary's), with the file each came from.</summary>
    public static List<(string File, YamlMappingNode Object)> AllObjects(IEnumerable<string>? files = null) =>
        (files ?? ManifestNames).SelectMany(file => Documents(file).Select(o => (file, o))).ToList();

    /// <summary>The one object of <paramref name="kind"/> named <paramref name="name"/>, across the given manifests.</summary>
    public static YamlMappingNode Object(string kind, string name, IEnumerable<string>? files = null)
    {
        var matches = AllObjects(files).Where(o => o.Object.Str("kind") == kind && o.Object.Str("metadata", "name") == name).ToList();
        Assert.True(matches.Count == 1, $"expected exactly one {kind}/{name} in deploy/k8s, found {matches.Count}");
        return matches[0].Object;
    }

    /// <summary>
    /// Runs the offline Kubernetes schema validator (deploy/k8s/validate) on <paramref name="files"/> and fails the
    /// test unless every object of them passes. Never skipped: CI installs node and the validator's packages.
    /// </summary>
    public static async Task AssertSchemasPassAsync(IReadOnlyList<string> files)
    {
        var validateDir = Path.Combine(K8sDirectory, "validate");
        Assert.True(
            Directory.Exists(Path.Combine(validateDir, "node_modules", "kubernetes-models")),
            $"{validateDir}/node_modules is missing: run `npm ci --prefix deploy/k8s/validate` (needs node and npm)");

        var (exitCode, output) = await ExternalTool.RunAsync(
            "node", ["validate.mjs", .. files.Select(PathOf)], validateDir,
            installHint: "Install Node.js 18 or later (apt-get install nodejs npm).");

        Assert.True(exitCode == 0, $"kubernetes-models validation failed (exit {exitCode}):\n{output}");
        Assert.Contains($"{AllObjects(files).Count} objects, 0 failures", output, StringComparison.Ordinal);
    }

    /// <summary>A ConfigMap's embedded file (for example <c>loki.yaml</c>) as text.</summary>
    public static string ConfigMapFile(string configMapName, string key, IEnumerable<string>? files = null) =>
        Object("ConfigMap", configMapName, files).Str("data", key);

    /// <summary>Parses YAML text (an embedded config) into its root mapping.</summary>
    public static YamlMappingNode ParseYaml(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return (YamlMappingNode)stream.Documents.Single().RootNode;
    }

    /// <summary>The node at <paramref name="path"/>; fails the test naming the path when a step is missing.</summary>
    public static YamlNode Get(this YamlNode node, params string[] path)
    {
        var current = node;
        for (var i = 0; i < path.Length; i++)
        {
            var step = path[i];
            YamlNode? next = null;
            if (current is YamlMappingNode map)
            {
                map.Children.TryGetValue(new YamlScalarNode(step), out next);
            }
            else if (current is YamlSequenceNode seq && int.TryParse(step, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < seq.Children.Count)
            {
                next = seq.Children[index];
            }

            current = next ?? throw new Xunit.Sdk.XunitException($"missing {string.Join('.', path[..(i + 1)])} (line {current.Start.Line})");
        }

        return current;
    }

    public static bool Has(this YamlNode node, params string[] path)
    {
        try
        {
            node.Get(path);
            return true;
        }
        catch (Xunit.Sdk.XunitException)
        {
            return false;
        }
    }

    public static string Str(this YamlNode node, params string[] path) =>
        node.Get(path) is YamlScalarNode { Value: { } value } ? value : throw new Xunit.Sdk.XunitException($"{string.Join('.', path)} is not a scalar");

    public static int Int(this YamlNode node, params string[] path) => int.Parse(node.Str(path), NumberStyles.Integer, CultureInfo.InvariantCulture);

    public static IEnumerable<YamlNode> Seq(this YamlNode node, params string[] path) =>
        node.Get(path) as YamlSequenceNode ?? throw new Xunit.Sdk.XunitException($"{string.Join('.', path)} is not a list");

    public static Dictionary<string, string> StringMap(this YamlNode node, params string[] path) =>
        ((YamlMappingNode)node.Get(path)).Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => ((YamlScalarNode)kv.Value).Value ?? "", StringComparer.Ordinal);

    /// <summary>Every scalar under <paramref name="node"/> with its dotted path (<c>a.b[0].c</c>).</summary>
    public static IEnumerable<KeyValuePair<string, string>> ScalarsUnder(YamlNode node, string prefix = "")
    {
        switch (node)
        {
            case YamlMappingNode map:
                foreach (var (key, value) in map.Children)
                {
                    var name = prefix.Length == 0 ? ((YamlScalarNode)key).Value! : prefix + "." + ((YamlScalarNode)key).Value;
                    foreach (var item in ScalarsUnder(value, name))
                    {
                        yield return item;
                    }
                }

                break;
            case YamlSequenceNode seq:
                foreach (var item in seq.Children.SelectMany((child, i) => ScalarsUnder(child, $"{prefix}[{i}]")))
                {
                    yield return item;
                }

                break;
            case YamlScalarNode { Value: { } value }:
                yield return new KeyValuePair<string, string>(prefix, value);
                break;
        }
    }

    /// <summary>The element of a list of mappings whose <paramref name="key"/> is <paramref name="value"/>.</summary>
    public static YamlNode Named(this IEnumerable<YamlNode> items, string value, string key = "name")
    {
        var matches = items.Where(i => i.Has(key) && i.Str(key) == value).ToList();
        Assert.True(matches.Count == 1, $"expected one item with {key}={value}, found {matches.Count}");
        return matches[0];
    }

    /// <summary>A Kubernetes quantity such as <c>2Gi</c>, <c>500M</c> or <c>250m</c> in base units.</summary>
    public static double Quantity(string text)
    {
        var match = QuantityPattern().Match(text);
        Assert.True(match.Success, $"not a Kubernetes quantity: {text}");
        var number = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return number * match.Groups[2].Value switch
        {
            "" => 1,
            "m" => 1e-3,
            "k" => 1e3,
            "M" => 1e6,
            "G" => 1e9,
            "Ki" => 1024,
            "Mi" => 1024d * 1024,
            "Gi" => 1024d * 1024 * 1024,
            var s => throw new Xunit.Sdk.XunitException($"unsupported quantity suffix {s}"),
        };
    }

    /// <summary>A Go duration as Loki writes it (<c>5s</c>, <c>10m</c>, <c>744h0m0s</c>).</summary>
    public static TimeSpan GoDuration(string text)
    {
        var total = TimeSpan.Zero;
        var matches = GoDurationPart().Matches(text);
        Assert.True(matches.Count > 0 && string.Concat(matches.Select(m => m.Value)) == text, $"not a Go duration: {text}");
        foreach (Match m in matches)
        {
            var n = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            total += m.Groups[2].Value switch
            {
                "h" => TimeSpan.FromHours(n),
                "m" => TimeSpan.FromMinutes(n),
                "s" => TimeSpan.FromSeconds(n),
                _ => TimeSpan.FromMilliseconds(n),
            };
        }

        return total;
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "LokiSharp.sln")) && Directory.Exists(Path.Combine(dir.FullName, "deploy", "k8s")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no repository root (LokiSharp.sln with deploy/k8s) above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|Ki|Mi|Gi)?$")]
    private static partial Regex QuantityPattern();

    [GeneratedRegex(@"([0-9]+(?:\.[0-9]+)?)(h|ms|m|s)")]
    private static partial Regex GoDurationPart();
}
