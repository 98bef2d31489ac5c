#!/usr/bin/env bash
# Per-job time of one warm worker on the jobs in examples/: each job is
# pushed N times (default 20) with a fresh id, one at a time, after a
# warm-up. Prints, per example, the median and p90 of the worker's own
# pickup-to-result time (timings.totalMs: render + upload + CDN check +
# result) and of the producer's LPUSH-to-result time (with the cost of
# starting `empplay submit`).
#
#   scripts/bench-worker.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
n=${1:-20}

. scripts/lib.sh
start_services
LOG_FORMAT=json bin/empplay worker >"$tmp/worker.log" 2>&1 &
pids+=($!)

# median and p90 of the numbers on stdin
stats() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; p=a[int(0.9*NR+0.999)]; printf "%8.1f %8.1f", m, p}'; }

submit() { # file id -> "totalMs wallMs"
  local t0 t1 out
  t0=$(date +%s%N)
  # The examples name the local default CDN; this run's Azurite is on
  # another port (as in demo.sh).
  out=$(sed -e "s|http://127.0.0.1:10000/devstoreaccount1|$CDN_URI|g" -e "0,/{/s//{\"id\":\"$2\",/" "$1" |
    bin/empplay submit --wait --timeout 120s - 2>/dev/null)
  t1=$(date +%s%N)
  printf '%s %s\n' "$(printf '%s' "$out" | sed -n 's/^    "totalMs": \([0-9.]*\).*/\1/p')" "$(( (t1 - t0) / 1000000 ))"
}

run=$(date +%s)
for f in examples/*.json; do submit "$f" "warm-$run-$(basename "$f")" >/dev/null; done

printf '%-22s %5s %17s %17s\n' example n "worker ms p50/p90" "e2e ms p50/p90"
for f in examples/*.json; do
  name=$(basename "$f" .json)
  : >"$tmp/$name.txt"
  for i in $(seq 1 "$n"); do submit "$f" "bench-$run-$name-$i" >>"$tmp/$name.txt"; done
  printf '%-22s %5d %s  %s\n' "$name" "$n" "$(cut -d' ' -f1 "$tmp/$name.txt" | stats)" "$(cut -d' ' -f2 "$tmp/$name.txt" | stats)"
done
