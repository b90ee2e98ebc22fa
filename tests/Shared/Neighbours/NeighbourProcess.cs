using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace LokiSharp.Tests.Neighbours;

/// <summary>
/// A real neighbour program (Alertmanager, Prometheus) on a loopback port, started under a small shell watcher that
/// kills it once this test process is gone, so a crashed or killed test run leaves no orphan behind. Disposing
/// kills the watcher and the program at once.
/// </summary>
public sealed class NeighbourProcess : IDisposable
{
    // $1 = owner pid, $2 = log file, then the program and its arguments.
    private const string Watcher =
        "owner=$1; log=$2; shift 2; \"$@\" >\"$log\" 2>&1 & child=$!; " +
        "trap 'kill -9 $child 2>/dev/null; wait $child; exit 0' TERM INT; " +
        "while kill -0 \"$owner\" 2>/dev/null && kill -0 \"$child\" 2>/dev/null; do sleep 0.2; done; " +
        "kill -9 $child 2>/dev/null; wait $child";

    private const int SigTerm = 15;

    private readonly Process _watcher;

    private NeighbourProcess(Process watcher, string logFile)
    {
        _watcher = watcher;
        LogFile = logFile;
    }

    /// <summary>The program's stdout and stderr.</summary>
    public string LogFile { get; }

    /// <summary>A loopback port free right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Starts <paramref name="program"/> and waits until <paramref name="readyUrl"/> answers 200.</summary>
    public static async Task<NeighbourProcess> StartAsync(string program, IEnumerable<string> arguments, string logFile, Uri readyUrl)
    {
        if (!File.Exists(program))
        {
            throw new InvalidOperationException($"{program} is missing: install it (apt-get install prometheus prometheus-alertmanager)");
        }

        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Watcher);
        start.ArgumentList.Add("neighbour-watcher");
        start.ArgumentList.Add(Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add(logFile);
        start.ArgumentList.Add(program);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var neighbour = new NeighbourProcess(process, logFile);
        try
        {
            await neighbour.WaitReadyAsync(program, readyUrl);
            return neighbour;
        }
        catch
        {
            neighbour.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        try
        {
            // The watcher kills and reaps the program on SIGTERM; killing both at once would leave a zombie to an
            // init that may not reap it.
            if (!_watcher.HasExited && (SendSignal(_watcher.Id, SigTerm) != 0 || !_watcher.WaitForExit(10_000)))
            {
                _watcher.Kill(entireProcessTree: true);
                _watcher.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _watcher.Dispose();
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    private async Task WaitReadyAsync(string program, Uri readyUrl)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_watcher.HasExited)
            {
                break;
            }

            try
            {
                using var response = await http.GetAsync(readyUrl);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        var log = File.Exists(LogFile) ? await File.ReadAllTextAsync(LogFile) : "";
        throw new InvalidOperationException($"{program} did not become ready at {readyUrl}:\n{log[Math.Max(0, log.Length - 4000)..]}");
    }
}
