#!/usr/bin/env bash
# End-to-end demo on the local default: starts redis-server and Azurite on
# free loopback ports (state in a temp dir), runs one worker, submits every
# job in examples/, prints each result's CDN URL, downloads the outputs into
# ./out/ and stops everything it started (by pid).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

. scripts/lib.sh
start_services

bin/empplay worker >"$tmp/worker.log" 2>&1 &
pids+=($!)
echo "redis 127.0.0.1:$redis_port, azurite 127.0.0.1:$blob_port, worker pid ${pids[-1]}"

mkdir -p out
fail=0
for job in examples/*.json; do
  name=$(basename "$job" .json)
  # A workflow example draws the outputs of the examples before it from
  # the local default CDN (Azurite's default address): point it at this
  # demo's Azurite.
  if ! result=$(sed "s|http://127.0.0.1:10000/devstoreaccount1|$CDN_URI|g" "$job" | bin/empplay submit --wait --timeout 90s - 2>>"$tmp/submit.log"); then
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
