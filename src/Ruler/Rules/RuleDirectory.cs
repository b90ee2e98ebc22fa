namespace LokiSharp.Ruler.Rules;

/// <summary>
/// The local rule store's layout (Loki's <c>rulestore/local</c>): one folder per tenant under the directory, one
/// file per namespace named by its file name (<c>&lt;dir&gt;/&lt;tenant&gt;/&lt;namespace&gt;</c>); names starting with a dot
/// (editor swap files, Kubernetes ConfigMap <c>..data</c> links) and the temporary files of the rules API's atomic
/// writes are skipped, symbolic links followed.
/// </summary>
public static class RuleDirectory
{
    /// <summary>Whether a file of a tenant's folder is a namespace (not hidden, not an unfinished write).</summary>
    public static bool IsRuleFileName(string name) =>
        !name.StartsWith('.') && !name.EndsWith(LokiSharp.Storage.Store.DurableFile.TempSuffix, StringComparison.Ordinal);

    /// <summary>Every tenant's rule files, parsed: tenant to namespace files, in name order.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<TenantRuleFile>> Load(string directory)
    {
        var tenants = new SortedDictionary<string, IReadOnlyList<TenantRuleFile>>(StringComparer.Ordinal);
        if (!Directory.Exists(directory))
        {
            return tenants;
        }

        foreach (var tenantDir in Directory.GetDirectories(directory).Order(StringComparer.Ordinal))
        {
            var tenant = Path.GetFileName(tenantDir);
            if (tenant.StartsWith('.'))
            {
                continue;
            }

            var files = new List<TenantRuleFile>();
            foreach (var path in Directory.GetFiles(tenantDir).Order(StringComparer.Ordinal))
            {
                var ns = Path.GetFileName(path);
                if (!IsRuleFileName(ns))
                {
                    continue;
                }

                RuleGroupFile parsed;
                try
                {
                    parsed = RuleFileParser.Parse(path, File.ReadAllText(path));
                }
                catch (IOException e)
                {
                    parsed = new RuleGroupFile(path, [], [new RuleProblem(path, null, null, 0, e.Message)]);
                }
                catch (UnauthorizedAccessException e)
                {
                    parsed = new RuleGroupFile(path, [], [new RuleProblem(path, null, null, 0, e.Message)]);
                }

                files.Add(new TenantRuleFile(tenant, ns, parsed));
            }

            tenants[tenant] = files;
        }

        return tenants;
    }
}

/// <summary>One namespace file of a tenant, parsed.</summary>
public sealed record TenantRuleFile(string Tenant, string Namespace, RuleGroupFile Content);
