# shellcheck shell=bash
# Shared by the perf scripts (sourced): a private config, a Release build and waiting for /ready.

# perf_args [TREE] [PORT]: the scripts' common arguments and settings, as globals: tree (default: this checkout), port
# (default 3300), shared (SHARED, default: ../shared next to the tree) and mb (MB, default 512).
perf_args() {
  # shellcheck disable=SC2034 # read by the sourcing script
  tree=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)} port=${2:-3300}
  # shellcheck disable=SC2034
  shared=${SHARED:-$(cd "$tree/.." && pwd)/shared} mb=${MB:-512}
}

# perf_config DIR PORT: writes DIR/loki.yaml, the reference config on http PORT, grpc PORT+1 and data under DIR/data.
# Fails when either port already has a listener (a server still shutting down from an earlier run): /ready would then
# be answered by that server while the measured process has died on its bind.
perf_config() {
  local busy
  for busy in "$2" $(($2 + 1)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$busy") 2>/dev/null; then
      echo "port $busy is already in use: stop what listens there or pick another port" >&2
      return 1
    fi
  done
  sed -e "s/http_listen_port: 3300/http_listen_port: $2/" -e "s/grpc_listen_port: 9300/grpc_listen_port: $(($2 + 1))/" \
      -e "s#path_prefix: ./data#path_prefix: $1/data#" "$(dirname "${BASH_SOURCE[0]}")/loki-perf.yaml" >"$1/loki.yaml"
}

# perf_build TREE OUT LOG: a Release build of TREE's server into OUT; on failure prints the log's tail and fails.
perf_build() {
  dotnet build -c Release "$1/src/Server" -o "$2" -v q -nologo >"$3" 2>&1 || { tail -30 "$3"; return 1; }
}

# perf_server DIR: sets bin to BIN when given (a server built already), else builds the tree's server into DIR/bin.
perf_server() {
  bin=${BIN:-$1/bin}
  if [ -z "${BIN:-}" ]; then
    perf_build "$tree" "$bin" "$1/build.log"
  fi
}

# perf_start BIN DIR [ARGS...]: starts BIN's server in the background on DIR/loki.yaml with ARGS, logging to
# DIR/server.log, in the runtime environment `dotnet run` gives the tree's server (the environmentVariables of
# src/Server/Properties/launchSettings.json, which the Dockerfile's ENV repeats for the image: DOTNET_ReadyToRun=0, see
# the README's performance section) plus SERVER_ENV ("K=V K2=V2", later ones win: SERVER_ENV=DOTNET_ReadyToRun=1
# measures without it); sets pid.
perf_start() {
  local bin=$1 dir=$2 launch extra
  shift 2
  mapfile -t launch < <(python3 -c 'import json, sys
for profile in json.load(open(sys.argv[1]))["profiles"].values():
    for name, value in profile.get("environmentVariables", {}).items():
        print(f"{name}={value}")' "$tree/src/Server/Properties/launchSettings.json")
  read -r -a extra <<<"${SERVER_ENV:-}"
  env "${launch[@]}" "${extra[@]}" dotnet "$bin/lokisharp.dll" -config.file="$dir/loki.yaml" "$@" \
    >"$dir/server.log" 2>&1 &
  # shellcheck disable=SC2034 # read by the sourcing script
  pid=$!
}

# perf_wait_ready PORT [LOG]: up to 60 s for the server's /ready; fails (showing LOG's tail, if given) when it never comes.
perf_wait_ready() {
  for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$1/ready" >/dev/null && return 0; sleep 0.3; done
  echo "the server on port $1 did not become ready" >&2
  if [ -n "${2:-}" ]; then tail -20 "$2" >&2; fi
  return 1
}
