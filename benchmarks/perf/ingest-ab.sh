#!/usr/bin/env bash
# Interleaved A/B of the ingest cost of two built servers, for changes worth a few percent, which single runs on a
# shared 2-core machine cannot resolve (runs of one build spread by ±10%). Each pair runs both builds through
# ingest-profile.sh, in ABBA order so a drifting load falls on both, and appends a JSON line per run (build, pair,
# load, CPU-s per GB, RSS) to OUT; then prints each build's median, mean and range and the paired differences: their
# median, and in how many pairs B was cheaper (the sign test: 7 of 8 or more is unlikely by chance). ENV_A and ENV_B
# ("K=V K2=V2") are extra server environment for one build's runs, to compare runtime settings of one build.
# Usage: [PAIRS=8] [MB=512] [ENV_A=..] [ENV_B=..] benchmarks/perf/ingest-ab.sh BIN_A BIN_B OUT [http-port]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -ge 3 ] || { sed -n '2,8p' "$0" >&2; exit 2; }
bin_a=$1 bin_b=$2 out=$3 port=${4:-3300}
for bin in "$bin_a" "$bin_b"; do
  [ -f "$bin/lokisharp.dll" ] || { echo "no lokisharp.dll in $bin (build one: dotnet build -c Release src/Server -o DIR)" >&2; exit 2; }
done
for pair in $(seq 1 "${PAIRS:-8}"); do
  if [ $((pair % 2)) = 1 ]; then order="A B"; else order="B A"; fi
  for build in $order; do
    if [ "$build" = A ]; then bin=$bin_a extra=${ENV_A:-}; else bin=$bin_b extra=${ENV_B:-}; fi
    load=$(cut -d' ' -f1 /proc/loadavg)
    result=$(SERVER_ENV=$extra BIN=$bin "$here/ingest-profile.sh" "" "$port" | grep '"ingest_cpu_s_per_gb"')
    echo "{\"build\": \"$build\", \"pair\": $pair, \"load1\": $load, \"run\": $result}" | tee -a "$out"
  done
done
python3 "$here/ingest_profile.py" ab-summary "$out"
