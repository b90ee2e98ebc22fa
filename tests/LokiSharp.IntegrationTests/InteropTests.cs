using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace LokiSharp.IntegrationTests;

/// <summary>
/// Runs the Node interop suite in <c>tests/interop</c> (<c>node --test</c>): third-party Loki clients, OTLP
/// exporters, Grafana's LogQL grammar, a WebSocket tail and a Grafana-shaped request replay against the real
/// server. Each JS test file starts the <c>lokisharp.dll</c> next to this assembly. Fails, never skips, when Node
/// or the suite's packages are missing.
/// </summary>
public sealed partial class InteropTests
{
    private static readonly TimeSpan SuiteTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task NodeInteropSuitePasses()
    {
        var suite = Path.Combine(RepositoryRoot(), "tests", "interop");
        if (!Directory.Exists(Path.Combine(suite, "node_modules")))
        {
            Assert.Fail($"The interop suite's packages are not installed: {suite}/node_modules is missing. " +
                "Run `npm ci --prefix tests/interop --no-audit --no-fund` (needs node >= 20.10 and npm).");
        }

        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = suite,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--test");
        start.ArgumentList.Add("--test-reporter=tap");
        start.Environment["LOKISHARP_DLL"] = Path.Combine(AppContext.BaseDirectory, "lokisharp.dll");

        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            Assert.Fail($"Cannot run `node` for the interop suite ({e.Message}); install Node.js >= 20.10 and npm.");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(SuiteTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"The interop suite did not finish within {SuiteTimeout}:\n{Text(output)}");
        }

        process.WaitForExit(); // drains the redirected streams
        var text = Text(output);
        Assert.True(process.ExitCode == 0, $"node --test exited with {process.ExitCode}:\n{text}");
        Assert.True(Count(text, "fail") == 0, "failed tests:\n" + text);
        Assert.True(Count(text, "cancelled") == 0, "cancelled tests:\n" + text);
        Assert.True(Count(text, "skipped") == 0 && Count(text, "todo") == 0, "skipped tests are not allowed:\n" + text);
        Assert.True(Count(text, "pass") > 0, "node --test ran no test:\n" + text);
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    /// <summary>A counter from the TAP summary (<c># pass 12</c>); -1 when absent.</summary>
    private static int Count(string tap, string name)
    {
        foreach (Match match in SummaryLine().Matches(tap))
        {
            if (match.Groups[1].Value == name)
            {
                return int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
            }
        }

        return -1;
    }

    [GeneratedRegex(@"^# (pass|fail|cancelled|skipped|todo) (\d+)\s*$", RegexOptions.Multiline)]
    private static partial Regex SummaryLine();

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "LokiSharp.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("LokiSharp.sln not found above " + AppContext.BaseDirectory);
    }
}
