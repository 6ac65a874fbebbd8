#!/usr/bin/env bash
# A one-node Ceph (mon + memstore osd + radosgw) on loopback: the S3 server the jobs transport is tested against
# (radosgw honours If-None-Match and real paging; no npm S3 server does). Measured recipe and its pitfalls:
# ../shared/reference/toolchain-notes.md §3.
#
#   scripts/s3-server.sh start [DIR]        start; prints endpoint=, access_key=, secret_key= when ready
#   scripts/s3-server.sh restart-rgw [DIR]  kill radosgw only and start it again on the same port (mon/osd keep the data)
#   scripts/s3-server.sh stop-rgw|start-rgw [DIR]   the two halves of restart-rgw, for an outage of chosen length
#   scripts/s3-server.sh stop [DIR]         kill the daemons whose pid files are in DIR, then remove DIR
#
# DIR (default /tmp/okesu-ceph) must be empty or absent for `start`. Ports: RGW_PORT (default 7480), MON_PORT
# (default 13300). With OWNER_PID set, a watchdog stops the server when that process is gone (a test run killed hard
# leaves no daemons behind). Runs as root (CI and this machine) or any user; daemons log to DIR/log, pid files in DIR/run.
# Only the key=value lines go to stdout; progress and failures go to stderr.
set -euo pipefail

CMD=${1:-}
D=${2:-/tmp/okesu-ceph}
RGW_PORT=${RGW_PORT:-7480}
MON_PORT=${MON_PORT:-13300}
C="$D/ceph.conf"
INSTALL_HINT='apt-get install -y radosgw ceph-mon ceph-osd   (or: bash scripts/install-test-deps.sh)'

die() { echo "s3-server: $*" >&2; exit 1; }

# The pid in FILE if it is a live ceph daemon (a recycled pid of some other process is never killed).
daemon_pid() {
  local pid comm
  pid=$(cat "$1" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  [[ $comm == ceph-mon || $comm == ceph-osd || $comm == radosgw ]] || return 1
  echo "$pid"
}

# Sends SIGTERM to the daemon of each pid file given, then waits (up to 10 s, then SIGKILL) for them to exit.
kill_daemons() {
  local f pid pids=()
  for f in "$@"; do
    [[ -e $f ]] || continue
    if pid=$(daemon_pid "$f"); then kill "$pid" 2>/dev/null || true; pids+=("$pid"); fi
    rm -f "$f"
  done
  for _ in $(seq 1 100); do
    local alive=0
    for pid in "${pids[@]}"; do [[ -d /proc/$pid ]] && alive=1; done
    [[ $alive == 0 ]] && return 0
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for_port() { # PORT SECONDS
  local deadline=$((SECONDS + $2))
  until curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

fail_start() {
  echo "s3-server: $1; last log lines:" >&2
  tail -n 20 "$D"/log/*.log >&2 2>/dev/null || true
  kill_daemons "$D"/run/*.pid
  exit 1
}

start_rgw() {
  radosgw -c "$C" -n client.rgw.a </dev/null >>"$D/log/rgw-start.log" 2>&1 || fail_start "radosgw did not start"
  wait_for_port "$RGW_PORT" 60 || fail_start "radosgw did not answer on 127.0.0.1:$RGW_PORT within 60 s"
}

write_conf() {
  local fsid=$1
  cat > "$C" <<CONF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$MON_PORT
mon initial members = a
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
# RGW creates several pools on first use; the default limit (250) can refuse them.
mon max pg per osd = 1000
mon allow pool size one = true
# The monitor batches map changes for 1 s by default; each pool RGW creates waits on a few of them (12.7 s → 3 s start).
paxos propose interval = 0.1
paxos min wait = 0.01
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
run dir = $D/run
log file = $D/log/\$name.log
admin socket = $D/run/\$name.asok
pid file = $D/run/\$name.pid
ms bind ipv6 = false
# With auth = none, radosgw loops on "get_initial_auth_request returned -13" unless every mode is crc.
ms mon client mode = crc
ms client mode = crc
ms mon service mode = crc
ms service mode = crc
ms cluster mode = crc
ms mon cluster mode = crc
rgw enable usage log = false
public addr = 127.0.0.1
erasure code dir = /usr/lib/$(uname -m)-linux-gnu/ceph/erasure-code
[mon.a]
mon data = $D/mon
[osd.0]
osd data = $D/osd0
osd objectstore = memstore
memstore device bytes = 1073741824
[client.rgw.a]
# Without tcp_nodelay every GET and LIST waits ~45 ms on Nagle.
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT tcp_nodelay=1
rgw data = $D/rgw
rgw dns name = 127.0.0.1
CONF
}

random_string() { # LENGTH CHARSET
  local s
  s=$(head -c 2048 /dev/urandom | LC_ALL=C tr -dc "$2" | head -c "$1") || true
  echo "$s"
}

start() {
  for bin in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph curl; do
    command -v "$bin" >/dev/null || die "$bin is not installed; install with: $INSTALL_HINT"
  done
  if [[ -e $D ]]; then
    [[ -d $D && -z $(ls -A "$D") ]] || die "$D exists and is not empty; stop the server there first or choose another DIR"
  fi
  port_in_use "$RGW_PORT" && die "port $RGW_PORT is already in use (set RGW_PORT)"
  port_in_use "$MON_PORT" && die "port $MON_PORT is already in use (set MON_PORT)"
  mkdir -p "$D"/{mon,osd0,rgw,run,log}
  local fsid osd_uuid access secret
  fsid=$(cat /proc/sys/kernel/random/uuid)
  write_conf "$fsid"
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$MON_PORT]" "$D/monmap" >/dev/null
  ceph-mon -c "$C" --mkfs -i a --monmap "$D/monmap" 2>>"$D/log/mkfs.log" || fail_start "ceph-mon --mkfs failed"
  ceph-mon -c "$C" -i a </dev/null >>"$D/log/mon-start.log" 2>&1 || fail_start "ceph-mon did not start (is MON_PORT $MON_PORT free?)"
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  timeout 30 ceph -c "$C" osd new "$osd_uuid" >/dev/null 2>>"$D/log/mkfs.log" || fail_start "the monitor did not answer"
  ceph-osd -c "$C" -i 0 --mkfs --osd-uuid "$osd_uuid" 2>>"$D/log/mkfs.log" || fail_start "ceph-osd --mkfs failed"
  ceph-osd -c "$C" -i 0 </dev/null >>"$D/log/osd-start.log" 2>&1 || fail_start "ceph-osd did not start"
  local up=0
  for _ in $(seq 1 120); do
    if timeout 10 ceph -c "$C" osd stat 2>/dev/null | grep -q "1 up"; then up=1; break; fi
    sleep 0.25
  done
  [[ $up == 1 ]] || fail_start "the osd did not come up within 30 s"
  access=$(random_string 20 'A-Z0-9')
  secret=$(random_string 40 'A-Za-z0-9')
  timeout 120 radosgw-admin -c "$C" user create --uid=okesu --display-name=okesu \
    --access-key="$access" --secret-key="$secret" >/dev/null 2>>"$D/log/mkfs.log" || fail_start "radosgw-admin user create failed"
  echo "RGW_PORT=$RGW_PORT" > "$D/ports"
  start_rgw
  if [[ -n ${OWNER_PID:-} ]]; then start_watchdog "$OWNER_PID"; fi
  echo "endpoint=http://127.0.0.1:$RGW_PORT"
  echo "access_key=$access"
  echo "secret_key=$secret"
}

# Stops the server once OWNER is gone; exits by itself once DIR is removed by a normal stop. Detached, with no
# inherited stdout, so whoever reads `start`'s output is not kept waiting.
start_watchdog() {
  setsid bash -c 'while kill -0 "$1" 2>/dev/null && [[ -d $2 ]]; do sleep 2; done; [[ -d $2 ]] && exec bash "$3" stop "$2"' \
    s3-watchdog "$1" "$D" "$(realpath "$0")" </dev/null >/dev/null 2>&1 &
}

rgw_conf() {
  [[ -f $C && -f $D/ports ]] || die "no server was started in $D"
  RGW_PORT=$(sed -n 's/^RGW_PORT=//p' "$D/ports")
}

stop() {
  [[ -d $D ]] || return 0
  [[ -f $C ]] || die "$D does not look like a server started by this script (no ceph.conf); not removing it"
  # radosgw first, then the osd, then the monitor, so none of them hangs on a peer that went away.
  kill_daemons "$D/run/client.rgw.a.pid"
  kill_daemons "$D/run/osd.0.pid"
  kill_daemons "$D"/run/*.pid
  rm -rf "$D"
}

case "$CMD" in
  start) start ;;
  stop-rgw) rgw_conf; kill_daemons "$D/run/client.rgw.a.pid" ;;
  start-rgw) rgw_conf; start_rgw ;;
  restart-rgw) rgw_conf; kill_daemons "$D/run/client.rgw.a.pid"; start_rgw ;;
  stop) stop ;;
  *) die "usage: $0 start|stop|restart-rgw|stop-rgw|start-rgw [DIR]" ;;
esac
