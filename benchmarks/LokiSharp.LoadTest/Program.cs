using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using LokiSharp.LoadTest;

// Pushes a realistic dataset to a Loki-compatible server and reports throughput and the server's cost:
//   dotnet run -c Release --project benchmarks/LokiSharp.LoadTest -- push --url http://127.0.0.1:3100 --mb 256 --conc 4 --pid <server pid>
var options = Options.Parse(args);
if (options is null)
{
    Console.Error.WriteLine("usage: push --url URL [--mb 256] [--conc 4] [--pods 20] [--pid SERVER_PID]");
    return 2;
}

Console.WriteLine($"encoding ~{options.Megabytes} MB of raw lines into ~1 MiB batches...");
var (batches, rawBytes, lines) = Encode(options);
Console.WriteLine($"{batches.Count} batches, {rawBytes / 1048576.0:F1} MB raw, {lines} lines");

var cpuBefore = options.Pid is { } pid ? ServerProcess.CpuSeconds(pid) : 0;
using var http = new HttpClient { BaseAddress = new Uri(options.Url), Timeout = TimeSpan.FromMinutes(5) };
var next = -1;
var failures = 0;
var watch = Stopwatch.StartNew();
await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(async _ =>
{
    int index;
    while ((index = Interlocked.Increment(ref next)) < batches.Count)
    {
        using var content = new ByteArrayContent(batches[index]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        using var response = await http.PostAsync(new Uri("/loki/api/v1/push", UriKind.Relative), content);
        if ((int)response.StatusCode / 100 != 2)
        {
            Interlocked.Increment(ref failures);
        }
    }
}));
watch.Stop();

var seconds = watch.Elapsed.TotalSeconds;
var megabytes = rawBytes / 1048576.0;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"pushed in {seconds:F2} s: {megabytes / seconds:F1} MB/s, {lines / seconds:F0} lines/s, {failures} failed pushes"));
if (options.Pid is { } serverPid)
{
    var cpu = ServerProcess.CpuSeconds(serverPid) - cpuBefore;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"server: {cpu:F2} CPU-s = {cpu / (megabytes / 1024):F1} CPU-s per GB, " +
        $"peak RSS {ServerProcess.PeakRssMegabytes(serverPid):F0} MB, RSS now {ServerProcess.RssMegabytes(serverPid):F0} MB"));
}

return failures == 0 ? 0 : 1;

static (List<byte[]> Batches, long RawBytes, long Lines) Encode(Options options)
{
    var labels = LogDataset.StreamLabels(options.PodsPerApp);
    var start = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 7200) * 1_000_000_000;
    var batches = new List<byte[]>();
    long raw = 0, lines = 0, sequence = 0;
    var target = options.Megabytes * 1048576L;
    // Enough lines per stream that a batch of every stream holds about 1 MiB, like Promtail's default batch size.
    var perStream = Math.Max(1, (1 << 20) / 110 / labels.Count);
    while (raw < target)
    {
        var streams = new List<PushRequestEncoder.Stream>(labels.Count);
        for (var stream = 0; stream < labels.Count; stream++)
        {
            var entries = new List<(long, byte[])>(perStream);
            for (var i = 0; i < perStream; i++)
            {
                var line = LogDataset.Line(stream, sequence + i);
                entries.Add((start + ((sequence + i) * 1_000_000L) + stream, line));
                raw += line.Length;
            }

            streams.Add(new PushRequestEncoder.Stream(labels[stream], entries));
            lines += entries.Count;
        }

        sequence += perStream;
        batches.Add(PushRequestEncoder.Encode(streams));
    }

    return (batches, raw, lines);
}

/// <summary>Command-line options of the push command.</summary>
internal sealed record Options(string Url, int Megabytes, int Concurrency, int PodsPerApp, int? Pid)
{
    public static Options? Parse(string[] args)
    {
        if (args.Length == 0 || args[0] != "push")
        {
            return null;
        }

        string? url = null;
        int megabytes = 256, concurrency = 4, pods = 20;
        int? pid = null;
        for (var i = 1; i + 1 < args.Length; i += 2)
        {
            var value = args[i + 1];
            switch (args[i])
            {
                case "--url": url = value; break;
                case "--mb": megabytes = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--conc": concurrency = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--pods": pods = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--pid": pid = int.Parse(value, CultureInfo.InvariantCulture); break;
                default: return null;
            }
        }

        return url is null ? null : new Options(url, megabytes, concurrency, pods, pid);
    }
}

/// <summary>CPU time and memory of the server process, read from /proc like perf.py does.</summary>
internal static class ServerProcess
{
    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    public static double PeakRssMegabytes(int pid) => StatusKilobytes(pid, "VmHWM:") / 1024.0;

    public static double RssMegabytes(int pid) => StatusKilobytes(pid, "VmRSS:") / 1024.0;

    private static long StatusKilobytes(int pid, string key)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                return long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
