#!/usr/bin/env bash
# Installs (or updates) LokiSharp, Promtail and the Grafana datasource into the jewelry-shop namespace.
# Idempotent: every object is `kubectl apply`-ed, so running it again only changes what differs; when the
# Loki or Promtail config changed, their pods are restarted so they read it.
#
#   ./install-loki.sh                         # apply and wait for the rollout
#   LOKI_IMAGE=registry/lokisharp:0.1.0 ./install-loki.sh
#   DRY_RUN=1 ./install-loki.sh               # kubectl apply --dry-run=server, nothing changes
#
# Environment: NAMESPACE (jewelry-shop), LOKI_IMAGE (keeps the manifest's lokisharp:latest when unset),
# KUBECTL (kubectl), ROLLOUT_TIMEOUT (300s), DRY_RUN (unset).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
namespace="${NAMESPACE:-jewelry-shop}"
kubectl="${KUBECTL:-kubectl}"
timeout="${ROLLOUT_TIMEOUT:-300s}"
dry_run=()
if [[ -n "${DRY_RUN:-}" ]]; then
  dry_run=(--dry-run=server)
fi

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*"; }

if ! command -v "$kubectl" >/dev/null 2>&1; then
  echo "install-loki.sh: $kubectl not found in PATH" >&2
  exit 1
fi

# The manifests name the namespace; it normally exists already (the shop runs there), create it if not.
if ! "$kubectl" get namespace "$namespace" >/dev/null 2>&1; then
  log "creating namespace $namespace"
  "$kubectl" create namespace "$namespace" "${dry_run[@]}"
fi

# Applies one file; prints kubectl's lines and returns 0 if something was created or changed, 1 if not.
apply() {
  local output
  output="$("$kubectl" apply -n "$namespace" -f "$here/$1" "${dry_run[@]}")"
  printf '%s\n' "$output"
  grep -Eq ' (created|configured)' <<<"$output"
}

log "applying Promtail RBAC"
apply promtail-rbac.yaml || true

loki_config_changed=false
log "applying LokiSharp config, rules, storage, Service and Deployment"
if apply loki-configmap.yaml; then loki_config_changed=true; fi
# The rules are a mounted folder the ruler reads again every poll_interval: a change needs no restart.
apply loki-rules.yaml || true
loki_deployment_changed=false
if apply loki-deployment.yaml; then loki_deployment_changed=true; fi

if [[ -n "${LOKI_IMAGE:-}" ]]; then
  log "using image $LOKI_IMAGE"
  "$kubectl" -n "$namespace" set image deployment/loki "loki=$LOKI_IMAGE" "${dry_run[@]}"
fi

promtail_config_changed=false
log "applying Promtail config and DaemonSet"
if apply promtail-configmap.yaml; then promtail_config_changed=true; fi
promtail_daemonset_changed=false
if apply promtail-daemonset.yaml; then promtail_daemonset_changed=true; fi

log "applying the Grafana datasource"
apply loki-datasource.yaml || true

if [[ ${#dry_run[@]} -gt 0 ]]; then
  log "dry run: nothing was changed"
  exit 0
fi

# A changed ConfigMap is not noticed by running pods (LokiSharp reads its file once); restart them unless
# the Deployment/DaemonSet itself changed, which already rolls new pods.
if [[ "$loki_config_changed" == true && "$loki_deployment_changed" == false ]]; then
  log "LokiSharp config changed: restarting deployment/loki"
  "$kubectl" -n "$namespace" rollout restart deployment/loki
fi
if [[ "$promtail_config_changed" == true && "$promtail_daemonset_changed" == false ]]; then
  log "Promtail config changed: restarting daemonset/promtail"
  "$kubectl" -n "$namespace" rollout restart daemonset/promtail
fi

log "waiting for deployment/loki (a long WAL replay can take a while)"
"$kubectl" -n "$namespace" rollout status deployment/loki --timeout="$timeout"
log "waiting for daemonset/promtail"
"$kubectl" -n "$namespace" rollout status daemonset/promtail --timeout="$timeout"

log "installed. Check it with: $here/validate-loki.sh"
