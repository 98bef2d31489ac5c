#!/usr/bin/env bash
# Proves what renders where: on a host with an NVIDIA GPU, renders a WEBGL
# sketch and a 2D sketch with the GPU flag set (--backend nvidia) and the
# CPU flag set (--backend cpu), prints the WebGL renderer strings and the
# timings side by side, and fails if the GPU path did not draw on the GPU.
# Unattended; a few minutes at most (most of it installing, if needed).
#
#   scripts/gpu-check.sh          # or: make gpu-check
#
# Exit status:
#   0  the GPU path drew on the NVIDIA GPU
#   1  the GPU path drew in software (or a render failed): see the table
#   2  set-up failed (no Chromium, no binary and no Go to build it)
#   3  no NVIDIA GPU on this host: only the CPU half ran
#
# Environment: CHROMIUM_PATH (default what the workers run, Debian's
# /usr/lib/chromium/chromium-headless-shell; rerun with the full browser's
# /usr/lib/chromium/chromium to compare),
# GPU_CHECK_RUNS (renders per sketch and backend, default 3),
# GPU_CHECK_FORCE=1 (run the GPU half on a host without an NVIDIA GPU too,
# to see it fail with 1: the GPU flags then draw in software).
set -uo pipefail
cd "$(dirname "$0")/.."
export CGO_CFLAGS="${CGO_CFLAGS:--O2 -g -Wno-deprecated-declarations}"

runs="${GPU_CHECK_RUNS:-3}"
[ -n "${CHROMIUM_PATH:-}" ] && CHROMIUM_PATH_SET=1
chromium="${CHROMIUM_PATH:-/usr/lib/chromium/chromium-headless-shell}"
export CHROMIUM_PATH="$chromium"

say() { printf '\033[1mgpu-check:\033[0m %s\n' "$*" >&2; }
die() { say "$2"; exit "$1"; }

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# 1. Is there an NVIDIA GPU at all? The kernel driver's view, before any
# library: /proc/driver/nvidia/gpus has one directory per GPU.
gpus=""
if [ -d /proc/driver/nvidia/gpus ] && [ -n "$(ls -A /proc/driver/nvidia/gpus 2>/dev/null)" ]; then
  gpus=$(ls /proc/driver/nvidia/gpus | wc -l)
elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  gpus=$(nvidia-smi -L | wc -l)
fi
if [ -z "$gpus" ] && [ "${GPU_CHECK_FORCE:-}" = 1 ]; then
  say "no NVIDIA GPU on this host, but GPU_CHECK_FORCE=1: running the GPU half anyway"
  gpus=forced
elif [ -n "$gpus" ]; then
  say "NVIDIA GPU(s) found: $gpus"
  command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=index,name,driver_version,memory.total,memory.used --format=csv,noheader >&2
else
  say "no NVIDIA GPU on this host (no /proc/driver/nvidia/gpus, no working nvidia-smi): running the CPU half only; exit status will be 3"
fi

# 2. What the check needs: Chromium, the GLVND EGL loader (the NVIDIA
# driver's libEGL_nvidia and its vendor file come with the driver or the
# NVIDIA container toolkit), fonts. Installing is skipped when present and
# is not fatal when offline.
need=()
[ -x "$chromium" ] || need+=(chromium-headless-shell)
for p in libegl1 libgles2 fonts-dejavu-core; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if ((${#need[@]})) && command -v apt-get >/dev/null 2>&1; then
  say "installing: ${need[*]}"
  if ! ($SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}") >/dev/null 2>&1; then
    say "could not install ${need[*]} (offline?); going on with what is there"
  fi
fi
if [ ! -x "$chromium" ] && [ -z "${CHROMIUM_PATH_SET:-}" ]; then
  # Not Debian's layout: the first Chromium or Chrome found.
  for c in /usr/lib/chromium/chromium /usr/lib/chromium-browser/chromium-browser /opt/google/chrome/chrome \
    "$(command -v chromium 2>/dev/null)" "$(command -v google-chrome 2>/dev/null)"; do
    if [ -n "$c" ] && [ -x "$c" ]; then chromium="$c"; export CHROMIUM_PATH="$c"; break; fi
  done
fi
[ -x "$chromium" ] || die 2 "Chromium not found at $chromium: install Debian's chromium-headless-shell package or set CHROMIUM_PATH"
say "Chromium: $chromium ($("$chromium" --version 2>/dev/null || echo 'version unknown'))"

# 3. The binary, with the p5 builds embedded.
bin=bin/empplay
if command -v go >/dev/null 2>&1 && [ -s assets/p5/p5-1.min.js ]; then
  if [ ! -x "$bin" ] || [ -n "$(find . -path ./node_modules -prune -o -name '*.go' -newer "$bin" -print -quit)" ]; then
    say "building $bin"
    if ! go build -trimpath -o "$bin.new" ./cmd/empplay; then
      [ -x "$bin" ] || die 2 "go build failed and there is no $bin"
      say "go build failed (offline without a module cache?); using the existing $bin"
    else
      mv "$bin.new" "$bin"
    fi
  fi
fi
[ -x "$bin" ] || die 2 "no $bin and no way to build it: run make setup (needs Go and npm) first"

tmp=$(mktemp -d -t empplay-gpu-check.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/webgl.js" <<'EOF'
// 3D: 100 lit tori, 800x800 (a few seconds per frame on SwiftShader).
function setup() { createCanvas(800, 800, WEBGL); noLoop(); }
function draw() {
  background(20);
  ambientLight(60); directionalLight(255, 255, 255, 0.3, 0.5, -1);
  specularMaterial(200, 120, 90); shininess(40);
  for (let i = 0; i < 100; i++) {
    push();
    translate((i % 20 - 10) * 38, (Math.floor(i / 20) - 5) * 70, -200 + (i % 7) * 30);
    rotateX(i * 0.3); rotateY(i * 0.2);
    torus(14, 5, 32, 16);
    pop();
  }
}
EOF
cat >"$tmp/flat.js" <<'EOF'
// 2D: 2000 random translucent ellipses, 800x800.
function setup() { createCanvas(800, 800); noLoop(); }
function draw() {
  background(240);
  noStroke();
  for (let i = 0; i < 2000; i++) {
    fill(random(255), random(255), random(255), 120);
    ellipse(random(800), random(800), random(5, 40));
  }
}
EOF

say "what empplay detects:"
"$bin" gpu --log-level warn >&2 || true

# 4. Render each sketch with each flag set.
# A top-level field of the one-line JSON report (they come before the
# nested probe object; renderer strings hold no quotes).
field() { grep -oE "\"$1\":(\"[^\"]*\"|[^,}]*)" "$2" | head -1 | cut -d: -f2- | sed 's/^"//; s/"$//'; }
backends=(cpu)
[ -n "$gpus" ] && backends=(nvidia cpu)
failed=0
rows=()
for sketch in webgl flat; do
  for b in "${backends[@]}"; do
    out="$tmp/$sketch-$b.json"
    say "rendering $sketch.js on the $b backend ($runs runs)"
    if ! timeout 150 "$bin" gpu render "$tmp/$sketch.js" --backend "$b" --runs "$runs" --json >"$out" 2>"$tmp/$sketch-$b.err"; then
      say "$sketch on $b failed:"; cat "$tmp/$sketch-$b.err" >&2
      rows+=("$sketch|$b|FAILED|-|-|-|-")
      failed=1
      continue
    fi
    sr=$(field renderer "$out"); [ -n "$sr" ] || sr="(2D: no WebGL context)"
    rows+=("$sketch|$b|$(field onGPU "$out")|$(field browserRenderer "$out")|$sr|$(field startMs "$out")|$(field medianMs "$out")")
    if [ "$b" = nvidia ] && [ "$(field onGPU "$out")" != true ]; then
      failed=1
    fi
  done
done

printf '\n%-6s %-7s %-6s %-9s %-9s %s\n' sketch backend on_gpu start_ms median_ms "browser renderer / sketch renderer"
for r in "${rows[@]}"; do
  IFS='|' read -r s b on probe sr start med <<<"$r"
  printf '%-6s %-7s %-6s %-9.0f %-9.0f %s\n' "$s" "$b" "$on" "${start:-0}" "${med:-0}" "$probe" 2>/dev/null \
    || printf '%-6s %-7s %-6s %-9s %-9s %s\n' "$s" "$b" "$on" "$start" "$med" "$probe"
  printf '%-41s %s\n' "" "$sr"
done
for sketch in webgl flat; do
  g=$(field medianMs "$tmp/$sketch-nvidia.json" 2>/dev/null)
  c=$(field medianMs "$tmp/$sketch-cpu.json" 2>/dev/null)
  [ -n "$g" ] && [ -n "$c" ] && awk -v s="$sketch" -v g="$g" -v c="$c" \
    'BEGIN { if (g > 0) printf "%s: GPU flags %.0f ms, CPU flags %.0f ms (%.1fx)\n", s, g, c, c / g }'
done
echo

if [ -z "$gpus" ]; then
  ((failed)) && die 1 "the CPU half failed, and there is no NVIDIA GPU on this host"
  die 3 "no NVIDIA GPU on this host: the CPU half works; run this on a GPU host to check the GPU path"
fi
((failed)) && die 1 "FAIL: the GPU path did not draw on the GPU (software renderer or a failed render): see the table; run '$bin gpu' for what is missing"
say "OK: the GPU path drew on the NVIDIA GPU"
exit 0
