using System.ComponentModel;
using System.Diagnostics;

namespace LokiSharp.IntegrationTests.Deploy;

/// <summary>
/// Runs a command-line tool the deploy tests need (node, shellcheck, bash) to completion. A missing tool
/// fails the test with what to install: these checks are part of CI and must never pass by being skipped.
/// </summary>
internal static class ExternalTool
{
    public static async Task<(int ExitCode, string Output)> RunAsync(
        string tool, IEnumerable<string> args, string workingDirectory, IDictionary<string, string>? environment = null, string? installHint = null)
    {
        var start = new ProcessStartInfo(tool)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new Xunit.Sdk.XunitException($"{tool} is required by this test but could not be started ({e.Message}). {installHint}");
        }

        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException($"{tool} {string.Join(' ', args)} did not finish within 2 minutes");
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
