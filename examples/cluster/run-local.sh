#!/usr/bin/env bash
# A replicated Okesu control plane on one machine, in a temp dir: PostgreSQL (the store), nats-server (the bus), two
# replicas and HAProxy in front (examples/cluster/haproxy.cfg). Ctrl-C stops everything it started and removes the dir.
#
#   bash examples/cluster/run-local.sh          # then, in another shell, the commands it prints
#
# Needs: postgresql (initdb, pg_ctl), nats-server and haproxy (Debian: apt-get install postgresql nats-server haproxy),
# and okesu on PATH (or run from a built checkout: it falls back to node dist/okesu.js). As root, PostgreSQL runs as
# the postgres user. Ports come from the environment (defaults below); everything listens on 127.0.0.1 only.
set -euo pipefail

BALANCER_PORT="${BALANCER_PORT:-8443}"
REPLICA_A_PORT="${REPLICA_A_PORT:-8441}"
REPLICA_B_PORT="${REPLICA_B_PORT:-8442}"
PG_PORT="${PG_PORT:-55432}"
NATS_PORT="${NATS_PORT:-54222}"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ -n "${OKESU:-}" ]]; then
  read -r -a okesu <<<"$OKESU"
elif command -v okesu >/dev/null; then
  okesu=(okesu)
else
  okesu=(node "$here/../../dist/okesu.js")
fi
pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[[ -x "$pg_bin/initdb" ]] || { echo "no PostgreSQL server found under /usr/lib/postgresql (apt-get install postgresql)" >&2; exit 1; }
for tool in nats-server haproxy; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed (apt-get install $tool)" >&2; exit 1; }
done

work="$(mktemp -d /tmp/okesu-cluster-XXXXXX)"
# The postgres user must reach $work/pg (mktemp makes the dir 0700); what is secret inside stays 0600/0700.
chmod 711 "$work"
pids=()
# PostgreSQL refuses to run as root: as root, its files belong to the postgres user and it runs as that user.
as_pg=()
if [[ "$(id -u)" == 0 ]]; then
  as_pg=(runuser -u postgres --)
fi

cleanup() {
  trap - EXIT INT TERM
  echo "stopping…" >&2
  # Balancer first, then the replicas, then the bus; only the processes this script started.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [[ -d "$work/pg/data" ]]; then
    "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/pg/data" -m fast stop >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "working in $work" >&2

# 1. PostgreSQL: a throwaway server and one database for the cluster.
mkdir -p "$work/pg"
if [[ ${#as_pg[@]} -gt 0 ]]; then
  chown postgres: "$work/pg"
fi
"${as_pg[@]}" "$pg_bin/initdb" -D "$work/pg/data" --auth=trust -U postgres -E UTF8 --locale=C >/dev/null
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/pg/data" -l "$work/pg/log" -w \
  -o "-p $PG_PORT -k $work/pg -c listen_addresses=127.0.0.1" start >/dev/null
"${as_pg[@]}" "$pg_bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres okesu
store="postgres://postgres@127.0.0.1:$PG_PORT/okesu"

# 2. NATS with JetStream: the bus the replicas tell each other things on.
nats-server -js -a 127.0.0.1 -p "$NATS_PORT" -sd "$work/nats" >"$work/nats.log" 2>&1 &
pids+=("$!")
bus="nats://127.0.0.1:$NATS_PORT"

# 3. The cluster key: every replica gets the same file; it seals the CA and server keys in the store.
"${okesu[@]}" cp cluster-key --out "$work/cluster.key" >/dev/null 2>&1

# 4. Two replicas. The first to start creates the CA, the server certificate and the first admin token in the store;
#    the other joins. The certificate names the balancer (--san), and admin.yaml points at it (--advertise-url).
start_replica() {
  local id="$1" port="$2"
  "${okesu[@]}" cp serve --state "$work/$id" --listen "127.0.0.1:$port" \
    --store "$store" --bus "$bus" --cluster-key-file "$work/cluster.key" \
    --replica-id "$id" --replica-url "https://127.0.0.1:$port" \
    --san 127.0.0.1 --advertise-url "https://127.0.0.1:$BALANCER_PORT" \
    --trusted-proxy 127.0.0.1 \
    --log-level warn >"$work/$id.log" 2>&1 &
  pids+=("$!")
}
start_replica replica-a "$REPLICA_A_PORT"
start_replica replica-b "$REPLICA_B_PORT"

# 5. HAProxy in front, from the example config with this run's ports.
sed -e "s/bind :8443/bind 127.0.0.1:$BALANCER_PORT/" \
  -e "s/127.0.0.1:8441/127.0.0.1:$REPLICA_A_PORT/" \
  -e "s/127.0.0.1:8442/127.0.0.1:$REPLICA_B_PORT/" \
  "$here/haproxy.cfg" >"$work/haproxy.cfg"
haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
pids+=("$!")

# Ready when both replicas say they listen. admin.yaml is in the state dir of the replica that made the first admin token.
all_running() {
  local pid
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || return 1
  done
}
for id in replica-a replica-b; do
  until grep -q 'control plane on https://' "$work/$id.log" 2>/dev/null; do
    if ! all_running; then
      echo "a process exited early; logs in $work:" >&2
      tail -n 20 "$work"/*.log >&2 || true
      exit 1
    fi
    sleep 0.1
  done
done
admin=""
for id in replica-a replica-b; do
  [[ -f "$work/$id/admin.yaml" ]] && admin="$work/$id/admin.yaml" && break
done
[[ -n "$admin" ]] || { echo "no admin.yaml was written; logs in $work" >&2; exit 1; }

cat <<EOT
okesu cluster ready: balancer https://127.0.0.1:$BALANCER_PORT, replicas :$REPLICA_A_PORT and :$REPLICA_B_PORT
  export OKESU_CONFIG=$admin
  okesu cp replicas
  JOIN=\$(okesu token create --join)
  okesu daemon --cp https://127.0.0.1:$BALANCER_PORT --token "\$JOIN" --state /tmp/okesu-daimon-1 --hostname demo-1
  kill -9 <pid of a replica>        # its daimons reconnect through the balancer to the other one
logs: $work/*.log     Ctrl-C stops everything
EOT

# Until Ctrl-C (or until any of the processes exits).
wait -n "${pids[@]}" || true
echo "a process exited; logs:" >&2
tail -n 20 "$work"/*.log >&2 || true
exit 1
