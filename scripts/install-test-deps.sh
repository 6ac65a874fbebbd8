#!/usr/bin/env bash
# Installs what `npm test` needs beyond Node when it is missing (Debian/Ubuntu, as root: CI and the dev machine).
# Idempotent and quick when everything is there: one `command -v` per tool, and `apt-get update` only when something
# has to be installed. The README's test command and .ci/run call it.
set -euo pipefail

# command (or absolute path, for tools outside a user's PATH) → Debian package. Add later tools here, one line each.
NEEDS=(
  "tmux tmux"            # the console's end-to-end tests drive `okesu console` in tmux
  "radosgw radosgw"      # the jobs transport's S3 tests run against a one-node Ceph (scripts/s3-server.sh)
  "ceph-mon ceph-mon"
  "ceph-osd ceph-osd"
  "curl curl"            # scripts/s3-server.sh waits for radosgw with it
  "/usr/sbin/sshd openssh-server"  # `okesu deploy`'s tests run a real sshd on loopback (test/support/sshd.ts)
  "systemd-analyze systemd"        # the printed unit is checked with `systemd-analyze verify` (not run as init)
  "python3 python3"                # the printed launchd plist is parsed with plistlib
  "zsh zsh"                        # `okesu completion zsh|fish` are loaded and run in the real shells
  "fish fish"
  "/usr/sbin/nats-server nats-server"  # the replicated CP's bus (test/support/nats-server.ts, one per run)
  "/usr/sbin/haproxy haproxy"          # replicas behind a TCP load balancer (test/support/haproxy.ts)
  "/usr/lib/postgresql postgresql" # the store's PostgreSQL tests (test/support/postgres-server.ts runs its initdb)
  "/usr/bin/promtool prometheus"   # /metrics is scraped by a real Prometheus; promtool checks the example alert rules
)

missing=()
for need in "${NEEDS[@]}"; do
  read -r cmd pkg <<<"$need"
  if [[ $cmd == /usr/lib/postgresql ]]; then compgen -G "$cmd/*/bin/initdb" >/dev/null || missing+=("$pkg")
  elif [[ $cmd == /* ]]; then [[ -x $cmd ]] || missing+=("$pkg")
  else command -v "$cmd" >/dev/null || missing+=("$pkg"); fi
done
[[ ${#missing[@]} == 0 ]] && exit 0

echo "install-test-deps: installing ${missing[*]}" >&2
SUDO=()
if [[ $(id -u) != 0 ]]; then
  command -v sudo >/dev/null || { echo "install-test-deps: run as root, or install: apt-get install -y ${missing[*]}" >&2; exit 1; }
  SUDO=(sudo)
fi
command -v apt-get >/dev/null || { echo "install-test-deps: no apt-get here; install by hand: ${missing[*]}" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
