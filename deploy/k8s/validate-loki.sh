#!/usr/bin/env bash
# Checks a running LokiSharp install: pods ready, /ready, build info, metrics, the labels Promtail sends,
# and a push -> query round trip. Prints PASS/FAIL/SKIP per check; the exit code is the number of failures.
# Read-only apart from the push and round-trip checks, which push one line to {job="validate-loki"}.
#
#   ./validate-loki.sh                                  # port-forwards svc/loki in jewelry-shop
#   LOKI_URL=http://127.0.0.1:3100 ./validate-loki.sh   # any reachable LokiSharp (or Loki); no kubectl
#   CHECKS=ready,buildinfo,metrics ./validate-loki.sh   # a subset
#
# Environment: LOKI_URL, NAMESPACE (jewelry-shop), LOCAL_PORT (13100, for the port-forward), KUBECTL,
# CHECKS (pods,ready,buildinfo,metrics,labels,roundtrip; also push, the round trip's first half alone),
# EXPECTED_LABELS ("namespace app pod container"), ROUNDTRIP_TIMEOUT (30, seconds).
set -euo pipefail

namespace="${NAMESPACE:-jewelry-shop}"
kubectl="${KUBECTL:-kubectl}"
checks="${CHECKS:-pods,ready,buildinfo,metrics,labels,roundtrip}"
expected_labels="${EXPECTED_LABELS:-namespace app pod container}"
roundtrip_timeout="${ROUNDTRIP_TIMEOUT:-30}"

failures=0
pass() { printf 'PASS %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*"; failures=$((failures + 1)); }
skip() { printf 'SKIP %s\n' "$*"; }
enabled() { [[ ",$checks," == *",$1,"* ]]; }

workdir="$(mktemp -d)"
pf_pid=""
# Stops the port-forward (if this script started one) and removes the scratch files, whatever happens.
trap 'if [[ -n "$pf_pid" ]]; then kill "$pf_pid" 2>/dev/null || true; fi; rm -rf "$workdir"' EXIT

# GET helper: the status code goes to stdout (curl prints 000 when nothing answered), the body to $workdir/body.
http_get() {
  curl -sS -o "$workdir/body" -w '%{http_code}' --max-time 10 "$LOKI_URL$1" 2>"$workdir/curl.err" || true
}
body() { cat "$workdir/body" 2>/dev/null || true; }

use_kubectl=false
if [[ -z "${LOKI_URL:-}" ]]; then use_kubectl=true; fi
# shellcheck source=lib/connect.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/connect.sh"
connect_to_loki validate-loki.sh 13100
echo "validating LokiSharp at $LOKI_URL"

if enabled pods; then
  if [[ "$use_kubectl" == true ]]; then
    ready="$("$kubectl" -n "$namespace" get deployment loki -o jsonpath='{.status.readyReplicas}' 2>/dev/null || true)"
    if [[ "${ready:-0}" -ge 1 ]]; then pass "deployment/loki has $ready ready replica(s)"; else fail "deployment/loki has no ready replica"; fi
    desired="$("$kubectl" -n "$namespace" get daemonset promtail -o jsonpath='{.status.desiredNumberScheduled}' 2>/dev/null || true)"
    numready="$("$kubectl" -n "$namespace" get daemonset promtail -o jsonpath='{.status.numberReady}' 2>/dev/null || true)"
    if [[ -n "$desired" && "$desired" -gt 0 && "$numready" == "$desired" ]]; then
      pass "daemonset/promtail ready on $numready/$desired nodes"
    else
      fail "daemonset/promtail ready on ${numready:-0}/${desired:-0} nodes"
    fi
  else
    skip "pods (LOKI_URL is set, kubectl not used)"
  fi
fi

if enabled ready; then
  code="$(http_get /ready)"
  if [[ "$code" == 200 && "$(body)" == ready* ]]; then pass "/ready answers ready"; else fail "/ready answered $code: $(body) $(cat "$workdir/curl.err")"; fi
fi

if enabled buildinfo; then
  code="$(http_get /loki/api/v1/status/buildinfo)"
  if [[ "$code" == 200 ]] && grep -q '"version":"3\.' "$workdir/body"; then
    pass "buildinfo: $(body)"
  else
    fail "/loki/api/v1/status/buildinfo answered $code: $(body)"
  fi
fi

if enabled metrics; then
  code="$(http_get /metrics)"
  if [[ "$code" != 200 ]]; then
    fail "/metrics answered $code"
  else
    # Memory: Go's process collector (Loki) says process_resident_memory_bytes, prometheus-net
    # process_working_set_bytes; either shows the pod's resident set.
    for metric in loki_build_info loki_request_duration_seconds_count 'process_(resident_memory|working_set)_bytes'; do
      if grep -Eq "^${metric}[{ ]" "$workdir/body"; then pass "/metrics has $metric"; else fail "/metrics lacks $metric"; fi
    done
  fi
fi

if enabled labels; then
  code="$(http_get /loki/api/v1/labels)"
  if [[ "$code" != 200 ]]; then
    fail "/loki/api/v1/labels answered $code: $(body)"
  else
    for label in $expected_labels; do
      if grep -q "\"$label\"" "$workdir/body"; then pass "label $label is indexed"; else fail "label $label missing (is Promtail shipping?): $(body)"; fi
    done
  fi
fi

# push: LokiSharp acknowledges a JSON push with 204 (the line lands in {job="validate-loki"}).
# roundtrip: the same, then query_range finds the line within ROUNDTRIP_TIMEOUT seconds.
if enabled push || enabled roundtrip; then
  marker="validate-loki-$(date +%s)-$$-$RANDOM"
  now_ns="$(date +%s%N)"
  payload="{\"streams\":[{\"stream\":{\"job\":\"validate-loki\",\"namespace\":\"$namespace\"},\"values\":[[\"$now_ns\",\"$marker\"]]}]}"
  code="$(curl -sS -o "$workdir/body" -w '%{http_code}' --max-time 10 -H 'Content-Type: application/json' \
    --data-binary "$payload" "$LOKI_URL/loki/api/v1/push" 2>"$workdir/curl.err" || true)"
  pushed=false
  if [[ "$code" == 204 ]]; then
    pushed=true
    pass "push accepted"
  else
    fail "push answered $code (want 204): $(body)"
  fi

  if enabled roundtrip; then
    if [[ "$pushed" != true ]]; then
      fail "round trip: nothing to query, the push failed"
    else
      found=false
      start_ns=$((now_ns - 300000000000))
      deadline=$((SECONDS + roundtrip_timeout))
      while [[ $SECONDS -lt $deadline ]]; do
        code="$(curl -sS -G -o "$workdir/body" -w '%{http_code}' --max-time 10 "$LOKI_URL/loki/api/v1/query_range" \
          --data-urlencode "query={job=\"validate-loki\"} |= \"$marker\"" --data-urlencode "start=$start_ns" \
          --data-urlencode "limit=10" 2>"$workdir/curl.err" || true)"
        if [[ "$code" == 200 ]] && grep -qF "$marker" "$workdir/body"; then found=true; break; fi
        sleep 1
      done
      if [[ "$found" == true ]]; then pass "pushed line is queryable"; else fail "pushed line not found by query_range within ${roundtrip_timeout}s (last answer $code: $(body))"; fi
    fi
  fi
fi

echo "$failures failure(s)"
# Exit codes wrap at 256; cap so that many failures never read as success.
exit $((failures > 255 ? 255 : failures))
