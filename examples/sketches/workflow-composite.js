// One step of a workflow: it draws the output of an earlier step (here the
// flow-field example, standing in for a ComfyUI image) through
// getComponentOutput, and a file the job declares under "assets".
let base, tile;

function preload() {
  base = loadImage(getComponentOutput("base"));
  tile = loadImage("data/tile.png");
}

function setup() {
  createCanvas(640, 640);
  noLoop();
}

function draw() {
  image(base, 0, 0, width, height);
  // A frame of tiles around the picture.
  const s = 40;
  for (let x = 0; x < width; x += s) {
    image(tile, x, 0, s, s);
    image(tile, x, height - s, s, s);
  }
  for (let y = s; y < height - s; y += s) {
    image(tile, 0, y, s, s);
    image(tile, width - s, y, s, s);
  }
}
