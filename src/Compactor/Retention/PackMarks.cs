using System.Globalization;
using System.Text;
using LokiSharp.Compactor.State;

namespace LokiSharp.Compactor.Retention;

/// <summary>
/// Packs waiting out <c>retention_delete_delay</c>: one line per pack, <c>tenant TAB pack TAB markedAtUnixMs</c>, where
/// pack is the store's name for it (<see cref="Storage.Store.PackFileInfo.MarkName"/>: the id in 16 hex digits locally,
/// <c>writer/id</c> in a bucket), kept in the compactor's state and saved whole. The marks only carry the time a
/// pack was first seen unreferenced: which packs are garbage is always recomputed from the index, so a lost or stale
/// mark can delay a deletion but never cause a wrong one.
/// </summary>
internal sealed class PackMarks
{
    private readonly ICompactorState _state;
    private readonly Dictionary<(string Tenant, string Pack), long> _marks = [];

    public PackMarks(ICompactorState state)
    {
        _state = state;
        if (state.Load(CompactorStateKind.Marks) is { } bytes)
        {
            foreach (var line in Encoding.UTF8.GetString(bytes).Split('\n'))
            {
                var parts = line.Split('\t');
                if (parts.Length == 3 && parts[1].Length > 0 &&
                    long.TryParse(parts[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var at))
                {
                    _marks[(parts[0], parts[1])] = at;
                }
            }
        }
    }

    public int Count => _marks.Count;

    public IReadOnlyDictionary<(string Tenant, string Pack), long> Entries => _marks;

    /// <summary>Marks a pack at <paramref name="nowMs"/> unless already marked.</summary>
    /// <returns>Whether the mark is new.</returns>
    public bool Mark(string tenant, string pack, long nowMs) => _marks.TryAdd((tenant, pack), nowMs);

    public void Remove(string tenant, string pack) => _marks.Remove((tenant, pack));

    /// <summary>Writes the marks durably.</summary>
    public void Save()
    {
        var text = new StringBuilder();
        foreach (var ((tenant, pack), at) in _marks)
        {
            text.Append(tenant).Append('\t').Append(pack).Append('\t').Append(at.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        _state.Save(CompactorStateKind.Marks, Encoding.UTF8.GetBytes(text.ToString()));
    }
}
