using System.Runtime.InteropServices;

namespace LokiSharp.Storage.Store;

/// <summary>
/// Crash-safe file primitives: content is written under a temporary name, fsynced, renamed (or, create-only, linked)
/// into place and the directory fsynced, so a reader sees either no file or the complete file.
/// </summary>
public static partial class DurableFile
{
    /// <summary>Suffix of temporary files; leftovers from a crash are deleted on open.</summary>
    public const string TempSuffix = ".tmp";

    /// <summary>Writes <paramref name="path"/> atomically; false if it already exists (nothing is changed).</summary>
    public static bool TryCreate(string path, Action<FileStream> write, Action<DurableStep>? hook = null)
    {
        var directory = Path.GetDirectoryName(path)!;
        var temp = path + "." + Guid.NewGuid().ToString("N") + TempSuffix;
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                hook?.Invoke(DurableStep.Written);
                stream.Flush(flushToDisk: true);
            }

            hook?.Invoke(DurableStep.Synced);
            if (!PlaceIfAbsent(temp, path))
            {
                return false;
            }

            hook?.Invoke(DurableStep.Renamed);
            SyncDirectory(directory);
            return true;
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    // Gives the finished file its final name unless that name exists, as one step: racing writers get one winner.
    // File.Move without overwrite is no such step on Unix (it checks for the name, then renames over whatever came
    // in between), so a hard link places the file there; the temporary name is removed by the caller.
    private static bool PlaceIfAbsent(string temp, string path)
    {
        const int alreadyExists = 17;
        if (TryLink(temp, path, out var errno))
        {
            return true;
        }

        if (errno == alreadyExists && File.Exists(path))
        {
            return false;
        }

        // Other failures (a directory by that name, a missing directory, no hard links on this file system or
        // platform) take File.Move's path, which reports them as .NET does or, where links are impossible, still
        // places the file.
        try
        {
            File.Move(temp, path, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            return false;
        }
    }

    /// <summary>
    /// Writes <paramref name="path"/> atomically, replacing any previous version: readers and a crash see the
    /// old content or the new, never a mix.
    /// </summary>
    public static void Replace(string path, Action<FileStream> write)
    {
        var directory = Path.GetDirectoryName(path)!;
        var temp = path + "." + Guid.NewGuid().ToString("N") + TempSuffix;
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
            SyncDirectory(directory);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>Makes a directory's entries (creations, renames, deletions) durable.</summary>
    public static void SyncDirectory(string directory)
    {
        if (!HasPosixFileCalls)
        {
            // Windows cannot open directories for flushing; NTFS journals metadata itself.
            return;
        }

        var fd = Open(directory, 0);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory {directory} to sync it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory {directory} failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>Creates a directory and makes its entry durable in the parent.</summary>
    public static void EnsureDirectory(string directory)
    {
        if (Directory.Exists(directory))
        {
            return;
        }

        var parent = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(directory));
        if (parent is not null)
        {
            EnsureDirectory(parent);
        }

        Directory.CreateDirectory(directory);
        if (parent is not null)
        {
            SyncDirectory(parent);
        }
    }

    /// <summary>Deletes temporary files left by interrupted writes.</summary>
    public static void DeleteLeftovers(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return;
        }

        foreach (var file in Directory.EnumerateFiles(directory, "*" + TempSuffix))
        {
            File.Delete(file);
        }
    }

    /// <summary>
    /// Gives <paramref name="source"/>'s content a second name at <paramref name="destination"/>: a hard link
    /// (no bytes copied; the content stays even if the source is deleted or replaced), or a copy where a link
    /// cannot be made (another file system). For files that are never written in place. Returns the bytes
    /// copied, 0 for a link, or -1 when the source no longer exists.
    /// </summary>
    public static long LinkOrCopy(string source, string destination)
    {
        const int noSuchFile = 2;
        if (TryLink(source, destination, out var errno))
        {
            return 0;
        }

        if (errno == noSuchFile && !File.Exists(source))
        {
            return -1;
        }

        try
        {
            File.Copy(source, destination, overwrite: false);
            return new FileInfo(destination).Length;
        }
        catch (FileNotFoundException)
        {
            return -1;
        }
    }

    /// <summary>
    /// Links every file of <paramref name="source"/> not yet in <paramref name="destination"/>, leaving out
    /// temporary files of unfinished writes; for directories whose files are only ever created by rename or link.
    /// Returns the bytes copied where a link was impossible.
    /// </summary>
    public static long LinkFiles(string source, string destination)
    {
        long copied = 0;
        if (!Directory.Exists(source))
        {
            return copied;
        }

        foreach (var file in Directory.EnumerateFiles(source))
        {
            var target = Path.Combine(destination, Path.GetFileName(file));
            if (file.EndsWith(TempSuffix, StringComparison.Ordinal) || File.Exists(target))
            {
                continue;
            }

            copied += Math.Max(0, LinkOrCopy(file, target));
        }

        return copied;
    }

    /// <summary>Copies the first <paramref name="length"/> bytes of a file that may still be appended to.</summary>
    public static void CopyPrefix(string source, string destination, long length)
    {
        using var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
        using var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        var buffer = new byte[1 << 16];
        var left = length;
        while (left > 0)
        {
            var read = input.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (read == 0)
            {
                break;
            }

            output.Write(buffer, 0, read);
            left -= read;
        }

        output.Flush(flushToDisk: true);
    }

    // Where libc's open/fsync/link below exist; elsewhere (Windows) the callers take .NET's own paths.
    private static bool HasPosixFileCalls => OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD();

    // A hard link where the platform has them; errno is the failure's, 0 where no link was tried.
    private static bool TryLink(string existing, string created, out int errno)
    {
        errno = 0;
        if (!HasPosixFileCalls)
        {
            return false;
        }

        if (Link(existing, created) == 0)
        {
            return true;
        }

        errno = Marshal.GetLastPInvokeError();
        return false;
    }

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string existing, string created);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}

/// <summary>Points inside a durable write, for crash-simulation tests.</summary>
public enum DurableStep
{
    Written,
    Synced,
    Renamed,
}
