using System.Globalization;
using System.Text;
using LokiSharp.Storage.Store;

namespace LokiSharp.Compactor.Retention;

/// <summary>
/// Packs waiting out <c>retention_delete_delay</c>: one line per pack, <c>tenant TAB packId(hex) TAB
/// markedAtUnixMs</c>, in <c>retention/marks</c> under the working directory, rewritten atomically. The marks
/// only carry the time a pack was first seen unreferenced: which packs are garbage is always recomputed from
/// the index, so a lost or stale mark can delay a deletion but never cause a wrong one.
/// </summary>
internal sealed class PackMarks
{
    private readonly string _path;
    private readonly Dictionary<(string Tenant, long PackId), long> _marks = [];

    public PackMarks(string workingDirectory)
    {
        var directory = Path.Combine(workingDirectory, "retention");
        DurableFile.EnsureDirectory(directory);
        DurableFile.DeleteLeftovers(directory);
        _path = Path.Combine(directory, "marks");
        if (File.Exists(_path))
        {
            foreach (var line in File.ReadAllLines(_path))
            {
                var parts = line.Split('\t');
                if (parts.Length == 3 &&
                    long.TryParse(parts[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var pack) &&
                    long.TryParse(parts[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var at))
                {
                    _marks[(parts[0], pack)] = at;
                }
            }
        }
    }

    public int Count => _marks.Count;

    public IReadOnlyDictionary<(string Tenant, long PackId), long> Entries => _marks;

    /// <summary>Marks a pack at <paramref name="nowMs"/> unless already marked.</summary>
    /// <returns>Whether the mark is new.</returns>
    public bool Mark(string tenant, long packId, long nowMs) => _marks.TryAdd((tenant, packId), nowMs);

    public void Remove(string tenant, long packId) => _marks.Remove((tenant, packId));

    /// <summary>Writes the marks durably.</summary>
    public void Save()
    {
        var text = new StringBuilder();
        foreach (var ((tenant, pack), at) in _marks)
        {
            text.Append(tenant).Append('\t').Append(pack.ToString("x16", CultureInfo.InvariantCulture)).Append('\t')
                .Append(at.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        DurableFile.Replace(_path, stream => stream.Write(bytes));
    }
}
