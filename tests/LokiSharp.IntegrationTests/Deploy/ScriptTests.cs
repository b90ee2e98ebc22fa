namespace LokiSharp.IntegrationTests.Deploy;

/// <summary>The install, validate and test scripts are strict-mode bash and shellcheck-clean.</summary>
public sealed class ScriptTests
{
    public static TheoryData<string> Scripts => new(DeployFiles.ScriptNames);

    [Theory]
    [MemberData(nameof(Scripts))]
    public async Task Script_is_shellcheck_clean(string script)
    {
        var (exitCode, output) = await ExternalTool.RunAsync(
            "shellcheck", ["--shell=bash", "--severity=style", "--external-sources", script], DeployFiles.K8sDirectory,
            installHint: "Install it with `apt-get install -y shellcheck`.");

        Assert.True(exitCode == 0, $"shellcheck {script}:\n{output}");
    }

    [Theory]
    [MemberData(nameof(Scripts))]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void Script_runs_in_strict_mode_and_is_executable(string script)
    {
        var path = DeployFiles.PathOf(script);
        var lines = File.ReadAllLines(path);

        Assert.Equal("#!/usr/bin/env bash", lines[0]);
        // The first command, before anything can fail unnoticed.
        Assert.Equal("set -euo pipefail", lines.First(l => l.Length > 0 && !l.StartsWith('#')));
        Assert.True((File.GetUnixFileMode(path) & UnixFileMode.UserExecute) != 0, $"{script} is not executable");
    }

    [Fact]
    public async Task Shellcheck_reports_an_unquoted_variable()
    {
        // Proves shellcheck is really checking: a classic SC2086 must be reported.
        var dir = Directory.CreateTempSubdirectory("lokisharp-shellcheck-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "bad.sh"), "#!/usr/bin/env bash\nset -euo pipefail\nrm -rf $1\n");

            var (exitCode, output) = await ExternalTool.RunAsync("shellcheck", ["--shell=bash", "bad.sh"], dir,
                installHint: "Install it with `apt-get install -y shellcheck`.");

            Assert.NotEqual(0, exitCode);
            Assert.Contains("SC2086", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
