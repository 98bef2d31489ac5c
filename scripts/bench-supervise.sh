#!/usr/bin/env bash
# Supervisor figures on this host: cold start of `empplay supervise` until
# all workers report ready (ROUNDS runs, default 5), restart latency after a
# worker is killed with SIGKILL (until the slot reports ready again), and
# idle memory of the supervisor and of one worker with its Chromium.
#
#   scripts/bench-supervise.sh [ROUNDS] [WORKERS]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
rounds=${1:-5}
workers=${2:-2}

. scripts/lib.sh
start_services
export EMPPLAY_PROFILE_DIR="$tmp/profiles" LOG_FORMAT=json

ms() { echo $(( $(date +%s%N) / 1000000 )); }
ready_count() { curl -fsS "http://$addr/readyz" 2>/dev/null | grep -o '"workersReady":[0-9]*' | cut -d: -f2 || echo 0; }
wait_ready() { # n -> waits until n workers are ready
  for _ in $(seq 1 3000); do
    [ "$(ready_count)" = "$1" ] && return 0
    sleep 0.02
  done
  echo "workers not ready within a minute; supervisor log:" >&2
  tail -n 30 "$tmp/supervise.log" >&2
  return 1
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }

: >"$tmp/cold"; : >"$tmp/restart"
for r in $(seq 1 "$rounds"); do
  addr="127.0.0.1:$(free_port)"
  t0=$(ms)
  bin/empplay supervise --workers "playwright:$workers" --http-addr "$addr" 2>>"$tmp/supervise.log" &
  sup=$!
  pids+=($sup)
  wait_ready "$workers"
  echo $(( $(ms) - t0 )) >>"$tmp/cold"

  if [ "$r" = 1 ]; then
    sleep 3 # settle, then read idle memory
    sup_rss=$(awk '/VmRSS/ {print $2}' "/proc/$sup/status")
    worker_bytes=$(curl -fsS "http://$addr/metrics" | awk '/^empplay_worker_memory_bytes\{slot="0"\}/ {print $2}')
  fi

  victim=$(curl -fsS "http://$addr/readyz" | grep -o '"PID":[0-9]*' | head -1 | cut -d: -f2)
  t0=$(ms)
  kill -KILL "$victim"
  for _ in $(seq 1 500); do [ "$(ready_count)" -lt "$workers" ] && break; sleep 0.01; done
  wait_ready "$workers"
  echo $(( $(ms) - t0 )) >>"$tmp/restart"

  kill -TERM "$sup"
  wait "$sup" || true
done

printf 'rounds %d, %d workers (load average %s)\n' "$rounds" "$workers" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'cold start to all workers ready   median %5d ms  (runs: %s)\n' "$(median <"$tmp/cold")" "$(tr '\n' ' ' <"$tmp/cold")"
printf 'restart after kill -9 to ready     median %5d ms  (runs: %s)\n' "$(median <"$tmp/restart")" "$(tr '\n' ' ' <"$tmp/restart")"
printf 'idle memory: supervisor %d MiB RSS; one worker with its Chromium %d MiB (summed PSS)\n' \
  $((sup_rss / 1024)) "$(awk -v b="$worker_bytes" 'BEGIN {printf "%d", b/1048576}')"
