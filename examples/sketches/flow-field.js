// A flow field seeded by the token hash: the same hash always draws the
// same picture. empplay.hash is the job's context.hash.
function setup() {
  createCanvas(windowWidth, windowHeight);
  const seed = parseInt(empplay.hash.slice(2, 14), 16);
  randomSeed(seed);
  noiseSeed(seed);
  noLoop();
}

function draw() {
  const dusk = ['#2b2d42', '#8d99ae', '#ef233c', '#d90429', '#edf2f4'];
  background('#101018');
  strokeWeight(1.2);
  for (let i = 0; i < 1500; i++) {
    let x = random(width), y = random(height);
    stroke(random(dusk) + '80');
    noFill();
    beginShape();
    for (let s = 0; s < 60; s++) {
      vertex(x, y);
      const a = noise(x * 0.003, y * 0.003) * TWO_PI * 2;
      x += cos(a) * 3;
      y += sin(a) * 3;
    }
    endShape();
  }
}
