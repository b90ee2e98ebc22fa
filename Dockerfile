# syntax=docker/dockerfile:1
# LokiSharp container image: `docker build -t lokisharp:latest .` from the repository root.
# Runs as UID/GID 10001 with its data under /loki and its config at /etc/loki/loki.yaml (any Loki 3.x
# config file; deploy/k8s/loki-configmap.yaml mounts one there).

# ---- build --------------------------------------------------------------------------------------------
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# Restore layer first: only what restore reads (the SDK pin, the shared build props, the central package
# versions and the project files), so editing a .cs file reuses the cached package download.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/LogQL/LokiSharp.LogQL.csproj src/LogQL/
COPY src/Storage/LokiSharp.Storage.csproj src/Storage/
COPY src/Ingester/LokiSharp.Ingester.csproj src/Ingester/
COPY src/Querier/LokiSharp.Querier.csproj src/Querier/
COPY src/Compactor/LokiSharp.Compactor.csproj src/Compactor/
COPY src/Ruler/LokiSharp.Ruler.csproj src/Ruler/
COPY src/Server/LokiSharp.Server.csproj src/Server/
COPY analyzers/LokiSharp.Analyzers/LokiSharp.Analyzers.csproj analyzers/LokiSharp.Analyzers/
RUN dotnet restore src/Server/LokiSharp.Server.csproj

COPY src/ src/
COPY analyzers/ analyzers/
# UseAppHost: the output has the native `lokisharp` launcher, so the entrypoint needs no `dotnet` prefix.
RUN dotnet publish src/Server/LokiSharp.Server.csproj -c Release --no-restore -o /app -p:UseAppHost=true

# ---- runtime ------------------------------------------------------------------------------------------
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime

# A named user for UID/GID 10001 (the Deployment's runAsUser/fsGroup), owning /loki so a fresh volume
# mounted there without fsGroup is still writable.
RUN groupadd --system --gid 10001 loki \
 && useradd --system --uid 10001 --gid 10001 --home-dir /loki --no-create-home --shell /usr/sbin/nologin loki \
 && mkdir -p /loki /etc/loki \
 && chown 10001:10001 /loki

COPY --from=build /app /app
# Used when no config is mounted (`docker run lokisharp:latest`): the built-in single-binary defaults,
# which keep everything under ./data, that is /loki/data given WORKDIR below.
COPY src/Server/Configuration/default-config.yaml /etc/loki/loki.yaml

# ASPNETCORE_HTTP_PORTS is set to 8080 by the base image; LokiSharp binds the ports from its config
# (server.http_listen_port / grpc_listen_port), so it is cleared to avoid a stray listener or warning.
# DOTNET_ReadyToRun=0: the framework's code (Kestrel, sockets, CoreLib) is JIT-compiled for this CPU at its first call
# instead of running its precompiled ReadyToRun code, which tiered compilation being off (the project file) never
# replaces: ingest costs 6-11% less CPU, for about 2 s more to start (README, performance). The same setting is in
# src/Server/Properties/launchSettings.json, for `dotnet run` and the perf scripts.
ENV PATH="/app:${PATH}" \
    ASPNETCORE_HTTP_PORTS= \
    DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_ReadyToRun=0

WORKDIR /loki
USER 10001
VOLUME /loki
EXPOSE 3100 9096

# As Loki's image: the binary is the entrypoint and the config file the default arguments, which a pod's
# `args` replace.
ENTRYPOINT ["lokisharp"]
CMD ["-config.file=/etc/loki/loki.yaml"]
