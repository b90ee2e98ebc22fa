using LokiSharp.Storage.Store;

namespace LokiSharp.Compactor.State;

/// <summary>
/// The compactor's state in its working directory, as before: <c>retention/marks</c> and
/// <c>deletion/delete_requests.json</c>, each replaced atomically (temp file, fsync, rename, fsync directory).
/// </summary>
public sealed class LocalCompactorState : ICompactorState
{
    private readonly string _workingDirectory;

    /// <summary>Uses <paramref name="workingDirectory"/> (<c>compactor.working_directory</c>); leftovers of interrupted saves are removed.</summary>
    public LocalCompactorState(string workingDirectory)
    {
        _workingDirectory = workingDirectory;
        foreach (var kind in Enum.GetValues<CompactorStateKind>())
        {
            var directory = Path.GetDirectoryName(PathOf(kind))!;
            DurableFile.EnsureDirectory(directory);
            DurableFile.DeleteLeftovers(directory);
        }
    }

    /// <inheritdoc />
    public byte[]? Load(CompactorStateKind kind)
    {
        var path = PathOf(kind);
        return File.Exists(path) ? File.ReadAllBytes(path) : null;
    }

    /// <inheritdoc />
    public void Save(CompactorStateKind kind, ReadOnlyMemory<byte> content) =>
        DurableFile.Replace(PathOf(kind), stream => stream.Write(content.Span));

    private string PathOf(CompactorStateKind kind) => kind switch
    {
        CompactorStateKind.Marks => Path.Combine(_workingDirectory, "retention", "marks"),
        _ => Path.Combine(_workingDirectory, "deletion", "delete_requests.json"),
    };
}
