// Animated 2D: a looping sketch of 400 particles, captured at frame 30.
//
// empplay: empplay.capture() at frame FRAMES (trigger "capture"; the call in
// the code turns the first-draw capture off). The peer baselines
// (PEERS_DIR, lib.mjs) take their picture after the first draw() of a page that defines
// a top-level draw(), else when the promise setup() returns resolves. So the
// draw loop is installed from setup() and setup() returns a promise that
// resolves at frame FRAMES: every renderer captures the same frame 30.
const FRAMES = 30;
const particles = [];
let finished;

function setup() {
  createCanvas(800, 800);
  pixelDensity(1);
  frameRate(60);
  randomSeed(7);
  for (let i = 0; i < 400; i++) {
    const a = random(TWO_PI), s = random(1, 6);
    particles.push({ x: width / 2, y: height / 2, vx: cos(a) * s, vy: sin(a) * s,
      r: random(4, 18), c: color(random(80, 255), random(80, 255), random(120, 255), 180) });
  }
  background(12, 14, 24);
  window.draw = step;
  return new Promise((resolve) => { finished = resolve; });
}

function step() {
  noStroke();
  fill(12, 14, 24, 40); // trails
  rect(0, 0, width, height);
  for (const p of particles) {
    p.x += p.vx; p.y += p.vy;
    if (p.x < 0 || p.x > width) p.vx = -p.vx;
    if (p.y < 0 || p.y > height) p.vy = -p.vy;
    fill(p.c);
    ellipse(p.x, p.y, p.r);
  }
  fill(12, 14, 24);
  rect(8, 8, 150, 34);
  fill(255);
  textSize(20);
  text(`frame ${frameCount}`, 16, 32);
  if (frameCount >= FRAMES) {
    noLoop();
    if (window.empplay) empplay.capture();
    finished();
  }
}
