#!/usr/bin/env bash
# A throw-away single-node Ceph cluster serving S3 through the RADOS Gateway, for the object-storage tests.
#
#   rgw.sh start <dir> <port>   one monitor, one memstore OSD and radosgw (beast on 127.0.0.1:<port>), all under
#                               <dir>; prints ACCESS_KEY=... SECRET_KEY=... ENDPOINT=... once RGW answers HTTP
#   rgw.sh stop <dir>           kills the daemons start left pid files for; removes nothing
#
# With RGW_OWNER_PID set, start also leaves a watcher that stops the cluster once that process is gone, so a test
# run that crashes or is killed leaves no daemons behind.
#
# Nothing is written outside <dir>: data, keyrings, pid files, admin sockets and logs all live there. The monitor
# listens on a second free loopback port (picked here); the OSD takes ports from Ceph's 6800-7300 range, which
# several clusters on one machine share without conflict. Runs as root without systemd (the daemons fork).
# Needs the Debian packages radosgw, ceph-mon, ceph-osd and ceph-common.
set -euo pipefail

readonly ACCESS_KEY=LOKISHARPTESTACCESS0
readonly SECRET_KEY=lokisharp-test-secret-key-0000000000000000
readonly START_TIMEOUT=${RGW_START_TIMEOUT:-120}

die() {
  echo "rgw.sh: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 start <dir> <port> | stop <dir>" >&2
  exit 2
}

# A loopback TCP port nothing listens on, other than the ones given.
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 20000))
    if [ "$port" != "$1" ] && ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  die "no free loopback port found"
}

# The tail of a daemon's log, for the error message when it does not come up.
log_tail() {
  local log=$1
  if [ -f "$log" ]; then
    echo "--- last lines of $log:" >&2
    tail -n 20 "$log" >&2
  fi
}

write_conf() {
  local dir=$1 rgw_port=$2 mon_port=$3 fsid=$4
  cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = 127.0.0.1:$mon_port
public addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $dir/keyring
run dir = $dir/run
pid file = $dir/run/\$name.pid
# Daemons get fixed socket names (set below); command-line clients one per process.
admin socket = $dir/run/\$name.\$pid.asok
log file = $dir/log/\$name.log
log to stderr = false
err to stderr = false
crash dir = $dir/crash
mon cluster log file = $dir/log/cluster.log
# One OSD holds every copy: pools of size 1, small placement-group counts, no CRUSH host separation.
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
osd crush chooseleaf type = 0

[mon]
admin socket = $dir/run/\$name.asok
mon data = $dir/mon
mon initial members = a
# Commit map changes at once rather than batching them for a second: RGW creates its pools one after another.
paxos propose interval = 0.01
paxos min wait = 0.01

[osd]
admin socket = $dir/run/\$name.asok
osd data = $dir/osd
osd objectstore = memstore
osd journal = $dir/osd/journal
memstore device bytes = 536870912

[client.rgw.test]
admin socket = $dir/run/\$name.asok
rgw data = $dir/rgw
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
EOF
}

start() {
  local dir=$1 rgw_port=$2
  local tool
  for tool in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool curl; do
    command -v "$tool" >/dev/null || die "$tool not found: apt-get install radosgw ceph-mon ceph-osd ceph-common curl"
  done
  [ -n "$dir" ] || usage
  [[ "$rgw_port" =~ ^[0-9]+$ ]] || die "port must be a number: $rgw_port"
  [ ! -e "$dir/ceph.conf" ] || die "$dir already holds a cluster; stop it and use a fresh directory"

  mkdir -p "$dir"/{mon,osd,rgw,run,log,crash}
  dir=$(cd "$dir" && pwd)
  local conf=$dir/ceph.conf mon_port fsid osd_uuid
  mon_port=$(free_port "$rgw_port")
  fsid=$(cat /proc/sys/kernel/random/uuid)
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  write_conf "$dir" "$rgw_port" "$mon_port" "$fsid"

  # Every key in one keyring the monitor is created with, so no key has to be added through the running cluster.
  local keyring=$dir/keyring
  ceph-authtool --create-keyring "$keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool "$keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *' >/dev/null
  ceph-authtool "$keyring" --gen-key -n osd.0 \
    --cap mon 'allow profile osd' --cap osd 'allow *' --cap mgr 'allow profile osd' >/dev/null
  ceph-authtool "$keyring" --gen-key -n client.rgw.test --cap mon 'allow rw' --cap osd 'allow rwx' >/dev/null

  monmaptool --create --fsid "$fsid" --add a "127.0.0.1:$mon_port" "$dir/monmap" >/dev/null
  ceph-mon -c "$conf" -i a --mkfs --monmap "$dir/monmap" --keyring "$keyring" >/dev/null 2>&1 \
    || { log_tail "$dir/log/mon.a.log"; die "ceph-mon --mkfs failed"; }
  ceph-mon -c "$conf" -i a </dev/null >>"$dir/log/daemons.out" 2>&1 \
    || { log_tail "$dir/log/mon.a.log"; die "ceph-mon did not start"; }

  # Register the OSD with the monitor (this also waits for the monitor to answer), then create and start it.
  local id
  id=$(timeout 60 ceph -c "$conf" --connect-timeout 30 osd new "$osd_uuid" 2>>"$dir/log/daemons.out") \
    || { log_tail "$dir/log/mon.a.log"; die "the monitor did not answer on 127.0.0.1:$mon_port"; }
  [ "$id" = 0 ] || die "unexpected OSD id: $id"
  ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$osd_uuid" >/dev/null 2>&1 \
    || { log_tail "$dir/log/osd.0.log"; die "ceph-osd --mkfs failed"; }
  ceph-osd -c "$conf" -i 0 </dev/null >>"$dir/log/daemons.out" 2>&1 \
    || { log_tail "$dir/log/osd.0.log"; die "ceph-osd did not start"; }

  # RGW creates its pools itself and waits for them; it answers HTTP once its zone is initialised.
  radosgw -c "$conf" -n client.rgw.test </dev/null >>"$dir/log/daemons.out" 2>&1 \
    || { log_tail "$dir/log/client.rgw.test.log"; die "radosgw did not start"; }

  local deadline=$((SECONDS + START_TIMEOUT))
  until curl -s -o /dev/null "http://127.0.0.1:$rgw_port/"; do
    if ! running "$(cat "$dir/run/client.rgw.test.pid" 2>/dev/null)"; then
      log_tail "$dir/log/client.rgw.test.log"
      die "radosgw exited during start-up"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log_tail "$dir/log/client.rgw.test.log"
      die "radosgw did not answer on 127.0.0.1:$rgw_port within ${START_TIMEOUT}s"
    fi
    sleep 0.2
  done

  radosgw-admin -c "$conf" user create --uid=lokisharp-test --display-name="LokiSharp tests" \
    --access-key="$ACCESS_KEY" --secret="$SECRET_KEY" >/dev/null 2>>"$dir/log/daemons.out" \
    || { tail -n 20 "$dir/log/daemons.out" >&2; die "radosgw-admin user create failed"; }

  if [ -n "${RGW_OWNER_PID:-}" ]; then
    "$BASH" "$0" watch "$dir" "$RGW_OWNER_PID" </dev/null >/dev/null 2>&1 &
    echo "$!" >"$dir/run/watcher.pid"
  fi

  echo "ENDPOINT=http://127.0.0.1:$rgw_port"
  echo "ACCESS_KEY=$ACCESS_KEY"
  echo "SECRET_KEY=$SECRET_KEY"
}

# Whether a process exists and is not a zombie: in a container whose init does not reap, a killed daemon (which
# init inherited when it forked into the background) stays a zombie.
running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat:0:1}" != Z ]
}

# Stops the cluster in <dir> once process <owner> has exited (or the watcher is killed by stop).
watch() {
  local dir=$1 owner=$2
  while kill -0 "$owner" 2>/dev/null; do
    sleep 1
  done
  stop "$dir"
}

stop() {
  local dir=$1 name pid
  [ -d "$dir/run" ] || return 0
  dir=$(cd "$dir" && pwd)
  if [ -f "$dir/run/watcher.pid" ]; then
    pid=$(cat "$dir/run/watcher.pid")
    # The watcher itself may be what runs this stop; it is not killed then.
    if [ "$pid" != "$$" ] && grep -qF "$dir" "/proc/$pid/cmdline" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
    fi
  fi
  # Gateway first, monitor last, so no daemon waits on one already gone.
  for name in client.rgw.test osd.0 mon.a; do
    [ -f "$dir/run/$name.pid" ] || continue
    pid=$(cat "$dir/run/$name.pid")
    # Only a process of this cluster (its command line names this ceph.conf): a pid file left from an earlier
    # stop may name a pid the system has since given to someone else.
    grep -qF "$dir/ceph.conf" "/proc/$pid/cmdline" 2>/dev/null || continue
    # The data is thrown away: no clean shutdown (memstore would write every object to disk first).
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      running "$pid" || break
      sleep 0.1
    done
  done
}

case "${1:-}" in
  start)
    [ $# -eq 3 ] || usage
    start "$2" "$3"
    ;;
  stop)
    [ $# -eq 2 ] || usage
    stop "$2"
    ;;
  watch)
    [ $# -eq 3 ] || usage
    watch "$2" "$3"
    ;;
  *) usage ;;
esac
