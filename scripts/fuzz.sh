#!/usr/bin/env bash
# Runs each fuzz target for FUZZTIME (default 3s): briefly in `make test`,
# longer with `make fuzz` (FUZZTIME=2m make fuzz). A failing input is
# written under the package's testdata/fuzz/ and then replays in every
# plain `go test` run: commit it with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."
export CGO_CFLAGS="${CGO_CFLAGS:--O2 -g -Wno-deprecated-declarations}"
time=${FUZZTIME:-3s}
targets=(
  ".:FuzzParse"               # the job parser and validator
  ".:FuzzResultDecode"        # result JSON
  "./supervisor:FuzzParseWorkers" # the WORKERS setting
)
for t in "${targets[@]}"; do
  pkg=${t%%:*} name=${t##*:}
  go test -run '^$' -fuzz "^${name}\$" -fuzztime "$time" "$pkg"
done
