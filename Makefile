# empplay: the two commands that matter are `make demo` and `make test`.
.DEFAULT_GOAL := help
SHELL := /bin/bash

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

setup: ## install apt/npm dependencies, bundle p5, build bin/empplay
	scripts/setup.sh

build: setup ## same as setup (the binary needs the bundled p5)

assets: setup ## fetch the pinned p5 builds into assets/p5 (part of setup)

demo: ## render examples/ end to end on local Redis + Azurite, outputs in ./out/
	scripts/demo.sh

test: ## the whole suite: gofmt, vet, go test -race with real services
	scripts/test.sh

test-short: ## the fast tier (under a minute): go test -short, no browser, Redis, Azurite, ffmpeg or binary
	CGO_CFLAGS="$${CGO_CFLAGS:--O2 -g -Wno-deprecated-declarations}" go test -short -count=1 ./...

chaos: ## kill -9 workers and Chromium, restart Redis under 300 jobs; prints the summary
	scripts/chaos.sh 300

bench: ## empplay vs the Node peer baselines (PEERS_DIR): jobs/s, p50/p90, ratios (COUNT=30 ROUNDS=3 MIX_COUNT=10)
	scripts/bench.sh

bench-worker: ## per-job time of one warm worker on examples/ (median of 20)
	scripts/bench-worker.sh 20

bench-cpu: ## CPU and page faults per job by Chromium process type, jobs/s of one browser, both isolation modes (COUNT=30; BENCH_SKETCH, BENCH_SIZE=800x800)
	scripts/setup.sh >/dev/null && go test ./render -run '^$$' -bench CPUPerJob -benchtime $(or $(COUNT),30)x

bench-video: ## video jobs: fps and ratio to real time, 2D and WEBGL at 800x800 and 1920x1080 (median of 3)
	scripts/bench-video.sh $(or $(VIDEO_SECONDS),10) $(or $(VIDEO_FPS),30) $(or $(VIDEO_RUNS),3)

bench-clock: ## virtual clock: frame 120 vs frame 1 of a light 60 fps sketch, one warm browser (median of 5)
	scripts/setup.sh >/dev/null && go test ./render -run '^$$' -bench ClockFrame120 -benchtime 1x

bench-supervise: ## supervisor cold start, restart latency after kill -9, idle memory
	scripts/bench-supervise.sh 5 2

bench-e2e: ## Redis + Azurite + supervise with 1 and 2 workers, a mix of N jobs: jobs/s, LPUSH->result p50/p95, per stage, non-browser overhead (N=36)
	scripts/bench-e2e.sh $(or $(N),36) "$(or $(WORKER_COUNTS),1 2)"

gpu-check: ## on an NVIDIA host: WEBGL and 2D sketches with GPU and CPU flags, renderers and timings (exit 3: no GPU)
	scripts/gpu-check.sh

fuzz: ## every fuzz target for FUZZTIME each (default 2m): the job parser, results, WORKERS
	FUZZTIME=$(or $(FUZZTIME),2m) scripts/fuzz.sh

lint: ## gofmt and go vet only
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	go vet ./...

clean: ## remove build outputs (keeps node_modules)
	rm -rf bin out

.PHONY: help setup build assets demo test test-short fuzz bench bench-cpu bench-worker bench-video bench-clock bench-supervise bench-e2e lint clean
