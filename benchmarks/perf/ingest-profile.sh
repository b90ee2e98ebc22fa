#!/usr/bin/env bash
# shellcheck disable=SC2154 # tree, port, shared and mb are set by perf_args, bin by perf_server (perf-lib.sh)
# Ingest only, for working on the write path: builds a Release server from a tree (or takes a built one with BIN=...),
# starts it on a private data dir with the reference config, pushes /tmp/perfdata-$MB with perf.py's 4-connection client
# and prints ingest CPU-s per GB raw, RSS and the GC counts, a per-second timeline of CPU against WAL bytes (what a run
# pays once shows as a dearer first half) and context switches by thread. PROFILE=1 also records the server with Linux
# perf (a perf map, W^X off so JIT code resolves), counts the methods JIT-compiled during the ingest (by assembly; the
# list goes to jitted.txt next to the server log) and prints where the CPU went by stage (ingest_profile.py classify).
# DATA=dir pushes other batches than /tmp/perfdata-$MB (e.g. those of `ingest_profile.py regroup`). SMALL_PUSHES=N
# pushes N one-line pushes instead, for what a push costs apart from its lines (ingest_profile.py small-pushes).
# SERVER_ENV="K=V ..." is extra environment for the server (perf-lib.sh's perf_start).
# Usage: [MB=2048] [BIN=dir] [PROFILE=1] [DATA=dir] [SMALL_PUSHES=N] benchmarks/perf/ingest-profile.sh [tree] [http-port]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=/dev/null
source "$here/perf-lib.sh"
perf_args "$@"
dir=$(mktemp -d /tmp/lokisharp-ingest-XXXXXX)
perf_config "$dir" "$port"
perf_server "$dir"
profile=${PROFILE:-0}
jit_list=()
if [ "$profile" = 1 ]; then
  jit_list=(--jit-list "$dir/jitted.txt")
fi
SERVER_ENV="DOTNET_PerfMapEnabled=$profile DOTNET_EnableWriteXorExecute=$((1 - profile)) ${SERVER_ENV:-}" perf_start "$bin" "$dir"
recorder=
trap 'kill "$pid" 2>/dev/null || true; [ -z "$recorder" ] || kill -INT "$recorder" 2>/dev/null || true' EXIT
perf_wait_ready "$port" "$dir/server.log"
if [ "$profile" = 1 ]; then
  perf record -F 499 -g -p "$pid" -o "$dir/perf.data" 2>"$dir/perf.log" &
  recorder=$!
  sleep 0.5
fi
if [ -n "${SMALL_PUSHES:-}" ]; then
  python3 "$here/ingest_profile.py" small-pushes --shared "$shared" --url "http://127.0.0.1:$port" --pid "$pid" \
    --pushes "$SMALL_PUSHES"
else
  python3 "$here/ingest_profile.py" ingest --shared "$shared" --url "http://127.0.0.1:$port" --pid "$pid" --mb "$mb" \
    --wal "$dir/data/wal" ${DATA:+--data "$DATA"} "${jit_list[@]}"
fi
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
