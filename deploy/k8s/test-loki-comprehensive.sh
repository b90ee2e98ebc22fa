#!/usr/bin/env bash
# Deeper checks of a running LokiSharp against what deploy/k8s configures: retention and compactor
# settings visible in /config, the metrics Loki dashboards use, and the LogQL examples from README.md run
# through the query API. Prints PASS/FAIL/SKIP per check; the exit code is the number of failures.
# Read-only: it never pushes or deletes.
#
#   ./test-loki-comprehensive.sh                                  # port-forwards svc/loki in jewelry-shop
#   LOKI_URL=http://127.0.0.1:3100 ./test-loki-comprehensive.sh   # any reachable LokiSharp; no kubectl
#   CHECKS=config,metrics ./test-loki-comprehensive.sh            # a subset
#
# Environment: LOKI_URL, NAMESPACE (jewelry-shop), LOCAL_PORT (13101, for the port-forward), KUBECTL,
# CHECKS (config,metrics,compactor-metrics,logql), QUERY_RANGE_SECONDS (3600, how far back the LogQL
# examples look), EXPECT_PATH_PREFIX (/loki, common.path_prefix in loki-configmap.yaml).
set -euo pipefail

namespace="${NAMESPACE:-jewelry-shop}"
kubectl="${KUBECTL:-kubectl}"
checks="${CHECKS:-config,metrics,compactor-metrics,logql}"
query_range="${QUERY_RANGE_SECONDS:-3600}"
expect_path_prefix="${EXPECT_PATH_PREFIX:-/loki}"

# BEGIN LOGQL EXAMPLES
# The queries README.md documents for the jewelry-shop (one per line, single-quoted, no single quotes
# inside). tests/LokiSharp.IntegrationTests/Deploy parses each one with LokiSharp's LogQL parser.
# Backticks are LogQL raw strings, not command substitution: single quotes keep them literal on purpose.
# shellcheck disable=SC2016
logql_examples=(
  '{namespace="jewelry-shop"}'
  '{namespace="jewelry-shop", level="error"}'
  '{namespace="jewelry-shop", app=~".*django.*"} |= "Traceback"'
  '{namespace="jewelry-shop", app=~".*django.*"} | json | levelname="ERROR" | line_format "{{.name}}: {{.message}}"'
  '{namespace="jewelry-shop", app=~".*nginx.*"} | json | status >= 500'
  '{namespace="jewelry-shop", app=~".*nginx.*"} | pattern `<ip> - <_> [<_>] "<method> <path> <_>" <status> <_>` | status >= 400'
  '{namespace="jewelry-shop", app=~"spilo|.*postgres.*"} |~ "(?i)(deadlock|FATAL|could not serialize)"'
  '{namespace="jewelry-shop", app=~".*redis.*"} != "Background saving"'
  '{namespace="jewelry-shop", app=~".*celery.*"} |= "raised unexpected" | regexp `Task (?P<task>[\w.]+)\[`'
  'sum by (app) (rate({namespace="jewelry-shop"}[5m]))'
  'sum by (app) (count_over_time({namespace="jewelry-shop", level="error"}[1h]))'
  'topk(5, sum by (pod) (rate({namespace="jewelry-shop"}[5m])))'
  'sum by (status) (count_over_time({namespace="jewelry-shop", app=~".*nginx.*"} | json | __error__="" [5m]))'
  'quantile_over_time(0.95, {namespace="jewelry-shop", app=~".*nginx.*"} | json | unwrap request_time [5m]) by (pod)'
  'sum(bytes_over_time({namespace="jewelry-shop"}[1h])) by (container)'
  'count_over_time({namespace="jewelry-shop", app=~".*celery.*"} |= "succeeded" [1h])'
)
# END LOGQL EXAMPLES

failures=0
pass() { printf 'PASS %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*"; failures=$((failures + 1)); }
enabled() { [[ ",$checks," == *",$1,"* ]]; }

workdir="$(mktemp -d)"
pf_pid=""
# Stops the port-forward (if this script started one) and removes the scratch files, whatever happens.
trap 'if [[ -n "$pf_pid" ]]; then kill "$pf_pid" 2>/dev/null || true; fi; rm -rf "$workdir"' EXIT

# GET helper: the status code goes to stdout (curl prints 000 when nothing answered), the body to
# $workdir/body. Extra arguments are passed to curl (-G --data-urlencode ...).
http_get() {
  local path="$1"
  shift
  curl -sS -o "$workdir/body" -w '%{http_code}' --max-time 30 "$@" "$LOKI_URL$path" 2>"$workdir/curl.err" || true
}
body() { cat "$workdir/body" 2>/dev/null || true; }

# shellcheck source=lib/connect.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/connect.sh"
connect_to_loki test-loki-comprehensive.sh 13101
echo "testing LokiSharp at $LOKI_URL"

# expect_line DESCRIPTION REGEX: the last fetched body has a line matching REGEX (extended grep).
expect_line() {
  if grep -Eq "$2" "$workdir/body"; then pass "$1"; else fail "$1 (no line matching /$2/)"; fi
}

if enabled config; then
  code="$(http_get /config)"
  if [[ "$code" != 200 ]]; then
    fail "/config answered $code: $(body) $(cat "$workdir/curl.err")"
  else
    # Go prints durations as 744h0m0s; Loki and LokiSharp both do, so accept either spelling.
    expect_line "retention_period is 744h (31 days)" '^  retention_period: 744h(0m0s)?$'
    expect_line "compactor retention_enabled is true" '^  retention_enabled: true$'
    expect_line "compaction_interval is 10m" '^  compaction_interval: 10m(0s)?$'
    expect_line "delete_request_store is filesystem" '^  delete_request_store: filesystem$'
    expect_line "ingestion_rate_mb is 10" '^  ingestion_rate_mb: 10$'
    expect_line "ingestion_burst_size_mb is 20" '^  ingestion_burst_size_mb: 20$'
    expect_line "max_query_series is 500" '^  max_query_series: 500$'
    expect_line "results cache embedded_cache max_size_mb is 500" '^ +max_size_mb: 500$'
    expect_line "path_prefix is $expect_path_prefix" "^  path_prefix: $expect_path_prefix\$"
  fi
fi

if enabled metrics; then
  code="$(http_get /metrics)"
  if [[ "$code" != 200 ]]; then
    fail "/metrics answered $code"
  else
    expect_line "loki_build_info reports a 3.x API" '^loki_build_info\{.*version="3\.'
    expect_line "request durations are recorded" '^loki_request_duration_seconds_bucket\{'
    # Go's process collector (Loki) says process_resident_memory_bytes, prometheus-net
    # process_working_set_bytes.
    expect_line "process memory is exported" '^process_(resident_memory|working_set)_bytes '
    expect_line "process CPU is exported" '^process_cpu_seconds_total '
  fi
fi

# Loki's own compactor metric names, which its dashboards and alerts use.
if enabled compactor-metrics; then
  code="$(http_get /metrics)"
  if [[ "$code" != 200 ]]; then
    fail "/metrics answered $code"
  else
    expect_line "the compactor reports it is running" '^loki_boltdb_shipper_compactor_running '
    expect_line "retention runs are timestamped" '^# (HELP|TYPE) loki_compactor_apply_retention_last_successful_run_timestamp_seconds '
  fi
fi

if enabled logql; then
  end_s="$(date +%s)"
  start_s=$((end_s - query_range))
  for query in "${logql_examples[@]}"; do
    code="$(http_get /loki/api/v1/query_range -G --data-urlencode "query=$query" \
      --data-urlencode "start=$start_s" --data-urlencode "end=$end_s" --data-urlencode "limit=100")"
    if [[ "$code" == 200 ]] && grep -q '"status":"success"' "$workdir/body"; then
      pass "LogQL: $query"
    else
      fail "LogQL: $query answered $code: $(body | head -c 300)"
    fi
  done
fi

echo "$failures failure(s)"
# Exit codes wrap at 256; cap so that many failures never read as success.
exit $((failures > 255 ? 255 : failures))
