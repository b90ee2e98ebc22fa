using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace LokiSharp.IntegrationTests;

/// <summary>
/// The real <c>lokisharp</c> server started as a child process on free loopback ports, in its own temporary
/// working directory, so tests talk to it exactly as a client would and can signal or kill it.
/// </summary>
public sealed partial class LokiProcess : IAsyncDisposable
{
    private readonly StringBuilder _output = new();
    private readonly Lock _outputLock = new();

    private LokiProcess(Process process, string workDir, int httpPort, int grpcPort)
    {
        Process = process;
        WorkDir = workDir;
        HttpPort = httpPort;
        GrpcPort = grpcPort;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public Process Process { get; }

    public string WorkDir { get; }

    public int HttpPort { get; }

    public int GrpcPort { get; }

    public HttpClient Http { get; }

    /// <summary>Set on a process whose directory a restarted process goes on using.</summary>
    public bool KeepWorkDir { get; set; }

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (_outputLock)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>
    /// Starts the server. Without <paramref name="configYaml"/> it runs on the embedded default; otherwise the
    /// text is written to <c>loki.yaml</c> with <c>${HTTP_PORT}</c>, <c>${GRPC_PORT}</c> and <c>${DATA}</c>
    /// available through <c>-config.expand-env=true</c>.
    /// </summary>
    public static Task<LokiProcess> StartAsync(string? configYaml = null, bool waitReady = true, params string[] extraArgs) =>
        StartAsync(configYaml, waitReady, [], extraArgs);

    /// <summary>
    /// Starts the server through <paramref name="wrapper"/>, a command that runs the server command line it is
    /// given (such as <c>nsenter</c> into another mount namespace); a restart goes through it again.
    /// </summary>
    public static Task<LokiProcess> StartWrappedAsync(string configYaml, IReadOnlyList<string> wrapper) =>
        StartAsync(configYaml, waitReady: true, wrapper, []);

    private static async Task<LokiProcess> StartAsync(string? configYaml, bool waitReady, IReadOnlyList<string> wrapper, string[] extraArgs)
    {
        // A port found free can be taken by another process before the server binds it; such a start is retried
        // on fresh ports rather than failing the test.
        for (var attempt = 1; ; attempt++)
        {
            var server = Launch(configYaml, extraArgs, wrapper);
            if (!waitReady)
            {
                return server;
            }

            try
            {
                await server.WaitReadyAsync(TimeSpan.FromSeconds(60));
                return server;
            }
            catch (InvalidOperationException) when (attempt < 3 && server.Output.Contains("address already in use", StringComparison.Ordinal))
            {
                await server.DisposeAsync();
            }
        }
    }

    /// <summary>Runs the binary to completion (for -version, -verify-config and bad flags).</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(string? configYaml, params string[] args)
    {
        await using var server = Launch(configYaml, args, [], addPorts: false);
        var code = await server.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (code, server.Output);
    }

    private static LokiProcess Launch(string? configYaml, string[] extraArgs, IReadOnlyList<string> wrapper, bool addPorts = true)
    {
        var workDir = Directory.CreateTempSubdirectory("lokisharp-it-").FullName;
        var httpPort = FreePort();
        var grpcPort = FreePort();
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var start = new ProcessStartInfo(wrapper.Count > 0 ? wrapper[0] : host)
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (wrapper.Count > 0)
        {
            foreach (var arg in wrapper.Skip(1))
            {
                start.ArgumentList.Add(arg);
            }

            start.ArgumentList.Add(host);
        }

        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "lokisharp.dll"));
        start.Environment["HTTP_PORT"] = httpPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["GRPC_PORT"] = grpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["DATA"] = Path.Combine(workDir, "data");
        if (configYaml is not null)
        {
            var path = Path.Combine(workDir, "loki.yaml");
            File.WriteAllText(path, configYaml);
            start.ArgumentList.Add("-config.file=" + path);
            start.ArgumentList.Add("-config.expand-env=true");
        }
        else if (addPorts)
        {
            start.ArgumentList.Add($"-server.http-listen-port={httpPort}");
            start.ArgumentList.Add($"-server.grpc-listen-port={grpcPort}");
        }

        foreach (var arg in extraArgs)
        {
            start.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = start };
        var server = new LokiProcess(process, workDir, httpPort, grpcPort);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>One request (a JSON body when <paramref name="json"/> is given) and the answer's status and text.</summary>
    public async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }

        using var response = await Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Polls <c>/ready</c> until it answers 200.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (Process.HasExited)
            {
                throw new InvalidOperationException($"lokisharp exited with {Process.ExitCode} before becoming ready:\n{Output}");
            }

            try
            {
                using var response = await Http.GetAsync(new Uri("/ready", UriKind.Relative));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"lokisharp did not become ready within {timeout}:\n{Output}");
    }

    /// <summary>Starts the server again in the same working directory (same data), after it has exited.</summary>
    public async Task<LokiProcess> RestartAsync()
    {
        var start = Process.StartInfo;
        var process = new Process { StartInfo = start };
        var server = new LokiProcess(process, WorkDir, HttpPort, GrpcPort);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await server.WaitReadyAsync(TimeSpan.FromSeconds(60));
        return server;
    }

    /// <summary>Kills the process with SIGKILL: no shutdown hook runs.</summary>
    public async Task KillAsync()
    {
        Process.Kill();
        await Process.WaitForExitAsync();
    }

    /// <summary>Sends SIGTERM, as Kubernetes does when stopping a pod.</summary>
    public void Terminate()
    {
        const int sigterm = 15;
        if (Kill(Process.Id, sigterm) != 0)
        {
            throw new InvalidOperationException("kill(SIGTERM) failed: errno " + Marshal.GetLastPInvokeError());
        }
    }

    /// <summary>Waits for the process to exit and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await Process.WaitForExitAsync(cts.Token);
        Process.WaitForExit();
        return Process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            await Process.WaitForExitAsync();
        }

        Process.Dispose();
        if (KeepWorkDir)
        {
            return;
        }

        try
        {
            Directory.Delete(WorkDir, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory is harmless.
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_outputLock)
        {
            _output.AppendLine(line);
        }
    }

    internal static int FreePort()
    {
        // The server listens on every address, so the port must be free on all of them, not only loopback.
        using var listener = new TcpListener(IPAddress.IPv6Any, 0);
        listener.Server.DualMode = true;
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
