using System.Diagnostics;

namespace LokiSharp.IntegrationTests;

/// <summary>
/// A size-limited tmpfs that only a server started through <see cref="Wrapper"/> sees: a process holds a new user
/// and mount namespace (<c>unshare</c>, no privileges needed where user namespaces are enabled) with the tmpfs
/// mounted on <see cref="MountPoint"/>, and the server enters it with <c>nsenter</c>, also after a restart. The
/// test reaches the files through <c>/proc/&lt;holder&gt;/root</c>, to fill the disk and free it again.
/// </summary>
public sealed class SmallFileSystem : IDisposable
{
    private readonly Process _holder;

    private SmallFileSystem(Process holder, string mountPoint)
    {
        _holder = holder;
        MountPoint = mountPoint;
    }

    /// <summary>Where the file system is mounted, as the server sees it.</summary>
    public string MountPoint { get; }

    /// <summary>The command prefix that runs a program inside the namespace.</summary>
    public IReadOnlyList<string> Wrapper => ["nsenter", "-t", _holder.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "-m", "--preserve-credentials", "--"];

    /// <summary>Mounts a tmpfs of <paramref name="megabytes"/> MiB on a new temporary directory.</summary>
    public static SmallFileSystem Mount(int megabytes)
    {
        var mountPoint = Directory.CreateTempSubdirectory("lokisharp-smallfs-").FullName;
        var start = new ProcessStartInfo("unshare")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["--user", "--map-root-user", "--mount", "--propagation", "private", "sh", "-c",
            $"mount -t tmpfs -o size={megabytes}m tmpfs \"$0\" && echo mounted && exec sleep 100000", mountPoint])
        {
            start.ArgumentList.Add(arg);
        }

        var holder = Process.Start(start)!;
        var first = holder.StandardOutput.ReadLine();
        if (first != "mounted")
        {
            var error = holder.StandardError.ReadToEnd();
            holder.Kill();
            throw new InvalidOperationException(
                $"could not mount a {megabytes} MiB tmpfs in a user namespace (unshare from util-linux, user namespaces enabled): {error}");
        }

        return new SmallFileSystem(holder, mountPoint);
    }

    /// <summary>A path inside the file system as this process reaches it.</summary>
    public string HostPath(string relative) => Path.Combine($"/proc/{_holder.Id}/root{MountPoint}", relative);

    /// <summary>Writes a file of zeros until the file system is full; returns how many bytes it took.</summary>
    public long Fill(string name)
    {
        var buffer = new byte[64 * 1024];
        long written = 0;
        using var file = new FileStream(HostPath(name), FileMode.Create, FileAccess.Write, FileShare.None, 1);

        // Smaller writes at the end take the last pages.
        for (var size = buffer.Length; size >= 4096; size /= 2)
        {
            try
            {
                while (true)
                {
                    file.Write(buffer, 0, size);
                    written += size;
                }
            }
            catch (IOException)
            {
                // Full at this size.
            }
        }

        return written;
    }

    public void Dispose()
    {
        if (!_holder.HasExited)
        {
            _holder.Kill();
            _holder.WaitForExit();
        }

        _holder.Dispose();
        try
        {
            Directory.Delete(MountPoint, recursive: true);
        }
        catch (IOException)
        {
            // Left behind in the temp directory: harmless.
        }
    }
}
