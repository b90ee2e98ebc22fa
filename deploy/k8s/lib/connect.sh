# shellcheck shell=bash
# shellcheck disable=SC2154  # kubectl, namespace and workdir are set by the script that sources this file
# Shared by validate-loki.sh and test-loki-comprehensive.sh: reach LokiSharp at $LOKI_URL, or, when it is unset,
# through `kubectl port-forward svc/loki` (the caller's EXIT trap stops the tunnel via $pf_pid).
# Expects $kubectl, $namespace and $workdir to be set; sets $LOKI_URL (no trailing slash) and $pf_pid.

# connect_to_loki SCRIPT_NAME DEFAULT_LOCAL_PORT
connect_to_loki() {
  local script="$1" default_port="$2"
  if [[ -z "${LOKI_URL:-}" ]]; then
    if ! command -v "$kubectl" >/dev/null 2>&1; then
      echo "$script: set LOKI_URL or install $kubectl" >&2
      exit 1
    fi
    local port="${LOCAL_PORT:-$default_port}"
    "$kubectl" -n "$namespace" port-forward svc/loki "$port:3100" >"$workdir/port-forward.log" 2>&1 &
    pf_pid=$!
    LOKI_URL="http://127.0.0.1:$port"
    for _ in $(seq 1 30); do
      if curl -s -o /dev/null --max-time 1 "$LOKI_URL/ready"; then break; fi
      if ! kill -0 "$pf_pid" 2>/dev/null; then
        # Nothing can be checked without the tunnel: one failure, with kubectl's own reason.
        echo "FAIL kubectl port-forward svc/loki in $namespace: $(cat "$workdir/port-forward.log")"
        echo "1 failure(s)"
        exit 1
      fi
      sleep 0.5
    done
  fi
  LOKI_URL="${LOKI_URL%/}"
}
