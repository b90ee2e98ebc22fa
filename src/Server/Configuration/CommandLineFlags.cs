using System.Globalization;

namespace LokiSharp.Server.Configuration;

/// <summary>Loki-style command-line flags (<c>-name=value</c>, <c>--name=value</c> or <c>-name value</c>).</summary>
public sealed class CommandLineFlags
{
    // Flags that set a configuration value; applied after the file so that they override it.
    private static readonly Dictionary<string, Action<LokiConfig, string>> ConfigFlags = new(StringComparer.Ordinal)
    {
        ["target"] = static (c, v) => c.Target = v,
        ["auth.enabled"] = static (c, v) => c.AuthEnabled = ParseBool("auth.enabled", v),
        ["log.level"] = static (c, v) => c.Server.LogLevel = v,
        ["log.format"] = static (c, v) => c.Server.LogFormat = v,
        ["server.http-listen-port"] = static (c, v) => c.Server.HttpListenPort = ParseInt("server.http-listen-port", v),
        ["server.grpc-listen-port"] = static (c, v) => c.Server.GrpcListenPort = ParseInt("server.grpc-listen-port", v),
        ["server.http-listen-address"] = static (c, v) => c.Server.HttpListenAddress = v,
        ["server.grpc-listen-address"] = static (c, v) => c.Server.GrpcListenAddress = v,
        ["server.graceful-shutdown-timeout"] = static (c, v) => c.Server.GracefulShutdownTimeout = ParseDuration("server.graceful-shutdown-timeout", v),
        ["common.path-prefix"] = static (c, v) => c.Common.PathPrefix = v,
        ["ingester.chunk-encoding"] = static (c, v) => c.Ingester.ChunkEncoding = v,
    };

    private static readonly HashSet<string> BoolFlags = new(StringComparer.Ordinal)
    {
        "config.expand-env", "version", "print-config-stderr", "verify-config", "log-config-reverse-order",
        "auth.enabled", "help", "h",
    };

    private readonly List<(string Name, string Value)> _configValues = [];
    private readonly List<string> _ignored = [];

    /// <summary>Path given by <c>-config.file</c>, or null for the embedded default.</summary>
    public string? ConfigFile { get; private set; }

    /// <summary><c>-config.expand-env</c>.</summary>
    public bool ExpandEnv { get; private set; }

    /// <summary><c>-version</c>: print the version and exit.</summary>
    public bool PrintVersion { get; private set; }

    /// <summary><c>-print-config-stderr</c>: print the effective configuration at start-up.</summary>
    public bool PrintConfigStderr { get; private set; }

    /// <summary><c>-verify-config</c>: validate the configuration and exit 0 or 1.</summary>
    public bool VerifyConfig { get; private set; }

    /// <summary><c>-help</c> / <c>-h</c>.</summary>
    public bool Help { get; private set; }

    /// <summary>Loki flags that LokiSharp accepts without acting on them.</summary>
    public IReadOnlyList<string> IgnoredFlags => _ignored;

    /// <summary>Parses arguments; throws <see cref="ConfigException"/> with Go's wording for a bad flag.</summary>
    public static CommandLineFlags Parse(IReadOnlyList<string> args)
    {
        var flags = new CommandLineFlags();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "-" or "--" || !arg.StartsWith('-'))
            {
                throw new ConfigException($"unexpected argument \"{arg}\": flags are written -name=value");
            }

            var body = arg.StartsWith("--", StringComparison.Ordinal) ? arg[2..] : arg[1..];
            string name;
            string? value = null;
            var equals = body.IndexOf('=', StringComparison.Ordinal);
            if (equals >= 0)
            {
                name = body[..equals];
                value = body[(equals + 1)..];
            }
            else
            {
                name = body;
            }

            if (value is null)
            {
                if (BoolFlags.Contains(name))
                {
                    value = "true";
                }
                else if (ConfigFlags.ContainsKey(name) || name == "config.file" || name.Contains('.', StringComparison.Ordinal))
                {
                    if (i + 1 >= args.Count)
                    {
                        throw new ConfigException($"flag needs an argument: -{name}");
                    }

                    value = args[++i];
                }
            }

            flags.Apply(name, value ?? "");
        }

        return flags;
    }

    /// <summary>Applies the flags that set configuration values onto a loaded configuration.</summary>
    public void ApplyTo(LokiConfig config)
    {
        foreach (var (name, value) in _configValues)
        {
            ConfigFlags[name](config, value);
        }
    }

    private void Apply(string name, string value)
    {
        switch (name)
        {
            case "config.file":
                ConfigFile = value;
                return;
            case "config.expand-env":
                ExpandEnv = ParseBool(name, value);
                return;
            case "version":
                PrintVersion = ParseBool(name, value);
                return;
            case "print-config-stderr":
                PrintConfigStderr = ParseBool(name, value);
                return;
            case "verify-config":
                VerifyConfig = ParseBool(name, value);
                return;
            case "help" or "h":
                Help = ParseBool(name, value);
                return;
            case "log-config-reverse-order":
                ParseBool(name, value);
                _ignored.Add(name);
                return;
        }

        if (ConfigFlags.TryGetValue(name, out var setter))
        {
            // Validate now so a bad value is reported as a flag error, not later as a config error.
            setter(new LokiConfig(), value);
            _configValues.Add((name, value));
            return;
        }

        // Loki has hundreds of module flags (-querier.max-concurrent, ...); accept them so a Loki command line
        // still starts, but a flag with no module prefix is a typo.
        if (name.Contains('.', StringComparison.Ordinal))
        {
            _ignored.Add(name);
            return;
        }

        throw new ConfigException($"flag provided but not defined: -{name}");
    }

    /// <summary>The usage text printed for <c>-help</c>.</summary>
    public static string Usage() =>
        """
        Usage of lokisharp:
          -config.file string            Configuration file to load (Loki YAML format); default: the embedded config
          -config.expand-env             Expand ${VAR} and ${VAR:-default} in the config file
          -target string                 Comma-separated list of targets to run (default "all"): all (everything),
                                         read (query-frontend + querier), write (distributor + ingester),
                                         backend (compactor), or distributor, ingester, querier, compactor
          -auth.enabled                  Require X-Scope-OrgID on every request
          -log.level string              debug, info, warn or error (default "info")
          -log.format string             logfmt or json (default "logfmt")
          -server.http-listen-port int   HTTP port (default 3100)
          -server.grpc-listen-port int   gRPC port (default 9095; the embedded config uses 9096)
          -server.http-listen-address    HTTP listen address (default all interfaces)
          -server.grpc-listen-address    gRPC listen address (default all interfaces)
          -common.path-prefix string     Directory under which all data is kept
          -ingester.chunk-encoding str   Chunk codec: none, gzip, snappy, lz4-64k|256k|1M|4M, flate, zstd
          -print-config-stderr           Print the effective configuration on stderr at start-up
          -verify-config                 Validate the configuration and exit (0 valid, 1 invalid)
          -version                       Print version information and exit
        """;

    private static bool ParseBool(string name, string value) => value.ToUpperInvariant() switch
    {
        "TRUE" or "T" or "1" => true,
        "FALSE" or "F" or "0" => false,
        _ => throw new ConfigException($"invalid boolean value \"{value}\" for -{name}"),
    };

    private static int ParseInt(string name, string value) =>
        int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var result)
            ? result
            : throw new ConfigException($"invalid value \"{value}\" for flag -{name}: parse error");

    private static TimeSpan ParseDuration(string name, string value) =>
        ConfigDuration.TryParse(value, out var result)
            ? result
            : throw new ConfigException($"invalid value \"{value}\" for flag -{name}: parse error");
}
