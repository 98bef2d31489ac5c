// Heavy pixels: shapes drawn, then loadPixels/updatePixels over the whole
// 800x800 canvas with three passes of per-pixel JavaScript (an interference
// pattern, a 5x5 box blur of it, a palette map blended with the pixels read
// back). noLoop(): one frame.
function setup() {
  createCanvas(800, 800);
  pixelDensity(1);
  noLoop();
}

function draw() {
  background(30);
  noStroke();
  for (let i = 0; i < 300; i++) {
    fill((i * 37) % 255, (i * 91) % 255, (i * 53) % 255);
    ellipse((i * 131) % width, (i * 197) % height, 20 + (i % 50));
  }
  const w = width, h = height;
  const field = new Float32Array(w * h);
  const cx = [200, 600, 400, 120], cy = [220, 300, 640, 700];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = 0;
      for (let k = 0; k < cx.length; k++) {
        const dx = x - cx[k], dy = y - cy[k];
        v += Math.sin(Math.sqrt(dx * dx + dy * dy) * 0.09 + k);
      }
      field[y * w + x] = v / cx.length;
    }
  }
  const blurred = new Float32Array(w * h);
  const r = 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0, n = 0;
      for (let j = -r; j <= r; j++) {
        const yy = y + j;
        if (yy < 0 || yy >= h) continue;
        for (let i = -r; i <= r; i++) {
          const xx = x + i;
          if (xx < 0 || xx >= w) continue;
          s += field[yy * w + xx]; n++;
        }
      }
      blurred[y * w + x] = s / n;
    }
  }
  loadPixels();
  for (let p = 0; p < w * h; p++) {
    const v = (blurred[p] + 1) * 0.5;
    const o = p * 4;
    pixels[o] = (pixels[o] + 255 * v * v) / 2;
    pixels[o + 1] = (pixels[o + 1] + 255 * Math.abs(Math.sin(v * 6.283))) / 2;
    pixels[o + 2] = (pixels[o + 2] + 255 * (1 - v)) / 2;
    pixels[o + 3] = 255;
  }
  updatePixels();
}
