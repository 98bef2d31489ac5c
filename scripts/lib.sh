# Shared by demo.sh and bench.sh: start redis-server and Azurite on free
# loopback ports with their state in $tmp, and stop everything started here
# (by pid) on exit. Source it from the repo root after scripts/setup.sh.

tmp=$(mktemp -d -t empplay.XXXXXX)
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
    # Below the kernel's ports for outgoing connections (32768 and up),
    # which another process may take between this check and the bind.
    p=$((20000 + RANDOM % 12768))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  echo "no free port found" >&2; return 1
}
wait_port() { # port name log pid
  for _ in $(seq 1 300); do
    if ! kill -0 "$4" 2>/dev/null; then
      # It exited (the port was taken after all): whatever listens there
      # is not ours.
      echo "$2 exited before listening on 127.0.0.1:$1; its log:" >&2
      cat "$3" >&2
      return 1
    fi
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "$2 did not start listening on 127.0.0.1:$1; its log:" >&2
  cat "$3" >&2
  return 1
}

start_services() {
  redis_port=$(free_port)
  redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$tmp" --save '' --appendonly no \
    --daemonize no --loglevel warning >"$tmp/redis.log" 2>&1 &
  pids+=($!)
  wait_port "$redis_port" redis-server "$tmp/redis.log" "${pids[-1]}"

  blob_port=$(free_port)
  (cd "$tmp" && exec "$OLDPWD/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$blob_port" \
    --inMemoryPersistence --disableTelemetry --skipApiVersionCheck --silent) >"$tmp/azurite.log" 2>&1 &
  pids+=($!)
  wait_port "$blob_port" azurite "$tmp/azurite.log" "${pids[-1]}"

  export REDIS_URL="redis://127.0.0.1:$redis_port/0"
  export AZURE_STORAGE_ACCOUNT=devstoreaccount1
  export AZURE_STORAGE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
  export AZURE_STORAGE_ENDPOINT="http://127.0.0.1:$blob_port/devstoreaccount1"
  export CDN_URI="$AZURE_STORAGE_ENDPOINT"
  export LOG_FORMAT=text
}
