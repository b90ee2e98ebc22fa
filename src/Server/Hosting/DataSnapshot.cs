using System.Diagnostics;
using System.Globalization;
using LokiSharp.Server.Configuration;
using LokiSharp.Storage.Store;

namespace LokiSharp.Server.Hosting;

/// <summary>What <see cref="DataSnapshot.TakeAsync"/> made.</summary>
/// <param name="Directory">The snapshot's directory.</param>
/// <param name="Files">Files in it.</param>
/// <param name="CopiedBytes">Bytes copied; everything else is a hard link to the live file.</param>
/// <param name="Duration">How long it took.</param>
public readonly record struct SnapshotResult(string Directory, int Files, long CopiedBytes, TimeSpan Duration);

/// <summary>
/// An online backup of everything the server keeps on disk (chunk store, WAL, compactor state), taken while
/// pushes and queries go on: a new directory under <c>&lt;path_prefix&gt;/snapshots/</c> that mirrors each data
/// directory at its absolute path, made of hard links to the immutable files and copies of the two files that
/// grow in place (index journals and the current WAL segment, up to their last commit). <c>tar</c> reads it
/// like any directory; restoring is untarring it at <c>/</c> and starting the server.
/// </summary>
public sealed class DataSnapshot(LokiConfig config, Ingester.StreamIngester ingester, TimeProvider time)
{
    private readonly SemaphoreSlim _one = new(1, 1);

    /// <summary>The directory snapshots are made in.</summary>
    public string Root => Path.GetFullPath(Path.Combine(BaseDirectory(config), "snapshots"));

    /// <summary>Takes a snapshot; one at a time.</summary>
    public async Task<SnapshotResult> TakeAsync(CancellationToken cancellationToken)
    {
        await _one.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var started = Stopwatch.GetTimestamp();
            var name = time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmss.fff'Z'", CultureInfo.InvariantCulture);
            var directory = Path.Combine(Root, name);
            Directory.CreateDirectory(directory);

            // The WAL and the store are cut together with flushes held back; the compactor's files are only ever
            // replaced by rename, so links of them are consistent on their own.
            var copied = await ingester.SnapshotAsync(Mirror(directory, RoomOptions.Ingester(config).WalDirectory),
                Mirror(directory, RoomOptions.Storage(config, null).RootDirectory), cancellationToken).ConfigureAwait(false);
            var compactor = RoomOptions.Compactor(config).WorkingDirectory;
            copied += LinkTree(Path.GetFullPath(compactor), Mirror(directory, compactor));
            var files = Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Count();
            return new SnapshotResult(directory, files, copied, Stopwatch.GetElapsedTime(started));
        }
        finally
        {
            _one.Release();
        }
    }

    // Where the snapshot keeps a copy of a data directory: the directory's absolute path under the snapshot.
    private static string Mirror(string snapshot, string dataDirectory) =>
        Path.Combine(snapshot, Path.GetFullPath(dataDirectory).TrimStart(Path.DirectorySeparatorChar));

    private long LinkTree(string source, string destination)
    {
        if (!Directory.Exists(source) || Path.GetFullPath(source).StartsWith(Root, StringComparison.Ordinal))
        {
            return 0;
        }

        Directory.CreateDirectory(destination);
        var copied = DurableFile.LinkFiles(source, destination);
        foreach (var child in Directory.EnumerateDirectories(source))
        {
            copied += LinkTree(child, Path.Combine(destination, Path.GetFileName(child)));
        }

        return copied;
    }

    private static string BaseDirectory(LokiConfig config) =>
        config.Common.PathPrefix.Length > 0 ? config.Common.PathPrefix : "data";
}
