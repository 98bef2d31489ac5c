#!/usr/bin/env bash
# End-to-end demo on the local default: starts redis-server and Azurite on
# free loopback ports (state in a temp dir), runs one worker, submits every
# job in examples/, prints each result's CDN URL, downloads the outputs into
# ./out/ and stops everything it started (by pid).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

tmp=$(mktemp -d -t empplay-demo.XXXXXX)
pids=()
cleanup() {
  local status=$?
  for ((i=${#pids[@]}-1; i>=0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$tmp"
  exit $status
}
trap cleanup EXIT INT TERM

# A port nothing listens on (checked, not reserved; good enough locally).
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 20000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  echo "no free port found" >&2; return 1
}
wait_port() {
  for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "$2 did not start listening on 127.0.0.1:$1; its log:" >&2
  cat "$3" >&2
  return 1
}

redis_port=$(free_port)
redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$tmp" --save '' --appendonly no \
  --daemonize no --loglevel warning >"$tmp/redis.log" 2>&1 &
pids+=($!)
wait_port "$redis_port" redis-server "$tmp/redis.log"

blob_port=$(free_port)
(cd "$tmp" && exec "$OLDPWD/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$blob_port" \
  --inMemoryPersistence --disableTelemetry --skipApiVersionCheck --silent) >"$tmp/azurite.log" 2>&1 &
pids+=($!)
wait_port "$blob_port" azurite "$tmp/azurite.log"

export REDIS_URL="redis://127.0.0.1:$redis_port/0"
export AZURE_STORAGE_ACCOUNT=devstoreaccount1
export AZURE_STORAGE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
export AZURE_STORAGE_ENDPOINT="http://127.0.0.1:$blob_port/devstoreaccount1"
export CDN_URI="$AZURE_STORAGE_ENDPOINT"
export LOG_FORMAT=text

bin/empplay worker >"$tmp/worker.log" 2>&1 &
pids+=($!)
echo "redis 127.0.0.1:$redis_port, azurite 127.0.0.1:$blob_port, worker pid ${pids[-1]}"

mkdir -p out
fail=0
for job in examples/*.json; do
  name=$(basename "$job" .json)
  if ! result=$(bin/empplay submit --wait --timeout 90s "$job" 2>>"$tmp/submit.log"); then
    echo "FAIL $name: $result" >&2
    fail=1
    continue
  fi
  src=$(printf '%s' "$result" | sed -n 's/^  "src": "\(.*\)",$/\1/p')
  ms=$(printf '%s' "$result" | sed -n 's/^    "totalMs": \([0-9.]*\).*/\1/p')
  file="out/$name.png"
  curl -fsS -o "$file" "$src"
  if [ "$(head -c 8 "$file" | od -An -tx1 | tr -d ' \n')" != "89504e470d0a1a0a" ]; then
    echo "FAIL $name: $file is not a PNG" >&2
    fail=1
    continue
  fi
  printf '%-24s %s  (%s ms) -> %s\n' "$name" "$src" "$ms" "$file"
done
if ((fail)); then
  echo "worker log:" >&2
  tail -n 40 "$tmp/worker.log" >&2
  exit 1
fi
echo "demo ok: outputs in ./out/"
