#!/usr/bin/env bash
# shellcheck disable=SC2154 # tree, port, shared and mb are set by perf_args, bin by perf_server (perf-lib.sh)
# Crash recovery time: builds a Release server from a tree (or takes a built one with BIN=...), pushes /tmp/perfdata-$MB
# with perf.py's 4-connection client and nothing flushed, kills it with SIGKILL and times the restart to /ready (the WAL
# replayed) twice: with the page cache as the crash left it, and again after SIGKILL with the page cache dropped, as
# after a reboot (that needs root; skipped otherwise). Prints the WAL's size, seconds to /ready and the restart's CPU-s.
# Usage: [MB=2048] [BIN=dir] benchmarks/perf/restart-replay.sh [tree] [http-port]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=/dev/null
source "$here/perf-lib.sh"
perf_args "$@"
dir=$(mktemp -d /tmp/lokisharp-replay-XXXXXX)
perf_config "$dir" "$port"
perf_server "$dir"
perf_start "$bin" "$dir"
trap 'kill "$pid" 2>/dev/null || true' EXIT
perf_wait_ready "$port" "$dir/server.log"
python3 "$here/ingest_profile.py" ingest --shared "$shared" --url "http://127.0.0.1:$port" --pid "$pid" --mb "$mb" \
  --wal "$dir/data/wal" | tail -1
echo "WAL: $(du -sm "$dir/data/wal" | cut -f1) MB"
for cache in kept dropped; do
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  if [ "$cache" = dropped ]; then
    sync
    echo 3 2>/dev/null >/proc/sys/vm/drop_caches || { echo "page cache dropped: skipped (needs root)"; break; }
  fi
  start=$(date +%s.%N)
  perf_start "$bin" "$dir"
  perf_wait_ready "$port" "$dir/server.log"
  ready=$(date +%s.%N)
  # utime + stime of the restarted server, in clock ticks
  ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  python3 -c "import sys; print(f'page cache {sys.argv[1]}: ready in {float(sys.argv[3]) - float(sys.argv[2]):.1f} s, {int(sys.argv[4]) / 100:.1f} CPU-s')" \
    "$cache" "$start" "$ready" "$ticks"
done
kill "$pid"
wait "$pid" 2>/dev/null || true
rm -rf "$dir/data"
