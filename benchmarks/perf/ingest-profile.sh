#!/usr/bin/env bash
# Ingest only, for working on the write path: builds a Release server from a tree (or takes a built one with BIN=...),
# starts it on a private data dir with the reference config, pushes /tmp/perfdata-$MB with perf.py's 4-connection client
# and prints ingest CPU-s per GB raw, RSS and the GC counts. PROFILE=1 also records the server with Linux perf (a perf
# map, W^X off so JIT code resolves) and prints where the CPU went by stage (ingest_profile.py classify).
# Usage: [MB=2048] [BIN=dir] [PROFILE=1] benchmarks/perf/ingest-profile.sh [tree] [http-port]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tree=${1:-$(cd "$here/../.." && pwd)}
port=${2:-3300}
shared=${SHARED:-$(cd "$tree/.." && pwd)/shared}
mb=${MB:-512}
dir=$(mktemp -d /tmp/lokisharp-ingest-XXXXXX)
sed -e "s/http_listen_port: 3300/http_listen_port: $port/" -e "s/grpc_listen_port: 9300/grpc_listen_port: $((port + 1))/" \
    -e "s#path_prefix: ./data#path_prefix: $dir/data#" "$here/loki-perf.yaml" >"$dir/loki.yaml"
bin=${BIN:-$dir/bin}
if [ -z "${BIN:-}" ]; then
  dotnet build -c Release "$tree/src/Server" -o "$bin" -v q -nologo >"$dir/build.log" 2>&1 || { tail -30 "$dir/build.log"; exit 1; }
fi
profile=${PROFILE:-0}
DOTNET_PerfMapEnabled=$profile DOTNET_EnableWriteXorExecute=$((1 - profile)) \
  dotnet "$bin/lokisharp.dll" -config.file="$dir/loki.yaml" >"$dir/server.log" 2>&1 &
pid=$!
recorder=
trap 'kill "$pid" 2>/dev/null || true; [ -z "$recorder" ] || kill -INT "$recorder" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.3; done
if [ "$profile" = 1 ]; then
  perf record -F 499 -g -p "$pid" -o "$dir/perf.data" 2>"$dir/perf.log" &
  recorder=$!
  sleep 0.5
fi
python3 "$here/ingest_profile.py" ingest --shared "$shared" --url "http://127.0.0.1:$port" --pid "$pid" --mb "$mb"
curl -s "http://127.0.0.1:$port/metrics" | grep -E '^dotnet_collection_count_total' || true
if [ -n "$recorder" ]; then
  kill -INT "$recorder"
  wait "$recorder" || true
  recorder=
  python3 "$here/ingest_profile.py" classify "$dir/perf.data"
fi
kill "$pid"
wait "$pid" 2>/dev/null || true
rm -rf "$dir/data"
echo "server log (and perf.data): $dir"
