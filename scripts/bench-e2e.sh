#!/usr/bin/env bash
# End-to-end figures of a render host: real Redis and Azurite on loopback
# and `empplay supervise` with 1, then 2 workers; a mix of N jobs (p5 2D,
# animated, WEBGL and text sketches, js pages to PNG and to PNG+HTML) pushed
# with LPUSH, CONCURRENCY outstanding at a time (default: one per worker,
# so the queue figure is the hand-over, not a backlog; 0 pushes them all at
# once). Prints per worker count: jobs/s, p50/p95 from LPUSH to the result,
# each stage's p50/p95/mean (from the job log), and the non-browser
# overhead: queue (LPUSH to pickup) + upload + verify + result (stored to
# received). Everything it starts is stopped by pid.
#
#   scripts/bench-e2e.sh [N] [WORKER_COUNTS]      (default 36 "1 2")
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
n=${1:-36}
counts=${2:-1 2}

. scripts/lib.sh
start_services
export EMPPLAY_PROFILE_DIR="$tmp/profiles" LOG_FORMAT=json

ready_count() { curl -fsS "http://$addr/readyz" 2>/dev/null | grep -o '"workersReady":[0-9]*' | cut -d: -f2 || echo 0; }
wait_ready() { # n log -> waits until n workers are ready
  for _ in $(seq 1 1500); do
    [ "$(ready_count)" = "$1" ] && return 0
    sleep 0.04
  done
  echo "workers not ready within a minute; supervisor log:" >&2
  tail -n 30 "$2" >&2
  return 1
}

for w in $counts; do
  addr="127.0.0.1:$(free_port)"
  log="$tmp/supervise-$w.log"
  bin/empplay supervise --workers "playwright:$w" --http-addr "$addr" 2>"$log" &
  sup=$!
  pids+=("$sup")
  wait_ready "$w" "$log"
  conc=${CONCURRENCY:-$w}
  # One job of each kind first: tabs, fonts and shader caches warm.
  node scripts/bench-e2e.mjs run --count 6 --workers "$w" --concurrency "$w" --log "$log" >/dev/null
  node scripts/bench-e2e.mjs run --count "$n" --workers "$w" --concurrency "$conc" --log "$log" >>"$tmp/rows.jsonl"
  kill -TERM "$sup"
  wait "$sup" || true # its log is complete once it exited
done

printf 'bench-e2e: %d CPUs, load average %s, %s, %s\n' "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" \
  "$(bin/empplay version | head -n 1)" "$("${CHROMIUM_PATH:-/usr/lib/chromium/chromium-headless-shell}" --version 2>/dev/null || echo chromium)"
node scripts/bench-e2e.mjs report "$tmp/rows.jsonl"
