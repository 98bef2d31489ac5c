// A p5.js 2.x sketch (the job sets "p5Version": "2").
function setup() {
  createCanvas(600, 600);
  noLoop();
}

function draw() {
  background(20);
  noStroke();
  const n = 12, s = width / n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      fill((i * 21) % 255, (j * 21) % 255, 200);
      const d = s * (0.3 + 0.6 * ((i + j) % 5) / 4);
      circle(i * s + s / 2, j * s + s / 2, d);
    }
  }
}
