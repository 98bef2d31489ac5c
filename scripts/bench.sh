#!/usr/bin/env bash
# empplay against the peer baselines in ../shared/peers, on the same machine
# in the same run (issue #5).
#
# Static: the peers' own 800x800 sketch (sketches/static-2000-ellipses.js),
# ROUNDS interleaved rounds of COUNT jobs per contender, the order rotated
# each round:
#   - playwright-peer.mjs (one browser, a context per job; renders only),
#   - puppeteer-launch-per-job.mjs (a browser per job; renders only),
#   - empplay end to end through ONE warm `empplay worker`: COUNT jobs
#     LPUSHed at once (fresh ids), timed from the first LPUSH until the last
#     result is stored, which the worker does only after the upload to
#     Azurite and the check that its CDN URL serves it.
# jobs/s is COUNT / that wall time; p50/p90 are per job, pickup -> PNG bytes
# (the peers' "start -> PNG"; empplay's timings.renderMs). The ratios are
# taken within each round, then their median is reported.
#
# Mix: each sketch in examples/bench/ (static 2D, animated 2D captured at
# frame 30, WEBGL with a shader, text in Latin/CJK/emoji, heavy pixels),
# MIX_COUNT jobs through playwright-peer.mjs then through empplay.
#
#   scripts/bench.sh [COUNT [ROUNDS]]          (make bench)
#   env: COUNT (30), ROUNDS (3), MIX_COUNT (10; 0 skips the mix),
#        PEER_WARMUP (2: uncounted jobs each peer renders first),
#        PEERS_DIR (default: ../shared/peers beside the repo),
#        CHROMIUM_PATH (empplay's browser, default its own default, Debian's
#          /usr/lib/chromium/chromium-headless-shell),
#        PEER_CHROMIUM (the peers' browser, default the full
#          /usr/lib/chromium/chromium that their design names)
#
# Ends with machine-readable lines:
#   RESULT bench static ratio_jobs_per_s=... ratio_p50=... target_met=yes|no ...
#   RESULT bench mix-<sketch> ratio_jobs_per_s=... ratio_p50=...
# Exits 1 when a job failed or a contender could not run, 2 on a missing
# prerequisite. Everything it starts is stopped (by pid) when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

count=${1:-${COUNT:-30}}
rounds=${2:-${ROUNDS:-3}}
mix_count=${MIX_COUNT:-10}
peer_warmup=${PEER_WARMUP:-2}
for v in count rounds mix_count peer_warmup; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "bench: $v must be a whole number, got '${!v}'" >&2; exit 2; }
done
((count > 0 && rounds > 0)) || { echo "bench: COUNT and ROUNDS must be at least 1" >&2; exit 2; }

PEERS_DIR=${PEERS_DIR:-$(dirname "$repo")/shared/peers}
CHROMIUM_PATH=${CHROMIUM_PATH:-/usr/lib/chromium/chromium-headless-shell}
PEER_CHROMIUM=${PEER_CHROMIUM:-/usr/lib/chromium/chromium}
peer_sketch=$PEERS_DIR/sketches/static-2000-ellipses.js
if [ ! -f "$PEERS_DIR/playwright-peer.mjs" ] || [ ! -f "$PEERS_DIR/puppeteer-launch-per-job.mjs" ] || [ ! -f "$peer_sketch" ]; then
  echo "bench: the peer baselines are not in $PEERS_DIR (playwright-peer.mjs, puppeteer-launch-per-job.mjs, sketches/); set PEERS_DIR" >&2
  exit 2
fi
# Set-up first: it installs the Chromium checked for below.
scripts/setup.sh >/dev/null
[ -x "$CHROMIUM_PATH" ] || { echo "bench: no Chromium at $CHROMIUM_PATH (set CHROMIUM_PATH)" >&2; exit 2; }
[ -x "$PEER_CHROMIUM" ] || { echo "bench: no Chromium for the peers at $PEER_CHROMIUM (set PEER_CHROMIUM)" >&2; exit 2; }
if [ ! -d "$PEERS_DIR/node_modules/playwright-core" ] || [ ! -d "$PEERS_DIR/node_modules/puppeteer-core" ] ||
  [ ! -d "$PEERS_DIR/node_modules/p5" ]; then
  echo "bench: installing the peers' npm packages in $PEERS_DIR" >&2
  (cd "$PEERS_DIR" && npm ci --no-audit --no-fund --loglevel=error) >&2
fi
cmp -s "$peer_sketch" examples/bench/static-2d.js ||
  echo "bench: note: examples/bench/static-2d.js differs from $peer_sketch (the static rounds use the peer's file)" >&2

. scripts/lib.sh
start_services
export EMPPLAY_PROFILE_DIR=$tmp/profiles BENCH_RUN=$(date +%s)
rows=$tmp/rows.jsonl
: >"$rows"

# Runs "$@" in the background with its pid in lib.sh's cleanup list (so an
# interrupt stops it too), waits for it, and takes the pid off the list.
run_tracked() {
  "$@" &
  local pid=$! status=0
  pids+=("$pid")
  wait "$pid" || status=$?
  local keep=() p
  for p in "${pids[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  pids=("${keep[@]}")
  return "$status"
}

# A directory of n job files {"type":"p5","code":...,"width":800,"height":800}
# for the peers' --jobs.
jobs_dir() { # sketch n dir
  mkdir -p "$3"
  node -e 'const fs=require("fs"); const [s,n,d]=process.argv.slice(1);
    const job=JSON.stringify({type:"p5",code:fs.readFileSync(s,"utf8"),width:800,height:800});
    for(let i=0;i<+n;i++) fs.writeFileSync(`${d}/job-${String(i).padStart(3,"0")}.json`, job);' "$1" "$2" "$3"
}

peer() { # who section name round sketch n
  local who=$1 section=$2 name=$3 round=$4 sketch=$5 n=$6 script log=$tmp/$1-$2-$3-$4.log
  case $who in
    playwright) script=playwright-peer.mjs ;;
    puppeteer) script=puppeteer-launch-per-job.mjs ;;
  esac
  local dir=$tmp/jobs/$section-$name-$n
  [ -d "$dir" ] || jobs_dir "$sketch" "$n" "$dir"
  if ! run_tracked env CHROMIUM_PATH="$PEER_CHROMIUM" node "$PEERS_DIR/$script" --jobs "$dir" --warmup "$peer_warmup" \
    --out "$tmp/out/$who-$section-$name-$round" >"$log" 2>&1; then
    echo "bench: $who failed on $name (round $round); its output:" >&2
    cat "$log" >&2
    exit 1
  fi
  node scripts/bench-queue.mjs peer --who "$who" --section "$section" --name "$name" --round "$round" <"$log" >>"$rows"
  rm -rf "$tmp/out/$who-$section-$name-$round"
  progress
}

empplay() { # section name round sketch n
  local status=0 before
  before=$(wc -l <"$rows")
  run_tracked node scripts/bench-queue.mjs run --section "$1" --name "$2" --round "$3" --sketch "$4" --count "$5" \
    >>"$rows" || status=$?
  if ((status)); then
    echo "bench: empplay jobs failed or went missing ($2, round $3); the worker's log ends with:" >&2
    tail -n 20 "$tmp/worker.log" >&2
  fi
  (($(wc -l <"$rows") > before)) || { echo "bench: the queue driver printed no figures" >&2; return 1; }
  progress
  return "$status"
}

progress() {
  tail -n 1 "$rows" | node -e 'const r=JSON.parse(require("fs").readFileSync(0,"utf8"));
    const f=(x,d)=>Number.isFinite(x)?x.toFixed(d):"-";
    console.log(`  ${r.section} ${r.name} round ${r.round}: ${r.who.padEnd(10)} ${r.ok}/${r.n} jobs, ${f(r.jobs_per_s,2)} jobs/s, p50 ${f(r.p50,1)} ms, p90 ${f(r.p90,1)} ms`)'
}

# The mix in the issue's order, then any other sketch added to examples/bench/.
mix=()
for name in static-2d animated-2d webgl-shader text heavy-pixels; do mix+=("examples/bench/$name.js"); done
for s in examples/bench/*.js; do [[ " ${mix[*]} " == *" $s "* ]] || mix+=("$s"); done

CHROMIUM_PATH=$CHROMIUM_PATH bin/empplay worker >"$tmp/worker.log" 2>&1 &
pids+=($!)

failed=0
echo "bench: $(nproc) CPUs, empplay on $CHROMIUM_PATH ($("$CHROMIUM_PATH" --version 2>/dev/null || echo '?')), the peers on $PEER_CHROMIUM ($("$PEER_CHROMIUM" --version 2>/dev/null || echo '?')), node $(node --version), $(bin/empplay version 2>/dev/null | head -n 1)"
echo "bench: warming up the worker (3 static jobs, 1 of each mix sketch)"
empplay warmup static 0 "$peer_sketch" 3 >/dev/null
for s in "${mix[@]}"; do empplay warmup "$(basename "$s" .js)" 0 "$s" 1 >/dev/null; done
: >"$rows"

echo "bench: static sketch, $rounds round(s) of $count jobs per contender"
order=(playwright puppeteer empplay)
for ((r = 1; r <= rounds; r++)); do
  for ((k = 0; k < 3; k++)); do
    case ${order[(r - 1 + k) % 3]} in
      playwright) peer playwright static static-2000-ellipses "$r" "$peer_sketch" "$count" ;;
      puppeteer) peer puppeteer static static-2000-ellipses "$r" "$peer_sketch" "$count" ;;
      empplay) empplay static static-2000-ellipses "$r" "$peer_sketch" "$count" || failed=1 ;;
    esac
  done
done

if ((mix_count > 0)); then
  echo "bench: mix, $mix_count jobs per sketch and contender (playwright, then empplay)"
  for s in "${mix[@]}"; do
    name=$(basename "$s" .js)
    peer playwright mix "$name" 1 "$s" "$mix_count"
    empplay mix "$name" 1 "$s" "$mix_count" || failed=1
  done
fi

node scripts/bench-queue.mjs report "$rows" || failed=1
exit "$failed"
