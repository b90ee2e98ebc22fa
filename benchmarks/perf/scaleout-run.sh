#!/usr/bin/env bash
# The perf workload through Loki's scalable shape on a real bucket versus the single binary on disk, one machine:
# the single binary alone on local disk first, then a throw-away Ceph RGW (tests/s3/rgw.sh) with two -target=write
# processes and one -target=read,backend process, all on the reference config (loki-perf.yaml; object_store s3 for
# the second run). Both runs push the same pre-encoded data with the same 4-connection client (scaleout.py) and
# write JSON: writers' CPU-s per GB, push latency p50/p99, each perf query cold and warm through the reader.
# Usage: benchmarks/perf/scaleout-run.sh [tree] [mb]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=/dev/null
source "$here/perf-lib.sh"
tree=${1:-$(cd "$here/../.." && pwd)}
mb=${2:-512}
export SHARED=${SHARED:-$(cd "$tree/.." && pwd)/shared}
dir=$(mktemp -d /tmp/lokisharp-scaleout-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  "$tree/tests/s3/rgw.sh" stop "$dir/rgw" >/dev/null 2>&1 || true
}
trap cleanup EXIT

perf_build "$tree" "$dir/bin" "$dir/build.log"
python3 "$SHARED/tools/perf.py" gen --mb "$mb" >/dev/null

# config <name> <http-port> [bucket yaml]: loki-perf.yaml on private ports and directory; with a bucket, its
# ingester block gains the writer's name and the file gains the bucket and the writers' gRPC ports as peers.
config() {
  local name=$1 port=$2 bucket=${3:-}
  local edits=(-e "s/http_listen_port: 3300/http_listen_port: $port/" -e "s/grpc_listen_port: 9300/grpc_listen_port: $((port + 1))/"
    -e "s#path_prefix: ./data#path_prefix: $dir/$name/data#")
  if [ -n "$bucket" ]; then
    edits+=(-e 's/object_store: filesystem/object_store: s3/' -e "s/^  chunk_encoding: snappy$/  chunk_encoding: snappy\n  lifecycler: {id: $name}/")
  fi
  sed "${edits[@]}" "$here/loki-perf.yaml"
  if [ -n "$bucket" ]; then
    printf '%s\nmemberlist: {join_members: [127.0.0.1:3411, 127.0.0.1:3421]}\n' "$bucket"
  fi
}

# start <name> <http-port> <target> [bucket yaml]; waits for /ready.
start() {
  local name=$1 port=$2 target=$3
  mkdir -p "$dir/$name"
  config "$name" "$port" "${4:-}" >"$dir/$name/loki.yaml"
  perf_start "$dir/bin" "$dir/$name" -target="$target"
  pids+=("$pid")
  perf_wait_ready "$port" "$dir/$name/server.log" || exit 1
}

# 1. The single binary on local disk.
start single 3400 all
single=${pids[-1]}
python3 "$here/scaleout.py" --writers "http://127.0.0.1:3400=$single" --reader "http://127.0.0.1:3400=$single" \
  --mb "$mb" --settle 2 --out "$dir/single.json" >/dev/null
kill "$single"
wait "$single" 2>/dev/null || true

# 2. Two writers and a reader over a bucket on a real RGW.
rgw_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
rgw=$("$tree/tests/s3/rgw.sh" start "$dir/rgw" "$rgw_port")
endpoint=$(sed -n 's/^ENDPOINT=//p' <<<"$rgw")
access=$(sed -n 's/^ACCESS_KEY=//p' <<<"$rgw")
secret=$(sed -n 's/^SECRET_KEY=//p' <<<"$rgw")
curl -sf --aws-sigv4 aws:amz:us-east-1:s3 --user "$access:$secret" -X PUT \
  -H "x-amz-content-sha256: $(printf '' | sha256sum | cut -d' ' -f1)" "$endpoint/perf" >/dev/null
bucket="storage_config:
  tsdb_shipper: {resync_interval: 5s}
  aws: {endpoint: '$endpoint', bucketnames: perf, access_key_id: '$access', secret_access_key: '$secret', s3forcepathstyle: true, insecure: true}"
start write-0 3410 write "$bucket"
w0=${pids[-1]}
start write-1 3420 write "$bucket"
w1=${pids[-1]}
start reader-0 3430 read,backend "$bucket"
reader=${pids[-1]}
python3 "$here/scaleout.py" --writers "http://127.0.0.1:3410=$w0,http://127.0.0.1:3420=$w1" --reader "http://127.0.0.1:3430=$reader" \
  --mb "$mb" --settle 15 --out "$dir/scaleout.json" >/dev/null

python3 - "$dir/single.json" "$dir/scaleout.json" <<'PY'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
print(f"{'figure':30} {'single, disk':>14} {'2 writers, s3':>14}")
for k, v in a.items():
    if isinstance(v, (int, float)) and isinstance(b.get(k), (int, float)):
        print(f"{k:30} {v:14.3f} {b[k]:14.3f}")
PY
echo "logs, configs and JSON: $dir"
