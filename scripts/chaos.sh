#!/usr/bin/env bash
# The chaos test at full size: 300 jobs (or N) through `empplay supervise`
# with 2 workers and real Chromium, Redis (AOF on) and Azurite, while the
# test kill -9s workers mid-job, kill -9s their Chromium and restarts
# redis-server with SIGKILL. It passes when every job has exactly one
# result, nothing is lost or left in flight, and the poison job is
# dead-lettered after exactly MAX_ATTEMPTS attempts; it ends by printing
# one summary line (submitted, completed, failed, dead, duplicate
# executions, recovery latency after a worker kill, ...).
#
#   scripts/chaos.sh [N]               # EMPPLAY_CHAOS_SEED=... replays a schedule
#
# The normal suite (make test) runs the same test with 40 jobs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

export EMPPLAY_REQUIRE_INTEGRATION=1
export EMPPLAY_BIN="$PWD/bin/empplay"
export EMPPLAY_CHAOS_JOBS="${1:-${EMPPLAY_CHAOS_JOBS:-300}}"

log=$(mktemp -t empplay-chaos.XXXXXX)
trap 'rm -f "$log"' EXIT
status=0
go test -count=1 -run '^TestChaos$' -v -timeout 30m ./cmd/empplay/ 2>&1 | tee "$log" || status=$?
echo
grep -o 'chaos: submitted=.*' "$log" || echo "chaos: no summary (the test failed before the end; see above)"
exit "$status"
