using System.Diagnostics;

namespace LokiSharp.IntegrationTests.Deploy;

/// <summary>
/// A folder made read-only (a read-only bind mount onto itself) for a server started through <see cref="Wrapper"/>, as
/// a Kubernetes ConfigMap volume is: a holder process keeps a new user and mount namespace (<c>unshare</c>, like
/// <see cref="SmallFileSystem"/>) and the server enters it with <c>nsenter</c>. Root in the test process cannot stand
/// in for this: permission bits do not stop root, a read-only mount does.
/// </summary>
public sealed class ReadOnlyMount : IDisposable
{
    private readonly Process _holder;

    private ReadOnlyMount(Process holder) => _holder = holder;

    /// <summary>The command prefix that runs a program inside the namespace.</summary>
    public IReadOnlyList<string> Wrapper => ["nsenter", "-t", _holder.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "-m", "--preserve-credentials", "--"];

    /// <summary>Makes <paramref name="folder"/> read-only inside a new namespace.</summary>
    public static ReadOnlyMount Of(string folder)
    {
        var start = new ProcessStartInfo("unshare") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])["--user", "--map-root-user", "--mount", "--propagation", "private", "sh", "-c",
            "mount --bind \"$0\" \"$0\" && mount -o remount,bind,ro \"$0\" && echo mounted && exec sleep 100000", folder])
        {
            start.ArgumentList.Add(arg);
        }

        var holder = Process.Start(start)!;
        if (holder.StandardOutput.ReadLine() != "mounted")
        {
            var error = holder.StandardError.ReadToEnd();
            holder.Kill();
            throw new InvalidOperationException($"could not bind-mount {folder} read-only in a user namespace (unshare from util-linux): {error}");
        }

        return new ReadOnlyMount(holder);
    }

    public void Dispose()
    {
        if (!_holder.HasExited)
        {
            _holder.Kill();
            _holder.WaitForExit();
        }

        _holder.Dispose();
    }
}
