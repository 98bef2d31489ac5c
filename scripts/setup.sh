#!/usr/bin/env bash
# Installs everything empplay needs on Debian 12 and builds the binary.
# Idempotent: a second run installs nothing and only rebuilds what changed.
#
#   scripts/setup.sh            # apt packages, npm packages, p5 assets, bin/empplay
#
# Needs Go (1.26+) and Node.js (20+) with npm, and root (or sudo) for apt.
set -euo pipefail
cd "$(dirname "$0")/.."
# go-nvml's cgo prologue calls deprecated NVML functions; the warnings are noise.
export CGO_CFLAGS="${CGO_CFLAGS:--O2 -g -Wno-deprecated-declarations}"

APT_PACKAGES=(
  chromium-headless-shell # the browser every worker drives
  chromium            # the full browser: the peers' benchmarks and a test that compares the two
  redis-server        # tests, demo and local default queue
  redis-tools         # redis-cli builds the Cluster in tests
  ffmpeg              # video jobs
  curl                # demo downloads
  gcc                 # cgo: go test -race, and go-nvml in bin/empplay
  systemd             # systemd-analyze verifies the unit file in tests
  fonts-noto-cjk fonts-noto-color-emoji fonts-dejavu-core fonts-liberation2
)

log() { printf '\033[1msetup:\033[0m %s\n' "$*" >&2; }

need_cmd() {
  command -v "$1" >/dev/null 2>&1 || { log "$1 not found: $2"; exit 2; }
}
need_cmd go "install Go 1.26 or newer (https://go.dev/doc/install) and put it on PATH"
need_cmd node "install Node.js 20 or newer with npm"
need_cmd npm "install npm"

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# Installing redis-server or prometheus starts (and enables) a system
# service: a Redis on 6379, a Prometheus on 9090. empplay's tests and demo
# start their own on free ports, so while set-up installs packages a
# policy-rc.d keeps services from starting, and the ones it installed are
# left disabled. The guard is removed however the script ends.
policy_guard=""
unguard() {
  [ -z "$policy_guard" ] || $SUDO rm -f /usr/sbin/policy-rc.d
  policy_guard=""
}
trap unguard EXIT
guard() {
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    policy_guard=1
  fi
}
leave_disabled() {
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now "$@" >/dev/null 2>&1 || true
  fi
}

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing apt packages: ${missing[*]}"
  $SUDO apt-get update -qq
  guard
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  unguard
  for p in "${missing[@]}"; do
    [ "$p" != redis-server ] || leave_disabled redis-server
  done
fi

# promtool (tests check /metrics with it) ships in Debian's prometheus
# package.
if ! command -v promtool >/dev/null 2>&1; then
  log "installing promtool (Debian package prometheus, service left disabled)"
  guard
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null \
    || { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }
  unguard
  leave_disabled prometheus
fi

# npm ci only when the lockfile changed since the last install.
stamp=node_modules/.empplay-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "installing npm packages (p5.js, azurite, acorn) from package-lock.json"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi

# The TypeScript client's dependency (ioredis), the same way.
client=clients/typescript
stamp=$client/node_modules/.empplay-lock.sha256
want=$(sha256sum "$client/package-lock.json" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "installing the TypeScript client's npm packages (ioredis) from $client/package-lock.json"
  npm ci --prefix "$client" --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi

# p5 builds are embedded into the binary from assets/p5 (never committed).
copy_if_changed() {
  cmp -s "$1" "$2" 2>/dev/null || { cp "$1" "$2"; log "bundled $2"; }
}
copy_if_changed node_modules/p5v1/lib/p5.min.js assets/p5/p5-1.min.js
copy_if_changed node_modules/p5v2/lib/p5.min.js assets/p5/p5-2.min.js

version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
commit=$(git rev-parse HEAD 2>/dev/null || true)
built=$(date -u ${SOURCE_DATE_EPOCH:+-d @$SOURCE_DATE_EPOCH} +%Y-%m-%dT%H:%M:%SZ)
go build -trimpath -ldflags "-X main.version=$version -X main.commit=$commit -X main.date=$built" -o bin/empplay ./cmd/empplay
log "built bin/empplay ($version)"
