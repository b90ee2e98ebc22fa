using LokiSharp.Server.Configuration;
using LokiSharp.Server.Hosting;
using LokiSharp.Server.Logging;

namespace LokiSharp.Server;

/// <summary>The <c>lokisharp</c> executable: parses Loki's flags, loads the config and runs the server.</summary>
public static class Program
{
    /// <summary>Exit code for a configuration or flag error, as Loki exits.</summary>
    private const int ConfigErrorExitCode = 1;

    /// <summary>The runtime reads the shared array pool's per-core limit from this variable only, once, at first use.</summary>
    private const string ArraysPerPartitionVariable = "DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION";

    public static async Task<int> Main(string[] args)
    {
        // Measured on the reference push load (perf-run.sh): the shared pool's default of keeping many arrays
        // per size per core holds about 18 MB of idle buffers after a burst of concurrent pushes, at no
        // measurable CPU gain. Must run before anything rents from ArrayPool.Shared; an operator's value wins.
        if (Environment.GetEnvironmentVariable(ArraysPerPartitionVariable) is null)
        {
            Environment.SetEnvironmentVariable(ArraysPerPartitionVariable, "1");
        }

        CommandLineFlags flags;
        try
        {
            flags = CommandLineFlags.Parse(args);
        }
        catch (ConfigException e)
        {
            await Console.Error.WriteLineAsync(e.Message).ConfigureAwait(false);
            await Console.Error.WriteLineAsync(CommandLineFlags.Usage()).ConfigureAwait(false);
            return 2;
        }

        if (flags.Help)
        {
            await Console.Out.WriteLineAsync(CommandLineFlags.Usage()).ConfigureAwait(false);
            return 0;
        }

        if (flags.PrintVersion)
        {
            var build = BuildInfo.Current;
            await Console.Out.WriteLineAsync(
                $"lokisharp, version {BuildInfo.ProductVersion} (Loki API {BuildInfo.LokiCompatibleVersion}, " +
                $"branch: {build.Branch}, revision: {build.Revision})\n" +
                $"  build date:       {build.BuildDate}\n  runtime:          {build.GoVersion}").ConfigureAwait(false);
            return 0;
        }

        LoadedConfig loaded;
        try
        {
            loaded = flags.ConfigFile is null
                ? ConfigLoader.LoadEmbeddedDefault(flags.ApplyTo)
                : ConfigLoader.LoadFile(flags.ConfigFile, flags.ExpandEnv, flags.ApplyTo);
        }
        catch (ConfigException e)
        {
            await Console.Error.WriteLineAsync($"failed parsing config: {e.Message}").ConfigureAwait(false);
            return ConfigErrorExitCode;
        }

        if (flags.VerifyConfig)
        {
            await Console.Error.WriteLineAsync($"config is valid: {loaded.Source}").ConfigureAwait(false);
            return 0;
        }

        if (flags.PrintConfigStderr)
        {
            await Console.Error.WriteLineAsync(ConfigYamlWriter.Write(loaded.Config)).ConfigureAwait(false);
        }

        var logLevel = new LogLevelSwitch(loaded.Config.Server.LogLevel);
        LokiServer.ConfigureMetricsRegistry();
        WebApplication app;
        try
        {
            app = LokiServer.Build(loaded, logLevel, Console.Error);
        }
        catch (Exception e) when (e is IOException or ConfigException)
        {
            // Opening the data directories (one locked by another process, say) or the bucket fails before any logger exists.
            await Console.Error.WriteLineAsync($"error initialising lokisharp: {e.Message}").ConfigureAwait(false);
            return 1;
        }

        StartupLog.Write(app, loaded, flags);
        var logger = StartupLog.Logger(app);
        try
        {
            await app.RunAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ConfigException or InvalidOperationException)
        {
            StartupLog.Failed(logger, e);
            return 1;
        }

        return 0;
    }
}
