namespace LokiSharp.Compactor.State;

/// <summary>
/// Where the compactor keeps its state (retention marks, delete requests): the working directory for the local
/// layout, versioned objects in the bucket for a store in object storage, so a backend that moves loses nothing.
/// Each kind holds one document; a save replaces it as a whole, durably, before it returns.
/// </summary>
public interface ICompactorState
{
    /// <summary>The newest saved document of <paramref name="kind"/>, or null when none was saved.</summary>
    byte[]? Load(CompactorStateKind kind);

    /// <summary>Saves <paramref name="content"/> as the document of <paramref name="kind"/>.</summary>
    void Save(CompactorStateKind kind, ReadOnlyMemory<byte> content);
}

/// <summary>The compactor's documents.</summary>
public enum CompactorStateKind
{
    /// <summary>Packs waiting out the delete delay (<see cref="Retention.PackMarks"/>).</summary>
    Marks,

    /// <summary>Delete requests (<see cref="Deletion.DeleteRequestStore"/>).</summary>
    Deletes,
}
