namespace LokiSharp.Storage.Objects;

/// <summary>One object found by <see cref="IObjectStore.ListAsync"/>: its key and size in bytes.</summary>
public readonly record struct ObjectInfo(string Key, long Size);
