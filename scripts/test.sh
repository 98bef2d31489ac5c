#!/usr/bin/env bash
# The whole test suite: installs what is missing (scripts/setup.sh), checks
# formatting and vet, runs the page scripts' unit tests and the TypeScript
# client's tests under node --test, then runs every test with the race detector against
# real redis-server, Azurite, Chromium and ffmpeg, which the tests start and
# stop themselves on free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."
# go-nvml's cgo prologue calls deprecated NVML functions; the warnings are noise.
export CGO_CFLAGS="${CGO_CFLAGS:--O2 -g -Wno-deprecated-declarations}"
scripts/setup.sh

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change: $unformatted" >&2
  exit 1
fi
go vet ./...
# The page scripts' unit tests, and the check that the pinned p5 builds
# may be served in ASCII, under Node's own runner. Files, not a directory:
# Node 21 and later read --test's arguments as globs and load a directory
# as a module.
node --test render/js/*.test.js assets/*.test.js
# The TypeScript client's tests, against a real redis-server, Azurite and
# bin/empplay worker that they start and stop themselves.
EMPPLAY_REQUIRE_INTEGRATION=1 node --test clients/typescript/tests/*.test.js

# Integration tests fail (not skip) when a service binary is missing.
export EMPPLAY_REQUIRE_INTEGRATION=1
export EMPPLAY_BIN="$PWD/bin/empplay"
# One package at a time: the render and end-to-end packages each keep both
# cores busy with Chromium, and running them side by side on a 2-core host
# turned timing margins into flakes.
go test -race -count=1 -p 1 -timeout 30m "$@" ./...

# Every fuzz target for a fixed number of executions (make fuzz runs them
# for minutes). A count, not a duration: see scripts/fuzz.sh.
FUZZTIME=30000x scripts/fuzz.sh
