using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace LokiSharp.IntegrationTests.ObjectStorage;

/// <summary>
/// A real S3 server for the tests: Ceph's RADOS Gateway on a throw-away single-node cluster (one monitor, one
/// memstore OSD) that <c>tests/s3/rgw.sh</c> starts on a free loopback port in a temporary directory. Use it as a
/// class or collection fixture: one cluster per test class keeps the suite within the CI budget. Without the Ceph
/// packages it fails every test that uses it, naming what to install: it never skips.
/// </summary>
public sealed class RadosGateway : IAsyncLifetime
{
    private static readonly string[] CephPrograms = ["ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "ceph-authtool", "monmaptool", "curl"];

    private string? _directory;

    /// <summary>The gateway's base address, <c>http://127.0.0.1:&lt;port&gt;</c>.</summary>
    public string Endpoint { get; private set; } = "";

    /// <summary>The test user's access key.</summary>
    public string AccessKey { get; private set; } = "";

    /// <summary>The test user's secret key.</summary>
    public string SecretKey { get; private set; } = "";

    /// <summary>How long <c>rgw.sh start</c> took, until the gateway answered and the user existed.</summary>
    public TimeSpan StartTime { get; private set; }

    /// <summary>The cluster's directory: <c>ceph.conf</c>, data, pid files and the daemons' logs (<c>log/</c>).</summary>
    public string Directory => _directory ?? throw new InvalidOperationException("the gateway is not started");

    public async Task InitializeAsync()
    {
        var missing = CephPrograms.Where(program => !OnPath(program)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException(
                $"the object-storage tests run a real Ceph RADOS Gateway, and these programs are missing: {string.Join(", ", missing)}. "
                + "Install them with apt-get install radosgw ceph-mon ceph-osd ceph-common curl (README, test prerequisites).");
        }

        var script = Path.Combine(RepositoryRoot(), "tests", "s3", "rgw.sh");

        // A port found free can be taken before radosgw binds it: such a start is retried on a fresh port.
        for (var attempt = 1; ; attempt++)
        {
            var directory = System.IO.Directory.CreateTempSubdirectory("lokisharp-rgw-").FullName;
            var port = FreePort();
            var clock = Stopwatch.StartNew();
            var (exitCode, stdout, stderr) = await RunAsync(script, ["start", directory, port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            if (exitCode == 0)
            {
                StartTime = clock.Elapsed;
                _directory = directory;
                var values = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(line => line.Split('=', 2))
                    .Where(pair => pair.Length == 2)
                    .ToDictionary(pair => pair[0], pair => pair[1]);
                Endpoint = values["ENDPOINT"];
                AccessKey = values["ACCESS_KEY"];
                SecretKey = values["SECRET_KEY"];
                return;
            }

            await RunAsync(script, ["stop", directory]);
            if (attempt == 3)
            {
                throw new InvalidOperationException($"rgw.sh start failed (exit {exitCode}), cluster left in {directory}:\n{stderr}{stdout}");
            }

            System.IO.Directory.Delete(directory, recursive: true);
        }
    }

    public async Task DisposeAsync()
    {
        if (_directory is null)
        {
            return;
        }

        var (exitCode, stdout, stderr) = await RunAsync(Path.Combine(RepositoryRoot(), "tests", "s3", "rgw.sh"), ["stop", _directory]);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"rgw.sh stop failed (exit {exitCode}), cluster left in {_directory}:\n{stderr}{stdout}");
        }

        System.IO.Directory.Delete(_directory, recursive: true);
        _directory = null;
    }

    /// <summary>
    /// An S3 client for the gateway: path-style addressing over http with the test user's keys. Checksums are
    /// computed only where S3 requires them, as RGW 16 rejects the SDK's default trailing checksums (see
    /// <see cref="RadosGatewayTests"/>); <paramref name="configure"/> changes anything else.
    /// </summary>
    public AmazonS3Client CreateClient(Action<AmazonS3Config>? configure = null)
    {
        var config = new AmazonS3Config
        {
            ServiceURL = Endpoint,
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        configure?.Invoke(config);
        return new AmazonS3Client(new BasicAWSCredentials(AccessKey, SecretKey), config);
    }

    /// <summary>Creates a bucket owned by the test user.</summary>
    public async Task CreateBucketAsync(string name)
    {
        using var client = CreateClient();
        await client.PutBucketAsync(new PutBucketRequest { BucketName = name });
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, program)));

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string script, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // If the test run dies before DisposeAsync, the script's watcher stops the cluster once this process is gone.
        start.Environment["RGW_OWNER_PID"] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.ArgumentList.Add(script);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"bash is needed to run {script}: {e.Message}");
        }

        // The daemons the script starts detach from its output, so reading to the end returns once it exits.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{script} {string.Join(' ', args)} did not finish within 3 minutes");
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "LokiSharp.sln")) && File.Exists(Path.Combine(dir.FullName, "tests", "s3", "rgw.sh")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no repository root (LokiSharp.sln with tests/s3/rgw.sh) above {AppContext.BaseDirectory}");
    }
}
