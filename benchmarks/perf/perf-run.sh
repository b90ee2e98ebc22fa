#!/usr/bin/env bash
# shellcheck disable=SC2154 # tree, port, shared and mb are set by perf_args (perf-lib.sh)
# Builds a Release server from a tree, starts it on a private data dir with the reference config (limits raised as
# for the Loki reference run), runs ../shared/tools/perf.py (MB=512: 335 MB ingest, MB=2048: 1,340 MB, + the reference
# queries) and prints the table against Loki 2.7.5 at that size. Usage: [MB=2048] benchmarks/perf/perf-run.sh [tree] [http-port] [out.json]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=/dev/null
source "$here/perf-lib.sh"
perf_args "$@"
out=${3:-$PWD/lokisharp-perf.json}
ref="$shared/benchmarks/loki-2.7.5-perf.json"
[ "$mb" = 512 ] || ref="$shared/benchmarks/loki-2.7.5-perf-$mb.json"
dir=$(mktemp -d /tmp/lokisharp-perf-XXXXXX)
perf_config "$dir" "$port"
# ENCODING=zstd stores chunks with zstd instead of the reference run's snappy.
sed -i "s/chunk_encoding: snappy/chunk_encoding: ${ENCODING:-snappy}/" "$dir/loki.yaml"
perf_build "$tree" "$dir/bin" "$dir/build.log"
perf_start "$dir/bin" "$dir"
trap 'kill "$pid" 2>/dev/null || true' EXIT
perf_wait_ready "$port" "$dir/server.log"
python3 "$shared/tools/perf.py" run --name lokisharp --url "http://127.0.0.1:$port" --pid "$pid" --mb "$mb" \
  --flush-url "http://127.0.0.1:$port/flush" --data-dir "$dir/data" --out "$out" >/dev/null
python3 "$shared/tools/perf.py" table "$ref" "$out"
echo "server log and data: $dir"
# Per-query cost (wall, CPU-s, peak RSS) of perf.py's queries and of needle searches (a request id occurring once,
# as a limit=100 log query and as count_over_time), with the blocks and bytes the readers touched, over the flushed
# store (perf.py flushed above). For the head path run queries.py --ingest against a fresh server.
python3 "$here/queries.py" --url "http://127.0.0.1:$port" --pid "$pid" --mb "$mb" --shared "$shared" --out "${out%.json}-queries.json"
