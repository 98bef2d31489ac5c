#!/usr/bin/env bash
# bench-video: how fast empplay records video jobs, end to end (sketch on a
# virtual clock, frames encoded in the page, muxed by ffmpeg), for a 2D and
# a WEBGL sketch at 800x800 and 1920x1080. Prints frames per second and the
# ratio to real time (2.00x = a 10 s video in 5 s) and the output size.
#
#   scripts/bench-video.sh [SECONDS] [FPS] [RUNS]   (defaults: 10 s at 30 fps, 3 runs)
#
# Each case runs RUNS times, each in a fresh `empplay render --video`, and
# the run with the median frame rate is printed. The time is the
# render alone, as one warm worker does it: Chromium's start and the
# preparation of its warm tab (the shell page with p5 loaded, which a
# worker does between jobs) excluded; the job's page, every frame, the
# encoder and the mux included. The machine
# is shared in CI: compare the rows of one run with each other.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
fps=${2:-30}
runs=${3:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The binary with p5 embedded (a bare go build lacks it, and every render
# would fail).
scripts/setup.sh >/dev/null
failed=0

cat > "$work/2d.js" <<'JS'
// 200 translucent circles on a noise orbit, a sine wave and text.
function setup() { createCanvas(windowWidth, windowHeight); pixelDensity(1); }
function draw() {
  background(20, 24, 40);
  noStroke();
  const s = min(width, height) / 800;
  for (let i = 0; i < 200; i++) {
    const a = i * 0.1 + millis() * 0.0009;
    const r = s * (100 + 250 * noise(i * 0.05, millis() * 0.0003));
    fill((i * 7 + frameCount) % 255, 120 + 100 * sin(a), 200, 180);
    circle(width / 2 + r * cos(a), height / 2 + r * sin(a), s * (10 + 30 * noise(i, millis() * 0.0006)));
  }
  stroke(255); strokeWeight(3); noFill();
  beginShape();
  for (let x = 0; x < width; x += 8) vertex(x, height / 2 + 100 * s * sin(x * 0.02 + millis() * 0.003));
  endShape();
  noStroke(); fill(255); textSize(48 * s); text('frame ' + frameCount, 30, 60 * s);
}
JS
cat > "$work/webgl.js" <<'JS'
// Twelve boxes around a torus, turning (normal-coloured: lights make
// SwiftShader, WebGL on a CPU host, about 30 times slower).
function setup() { createCanvas(windowWidth, windowHeight, WEBGL); pixelDensity(1); }
function draw() {
  background(20);
  rotateY(millis() / 1000);
  const s = min(width, height) / 800;
  for (let i = 0; i < 12; i++) {
    push();
    rotateZ(i * TWO_PI / 12 + millis() * 0.0003);
    translate(200 * s, 0, 0);
    normalMaterial();
    box(s * (60 + 20 * sin(millis() * 0.0015 + i)));
    pop();
  }
  normalMaterial();
  torus(100 * s, 20 * s);
}
JS

printf '%-7s %-10s %7s %8s %8s %9s %9s %10s\n' sketch size frames seconds fps realtime rec-fps bytes
for size in 800x800 1920x1080; do
  for sketch in 2d webgl; do
    w=${size%x*}; h=${size#*x}
    out="$work/$sketch-$size.mp4"
    rows=()
    for ((run = 0; run < runs; run++)); do
      if ! line=$(bin/empplay render "$work/$sketch.js" --video --duration "$seconds" --fps "$fps" \
        --width "$w" --height "$h" -o "$out" --log-level error 2>"$work/err"); then
        printf '%-7s %-10s failed: %s\n' "$sketch" "$size" "$(tail -c 300 "$work/err")"
        failed=1
        continue
      fi
      # ".../x.mp4: 800x800 video/mp4, 300 frames, 10.00 s, N bytes, poster P; rendered in T s:
      #  F fps, R x real time (recording G fps)"
      frames=$(sed -E 's/.* ([0-9]+) frames.*/\1/' <<<"$line")
      took=$(sed -E 's/.*rendered in ([0-9.]+) s.*/\1/' <<<"$line")
      rate=$(sed -E 's/.*: ([0-9.]+) fps.*/\1/' <<<"$line")
      real=$(sed -E 's/.* ([0-9.]+)x real time.*/\1/' <<<"$line")
      rec=$(sed -E 's/.*recording ([0-9.]+|n\/a) fps.*/\1/' <<<"$line")
      bytes=$(stat -c %s "$out")
      rows+=("$(printf '%-7s %-10s %7s %8s %8s %8sx %9s %10s' "$sketch" "$size" "$frames" "$took" "$rate" "$real" "$rec" "$bytes")")
    done
    ((${#rows[@]})) || continue
    # The median run by frame rate (column 5).
    printf '%s\n' "${rows[@]}" | sort -n -k5 | sed -n "$(( (${#rows[@]} + 1) / 2 ))p"
  done
done
exit "$failed"
