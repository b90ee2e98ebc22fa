using System.Net;
using LokiSharp.Ingester;
using LokiSharp.Ingester.Limits;
using LokiSharp.Server.Configuration;
using LokiSharp.Server.Grpc;
using LokiSharp.Server.Http;
using LokiSharp.Server.Logging;
using LokiSharp.Storage.Store;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Prometheus;

namespace LokiSharp.Server.Hosting;

/// <summary>Builds the ASP.NET Core application for a loaded configuration: listeners, modules and routes.</summary>
public static class LokiServer
{
    /// <summary>Creates the application; call <c>RunAsync</c> on the result.</summary>
    public static WebApplication Build(LoadedConfig loaded, LogLevelSwitch logLevel, TextWriter logOutput)
    {
        var config = loaded.Config;
        // The content root is the binary's folder, not the working directory that holds ./data: ASP.NET watches
        // its content root for appsettings changes, and watching a busy data directory burns CPU on every write.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = "lokisharp",
            ContentRootPath = AppContext.BaseDirectory,
        });

        // Configuration comes from the Loki YAML file and flags only; no appsettings files or their watchers.
        builder.Configuration.Sources.Clear();

        ConfigureLogging(builder, config, logLevel, logOutput);
        ConfigureListeners(builder, config);

        var modules = new ModuleRegistry();
        var targets = ModuleTargets.Parse(config.Target);
        AddHostServices(builder, loaded, logLevel, modules);
        builder.Services.AddSingleton(targets);
        AddRooms(builder, config, targets);
        AddProtocols(builder, config, modules);

        var app = builder.Build();
        AddModules(app, modules, targets);
        RegisterBuildInfo();
        UseMiddleware(app, config);
        MapRoutes(app, targets);
        return app;
    }

    private static void ConfigureLogging(WebApplicationBuilder builder, LokiConfig config, LogLevelSwitch logLevel, TextWriter logOutput)
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new LokiLoggerProvider(logLevel, config.Server.LogFormat == "json", logOutput));
        builder.Logging.SetMinimumLevel(LogLevel.Trace);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Grpc", LogLevel.Warning);
    }

    // Kestrel: the HTTP and gRPC listeners, request limits as Loki's Go server has them, and the shutdown grace.
    private static void ConfigureListeners(WebApplicationBuilder builder, LokiConfig config)
    {
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = config.Server.GracefulShutdownTimeout + config.ShutdownDelay);
        builder.Services.AddSingleton<Microsoft.AspNetCore.Connections.IMemoryPoolFactory<byte>, ReceiveBlockPoolFactory>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Limits.MaxRequestLineSize = RequestParams.MaxRequestLineSize;
            kestrel.Limits.MaxRequestHeadersTotalSize = RequestParams.MaxRequestLineSize;
            kestrel.Limits.KeepAliveTimeout = config.Server.HttpServerIdleTimeout;
            kestrel.Limits.Http2.MaxStreamsPerConnection = config.Server.GrpcServerMaxConcurrentStreams;
            Listen(kestrel, config.Server.HttpListenAddress, config.Server.HttpListenPort, HttpProtocols.Http1);
            Listen(kestrel, config.Server.GrpcListenAddress, config.Server.GrpcListenPort, HttpProtocols.Http2);
        });
    }

    // The host's own services: configuration, modules, state, metrics, tenancy and limits.
    private static void AddHostServices(WebApplicationBuilder builder, LoadedConfig loaded, LogLevelSwitch logLevel, ModuleRegistry modules)
    {
        var config = loaded.Config;
        builder.Services.AddSingleton(loaded);
        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton(logLevel);
        builder.Services.AddSingleton(modules);
        builder.Services.AddSingleton<ServerState>();
        builder.Services.AddSingleton<IMetricFactory>(Metrics.DefaultFactory);
        builder.Services.AddSingleton<RequestMetrics>();
        builder.Services.AddSingleton<UnhandledErrors>();
        builder.Services.AddSingleton<TenantLimitsSource>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(new Tenancy(config.AuthEnabled));
        builder.Services.AddSingleton(RoomOptions.PushLimits(config));
        builder.Services.AddSingleton<ITenantLimits, TenantIngestionLimits>();
    }

    // The rooms the target runs: the chunk store (read-only unless the ingester or the compactor runs here), the
    // ingester over it, the read sources (filtered by delete requests when retention is on and the compactor that
    // holds them runs here), the compactor, and the modules that run them. What a target does not run is not
    // registered, so nothing can build it by accident (a querier makes no WAL directory).
    private static void AddRooms(WebApplicationBuilder builder, LokiConfig config, ModuleTargets targets)
    {
        builder.Services.AddSingleton<CorruptionReporter>();
        builder.Services.AddSingleton(_ => DataDirectoryLock.Acquire(RoomOptions.Storage(config, null).RootDirectory));
        var bucket = StoreLayout.BucketOf(config, targets);
        builder.Services.AddSingleton(sp =>
        {
            var options = RoomOptions.Storage(config, sp.GetRequiredService<CorruptionReporter>().Report);
            if (bucket is not null)
            {
                // The WAL and the chunk cache (emptied at start) are still local: one process per data directory.
                sp.GetRequiredService<DataDirectoryLock>();

                return StoreLayout.OpenBucket(config, bucket, targets, options);
            }

            if (!targets.WritesStore)
            {
                return ChunkStore.OpenReadOnly(options);
            }

            // Held until the container is disposed at exit.
            sp.GetRequiredService<DataDirectoryLock>();
            return ChunkStore.Open(options);
        });
        builder.Services.AddSingleton<StoreModule>();

        if (targets.RunsIngester)
        {
            builder.Services.AddSingleton<IngesterMetrics>();
            builder.Services.AddSingleton(sp => new Ingester.StreamIngester(RoomOptions.Ingester(config, targets), sp.GetRequiredService<ChunkStore>(),
                sp.GetRequiredService<ITenantLimits>(), sp.GetRequiredService<IngesterMetrics>(), sp.GetRequiredService<TimeProvider>()));
            builder.Services.AddSingleton<IngesterModule>();
            builder.Services.AddSingleton<DataSnapshot>();

            // One push pipeline and gate for HTTP, OTLP and gRPC pushes.
            builder.Services.AddSingleton<Ingester.Push.PushPipeline>();
            builder.Services.AddSingleton<Http.PushGate>();
        }

        if (targets.RunsCompactor)
        {
            builder.Services.AddSingleton(sp => new LokiSharp.Compactor.CompactorMetrics(sp.GetRequiredService<IMetricFactory>()));
            builder.Services.AddSingleton(sp => new LokiSharp.Compactor.StoreCompactor(sp.GetRequiredService<ChunkStore>(), RoomOptions.Compactor(config),
                tenant => RoomOptions.Retention(sp.GetRequiredService<TenantLimitsSource>().LimitsFor(tenant)),
                sp.GetRequiredService<LokiSharp.Compactor.CompactorMetrics>(), sp.GetRequiredService<TimeProvider>()));
            builder.Services.AddSingleton<CompactorModule>();
        }

        if (targets.RunsRuler)
        {
            AddRuler(builder, config);
        }

        if (targets.RunsQuerier || targets.RunsRuler)
        {
            // Pending delete requests filter every source, other ingesters' heads included, when the compactor runs here.
            static Func<LokiSharp.Storage.Reading.ILogSource, LokiSharp.Storage.Reading.ILogSource>? DeleteFilter(IServiceProvider sp, LokiConfig config) =>
                config.Compactor.RetentionEnabled && sp.GetService<LokiSharp.Compactor.StoreCompactor>() is { } compactor
                    ? s => new LokiSharp.Compactor.Deletion.DeleteFilteringLogSource(s, compactor.DeleteRequests)
                    : null;

            builder.Services.AddSingleton(sp => new LokiSharp.Querier.Peers.PeerSet(RoomOptions.Peers(config), sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILoggerFactory>().CreateLogger<LokiSharp.Querier.Peers.PeerSet>().PeersProblem, DeleteFilter(sp, config)));
            builder.Services.AddSingleton<IReadOnlyList<LokiSharp.Storage.Reading.ILogSource>>(sp =>
            {
                // The head of this process's ingester, if it runs one; other ingesters' heads come with peers.
                LokiSharp.Storage.Reading.ILogSource[] sources = targets.RunsIngester
                    ? [sp.GetRequiredService<Ingester.StreamIngester>(), sp.GetRequiredService<ChunkStore>()]
                    : [sp.GetRequiredService<ChunkStore>()];
                return DeleteFilter(sp, config) is { } filter ? [.. sources.Select(filter)] : sources;
            });
        }
    }

    // The ruler: its options (validated now, so a bad ruler block fails start-up), the rule queries on the same sources
    // the query API reads, and the Alertmanager notifier and remote-write clients when configured (the container
    // disposes them after the ruler module has stopped, draining what is queued).
    private static void AddRuler(WebApplicationBuilder builder, LokiConfig config)
    {
        var options = RoomOptions.Ruler(config);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(sp => new LokiSharp.Ruler.Evaluation.RulerMetrics(sp.GetRequiredService<IMetricFactory>()));
        builder.Services.AddSingleton(sp => new LokiSharp.Ruler.Rules.LocalRuleStore(options.RuleDirectory));
        if (options.NotifiesAlertmanager)
        {
            builder.Services.AddSingleton<LokiSharp.Ruler.Notifications.IAlertNotifier>(sp =>
            {
                var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("notifier");
                var metrics = new LokiSharp.Ruler.Notifications.NotifierMetrics(sp.GetRequiredService<IMetricFactory>());
                return new LokiSharp.Ruler.Notifications.AlertmanagerNotifier(options.Alertmanager, metrics,
                    message => logger.LogWarning("{Message}", message));
            });
        }

        if (options.RemoteWriteEnabled)
        {
            builder.Services.AddSingleton<LokiSharp.Ruler.RemoteWrite.IRecordedSampleSink>(sp =>
            {
                var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("remote-write");
                var metrics = new LokiSharp.Ruler.RemoteWrite.RemoteWriteMetrics(sp.GetRequiredService<IMetricFactory>());
                return new LokiSharp.Ruler.RemoteWrite.RemoteWriteClients([.. options.RemoteWriteClients.Select(o =>
                    new LokiSharp.Ruler.RemoteWrite.RemoteWriteClient(o, metrics, message => logger.LogWarning("{Message}", message)))]);
            });
        }

        builder.Services.AddSingleton(sp =>
        {
            var limits = sp.GetRequiredService<TenantLimitsSource>();
            var local = sp.GetRequiredService<IReadOnlyList<LokiSharp.Storage.Reading.ILogSource>>();
            var peers = sp.GetService<LokiSharp.Querier.Peers.PeerSet>();
            var engine = new LokiSharp.Ruler.Evaluation.StoreRuleQueryEngine(
                (warnings, cancellationToken) => peers is { Configured: true } ? [.. local, .. peers.ForQuery(warnings, cancellationToken)] : local,
                tenant =>
                {
                    var l = limits.LimitsFor(tenant);
                    return new LokiSharp.Ruler.Evaluation.RuleQueryLimits(l.MaxQuerySeries, l.MaxQueryMemoryBytes.Bytes, l.QueryTimeout);
                });
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("ruler");
            var context = new LokiSharp.Ruler.Evaluation.RulerContext(options, engine, sp.GetService<LokiSharp.Ruler.Notifications.IAlertNotifier>(),
                sp.GetService<LokiSharp.Ruler.RemoteWrite.IRecordedSampleSink>(), sp.GetRequiredService<LokiSharp.Ruler.Evaluation.RulerMetrics>(),
                new LokiSharp.Ruler.State.AlertStateStore(options.StateDirectory), sp.GetRequiredService<TimeProvider>(),
                message => logger.LogWarning("{Message}", message));
            return new LokiSharp.Ruler.Evaluation.RuleScheduler(context);
        });
        builder.Services.AddSingleton<RulerModule>();
    }

    // The module host, routing, response compression, gRPC and its health service.
    private static void AddProtocols(WebApplicationBuilder builder, LokiConfig config, ModuleRegistry modules)
    {
        builder.Services.AddHostedService<ModuleHost>();
        builder.Services.AddRouting();
        builder.Services.AddResponseCompression(o =>
        {
            o.MimeTypes = ["application/json"];
            o.Providers.Add<Microsoft.AspNetCore.ResponseCompression.GzipCompressionProvider>();
        });
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = config.Server.GrpcServerMaxRecvMsgSize;
            o.MaxSendMessageSize = config.Server.GrpcServerMaxSendMsgSize;
        });
        builder.Services.AddGrpcHealthChecks(o => o.UseHealthChecksCache = false)
            .AddCheck("modules", () => modules.AllRunning ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy(modules.DescribeNotRunning()));
    }

    // The target's modules, started in this order and stopped in reverse.
    private static void AddModules(WebApplication app, ModuleRegistry modules, ModuleTargets targets)
    {
        modules.Add(new ListenerModule());
        modules.Add(app.Services.GetRequiredService<TenantLimitsSource>());
        modules.Add(app.Services.GetRequiredService<StoreModule>());
        if (targets.RunsIngester)
        {
            modules.Add(app.Services.GetRequiredService<IngesterModule>());
        }

        foreach (var name in new[] { ModuleTargets.Distributor, ModuleTargets.QueryFrontend, ModuleTargets.Querier })
        {
            if (targets.Runs(name))
            {
                modules.Add(new RouteModule(name));
            }
        }

        if (targets.RunsCompactor)
        {
            modules.Add(app.Services.GetRequiredService<CompactorModule>());
        }

        if (targets.RunsRuler)
        {
            modules.Add(app.Services.GetRequiredService<RulerModule>());
        }
    }

    private static void UseMiddleware(WebApplication app, LokiConfig config)
    {
        var grpcPort = config.Server.GrpcListenPort;
        var state = app.Services.GetRequiredService<ServerState>();
        var requestMetrics = app.Services.GetRequiredService<RequestMetrics>();

        if (config.Server.HttpPathPrefix.Length > 0)
        {
            app.UsePathBase(config.Server.HttpPathPrefix);
        }

        app.UseWebSockets();
        app.UseWhen(static context => context.Request.Path.StartsWithSegments("/loki/api/v1") || context.Request.Path.StartsWithSegments("/api/prom"),
            static branch => branch.UseResponseCompression());
        app.UseRouting();
        app.Use(async (context, next) =>
        {
            // Once shutdown has begun, requests already running finish but new ones are turned away.
            if (state.RefusingRequests && context.Request.Path != "/ready")
            {
                context.Response.Headers.Connection = "close";
                await PlainText.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "Application is stopping").ConfigureAwait(false);
                return;
            }

            // The gRPC port serves gRPC only, as Loki's does.
            if (context.Connection.LocalPort == grpcPort && context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) != true)
            {
                await PlainText.WriteAsync(context, StatusCodes.Status404NotFound, "404 page not found").ConfigureAwait(false);
                return;
            }

            await next(context).ConfigureAwait(false);
        });
        app.Use((context, next) => requestMetrics.InvokeAsync(context, next));
        var unhandledErrors = app.Services.GetRequiredService<UnhandledErrors>();
        app.Use((context, next) => unhandledErrors.InvokeAsync(context, next));
        app.UseEndpoints(static _ => { });
    }

    // Each module's route group is mapped only when the target runs the module; the rest answer Go's
    // "404 page not found" as in Loki, where a module registers its routes when it is initialised.
    private static void MapRoutes(WebApplication app, ModuleTargets targets)
    {
        var metrics = Metrics.DefaultRegistry;
        app.MapOpsEndpoints();
        app.MapFormatQueryEndpoint();
        app.MapLimitsEndpoints();
        app.MapMetrics("/metrics", metrics);
        app.MapGrpcHealthChecksService();

        if (targets.RunsDistributor)
        {
            app.MapPushEndpoints();
            app.MapOtlpEndpoints();
        }

        if (targets.RunsIngester)
        {
            // Loki's ingester serves logproto.Pusher to distributors; here the same service takes pushes.
            app.MapGrpcService<PusherService>();
            app.MapGrpcService<HeadReadService>();
            app.MapIngesterEndpoints();
            app.MapSnapshotEndpoints();
        }

        if (targets.RunsQuerier)
        {
            app.MapQueryEndpoints();
            app.MapTailEndpoints();
            app.MapDetectedEndpoints();
        }

        if (targets.RunsCompactor)
        {
            app.MapDeleteEndpoints();
        }

        if (targets.RunsRuler)
        {
            app.MapRulerEndpoints();
        }

        app.Run(static context => PlainText.WriteAsync(context, StatusCodes.Status404NotFound, "404 page not found"));
    }

    /// <summary>
    /// Keeps the default registry to Loki-like content: process and runtime metrics, but not every .NET event
    /// counter and meter. Must run before anything touches the registry.
    /// </summary>
    public static void ConfigureMetricsRegistry() =>
        Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions
        {
            SuppressProcessMetrics = false,
            SuppressDebugMetrics = true,
            SuppressEventCounters = true,
            SuppressMeters = true,
        });

    private static void RegisterBuildInfo()
    {
        var build = BuildInfo.Current;
        Metrics.CreateGauge("loki_build_info",
                "A metric with a constant '1' value labeled by version, revision, branch, goversion from which loki was built, " +
                "and the goos and goarch for the build.",
                ["version", "revision", "branch", "goversion", "goos", "goarch", "tags"])
            .WithLabels(build.Version, build.Revision, build.Branch, build.GoVersion,
                OperatingSystem.IsLinux() ? "linux" : OperatingSystem.IsWindows() ? "windows" : "darwin",
                System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant() switch
                {
                    "x64" => "amd64",
                    var other => other,
                },
                "unknown")
            .Set(1);

        // Loki dashboards read process_resident_memory_bytes; prometheus-net names it process_working_set_bytes.
        var resident = Metrics.CreateGauge("process_resident_memory_bytes", "Resident memory size in bytes.");
        Metrics.DefaultRegistry.AddBeforeCollectCallback(() => resident.Set(Environment.WorkingSet));
        BlockReadMetrics.Register();
    }

    private static void Listen(KestrelServerOptions kestrel, string address, int port, HttpProtocols protocols)
    {
        Action<ListenOptions> configure = o => o.Protocols = protocols;
        if (address.Length == 0 || address is "0.0.0.0" or "::" or "[::]")
        {
            kestrel.ListenAnyIP(port, configure);
        }
        else if (address == "localhost")
        {
            kestrel.ListenLocalhost(port, configure);
        }
        else if (IPAddress.TryParse(address.Trim('[', ']'), out var ip))
        {
            kestrel.Listen(ip, port, configure);
        }
        else
        {
            throw new ConfigException($"cannot listen on \"{address}\": not an IP address");
        }
    }
}
