namespace LokiSharp.Server.Hosting;

/// <summary>
/// An exclusive lock on a data directory, held while the process runs: on the local filesystem only one process
/// may write a chunk store (its index journals are appended in place), so a second one running the ingester or
/// the compactor on the same directory fails at start-up instead of corrupting it. Readers take no lock.
/// </summary>
internal sealed class DataDirectoryLock : IDisposable
{
    /// <summary>The lock file's name; the store ignores files at its root.</summary>
    public const string FileName = ".lokisharp.lock";

    private readonly FileStream _file;

    private DataDirectoryLock(FileStream file) => _file = file;

    /// <summary>Takes the lock, creating the directory if needed; throws <see cref="IOException"/> naming it when held.</summary>
    public static DataDirectoryLock Acquire(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, FileName);
        try
        {
            // .NET takes an advisory flock(LOCK_EX) for FileShare.None on Unix; the kernel drops it when the process dies.
            return new DataDirectoryLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException e)
        {
            throw new IOException(
                $"the chunk store directory {Path.GetFullPath(directory)} is locked by another LokiSharp process that writes to it: " +
                "on the local filesystem only one instance running the ingester or the compactor may use a directory " +
                $"(others can run -target=read or -target=querier on it) ({e.Message})", e);
        }
    }

    public void Dispose() => _file.Dispose();
}
