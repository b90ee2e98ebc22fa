#!/usr/bin/env bash
# shellcheck disable=SC2154 # tree, port, shared and mb are set by perf_args (perf-lib.sh)
# Where resident memory goes right after ingest: builds a Release server from a tree, starts it on a private data dir
# with the reference config, pushes /tmp/perfdata-<MB> as perf.py does (4 connections), then prints VmRSS split into
# anonymous / file-backed / shared (JIT code under W^X) memory and the GC's view (heap sizes per generation,
# fragmentation, committed bytes, collection counts) from dotnet-counters, sampled once a second during the ingest.
# Usage: [MB=2048] [KEEP=1] benchmarks/perf/memory-after-ingest.sh [tree] [http-port]
# Extra environment for the server (e.g. DOTNET_GCgen0size=0x400000) is passed with SERVER_ENV="K=V K2=V2" (perf_start).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=/dev/null
source "$here/perf-lib.sh"
perf_args "$@"
counters=${DOTNET_COUNTERS:-$HOME/.dotnet/tools/dotnet-counters}
dir=$(mktemp -d /tmp/lokisharp-memory-XXXXXX)
perf_config "$dir" "$port"
perf_build "$tree" "$dir/bin" "$dir/build.log"
perf_start "$dir/bin" "$dir"
trap 'kill "$pid" 2>/dev/null || true' EXIT
perf_wait_ready "$port" "$dir/server.log"
if [ -x "$counters" ]; then
  "$counters" collect -p "$pid" --refresh-interval 1 --format csv -o "$dir/counters.csv" --counters System.Runtime >/dev/null 2>&1 &
  cpid=$!
fi
python3 - "$shared/tools/perf.py" "http://127.0.0.1:$port" "$mb" "$pid" <<'PY'
import importlib.util, sys
spec = importlib.util.spec_from_file_location("perf", sys.argv[1])
perf = importlib.util.module_from_spec(spec)
spec.loader.exec_module(perf)
url, mb, pid = sys.argv[2], sys.argv[3], int(sys.argv[4])
cpu = perf.cpu_seconds(pid)
wall, errors = perf.ingest(url, f"/tmp/perfdata-{mb}", 4)
print(f"ingest: {wall:.1f} s, {perf.cpu_seconds(pid) - cpu:.2f} CPU-s, {len(errors)} errors; "
      f"VmRSS {perf.rss_now_mb(pid):.1f} MB, VmHWM {perf.rss_peak_mb(pid):.1f} MB")
PY
grep -E '^(RssAnon|RssFile|RssShmem|VmRSS)' "/proc/$pid/status"
sleep 2
if [ -n "${cpid:-}" ]; then
  kill "$cpid" 2>/dev/null || true
  wait "$cpid" 2>/dev/null || true
  # The last sample taken while the server was still ingesting or had just finished: the GC's side of VmRSS.
  python3 - "$dir/counters.csv" <<'PY'
import csv, sys
last = {}
for row in csv.reader(open(sys.argv[1])):
    if row and row[0] != "Timestamp" and "(By)" in row[2] and "/ 1 sec" not in row[2]:
        last[row[2]] = float(row[4])
for name, value in sorted(last.items()):
    print(f"{value / 2**20:10.1f} MB  {name}")
PY
fi
if [ -z "${KEEP:-}" ]; then
  kill "$pid"
  rm -rf "$dir"
else
  echo "server $pid still running (port $port), data and counters in $dir"
  trap - EXIT
fi
