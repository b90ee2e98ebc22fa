using System.Text;
using LokiSharp.Ruler.Api;
using LokiSharp.Storage.Store;

namespace LokiSharp.Ruler.Rules;

/// <summary>
/// The rules API's view of the local rule directory (<c>&lt;dir&gt;/&lt;tenant&gt;/&lt;namespace&gt;</c>): lists the valid groups,
/// and writes a namespace file whole and atomically (temporary file, fsync, rename) when a group is set or deleted,
/// so a change survives a crash and the next poll (or an immediate reload) picks it up. Loki's own local store is
/// read-only; writing through the API is LokiSharp's addition. A rewritten file holds the file's valid groups only.
/// </summary>
public sealed class LocalRuleStore(string directory)
{
    /// <summary>Loki's texts for what is not there (<c>rulestore.ErrGroupNotFound</c>, <c>ErrGroupNamespaceNotFound</c>).</summary>
    public const string GroupNotFound = "group does not exist";

    /// <inheritdoc cref="GroupNotFound"/>
    public const string NamespaceNotFound = "group namespace does not exist";

    private readonly Lock _writeLock = new();

    /// <summary>The rule directory.</summary>
    public string Directory { get; } = directory;

    /// <summary>Whether <paramref name="name"/> may name a namespace or tenant file (one local path element).</summary>
    public static bool IsLocalName(string name) =>
        name.Length > 0 && name != "." && name != ".." && name.IndexOfAny(['/', '\\', '\0']) < 0;

    /// <summary>The tenant's valid groups by namespace (one namespace if <paramref name="ns"/> is set), in name order.</summary>
    public SortedDictionary<string, IReadOnlyList<RuleGroup>> List(string tenant, string? ns)
    {
        var result = new SortedDictionary<string, IReadOnlyList<RuleGroup>>(StringComparer.Ordinal);
        var folder = Path.Combine(Directory, tenant);
        if (!System.IO.Directory.Exists(folder))
        {
            return result;
        }

        foreach (var path in System.IO.Directory.GetFiles(folder))
        {
            var name = Path.GetFileName(path);
            if (!RuleDirectory.IsRuleFileName(name) || (ns is not null && name != ns))
            {
                continue;
            }

            var groups = Read(path);
            if (groups.Count > 0)
            {
                result[name] = groups;
            }
        }

        return result;
    }

    /// <summary>One group, or null.</summary>
    public RuleGroup? Get(string tenant, string ns, string group) =>
        Read(Path.Combine(Directory, tenant, ns)).FirstOrDefault(g => g.Name == group);

    /// <summary>Adds <paramref name="group"/> to the namespace, replacing the group of the same name.</summary>
    public void Set(string tenant, string ns, RuleGroup group)
    {
        lock (_writeLock)
        {
            var path = Path.Combine(Directory, tenant, ns);
            var groups = Read(path).ToList();
            var index = groups.FindIndex(g => g.Name == group.Name);
            if (index >= 0)
            {
                groups[index] = group;
            }
            else
            {
                groups.Add(group);
            }

            DurableFile.EnsureDirectory(Directory);
            DurableFile.EnsureDirectory(Path.Combine(Directory, tenant));
            Write(path, groups);
        }
    }

    /// <summary>Removes a group (the file with its last group); false if there is no such group.</summary>
    public bool DeleteGroup(string tenant, string ns, string group)
    {
        lock (_writeLock)
        {
            var path = Path.Combine(Directory, tenant, ns);
            var groups = Read(path).ToList();
            if (groups.RemoveAll(g => g.Name == group) == 0)
            {
                return false;
            }

            if (groups.Count == 0)
            {
                File.Delete(path);
                DurableFile.SyncDirectory(Path.GetDirectoryName(path)!);
            }
            else
            {
                Write(path, groups);
            }

            return true;
        }
    }

    /// <summary>Removes a namespace file; false if there is none.</summary>
    public bool DeleteNamespace(string tenant, string ns)
    {
        lock (_writeLock)
        {
            var path = Path.Combine(Directory, tenant, ns);
            if (!File.Exists(path))
            {
                return false;
            }

            File.Delete(path);
            DurableFile.SyncDirectory(Path.GetDirectoryName(path)!);
            return true;
        }
    }

    private static IReadOnlyList<RuleGroup> Read(string path)
    {
        try
        {
            return RuleFileParser.Parse(path, File.ReadAllText(path)).Groups;
        }
        catch (FileNotFoundException)
        {
            return [];
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }

    private static void Write(string path, IReadOnlyList<RuleGroup> groups)
    {
        var bytes = Encoding.UTF8.GetBytes(RuleGroupYaml.File(groups));
        DurableFile.Replace(path, stream => stream.Write(bytes));
    }
}
