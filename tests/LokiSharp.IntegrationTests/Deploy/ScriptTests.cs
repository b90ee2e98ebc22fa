namespace LokiSharp.IntegrationTests.Deploy;

/// <summary>
/// The install, validate and test scripts are strict-mode bash. That they are shellcheck-clean is checked by
/// <c>.ci/run</c> (shellcheck is a system package, not something <c>dotnet test</c> can restore).
/// </summary>
public sealed class ScriptTests
{
    public static TheoryData<string> Scripts => new(DeployFiles.ScriptNames);

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
}
