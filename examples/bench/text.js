// Text: Latin, CJK and emoji in system fonts (Noto CJK, Noto Color Emoji,
// DejaVu), many sizes and rotations. noLoop(): one frame.
const LINES = [
  'The quick brown fox jumps over the lazy dog',
  'Ærøskøbing · ĳsselmeer · Œuvre · façade · naïve',
  '日本語のテキスト 東京 大阪 京都',
  '中文文本 北京 上海 香港 你好世界',
  '한국어 텍스트 서울 부산',
  '🎨🖌️🌈✨🔥🚀🌸🍣🐙🎲 🇯🇵 👩🏽‍🎨',
];

function setup() {
  createCanvas(800, 800);
  pixelDensity(1);
  randomSeed(11);
  noLoop();
}

function draw() {
  background(250, 247, 240);
  textFont('sans-serif');
  for (let i = 0; i < 160; i++) {
    push();
    translate(random(width), random(height));
    rotate(random(-0.6, 0.6));
    fill(random(30, 200), random(30, 200), random(30, 200), 200);
    textSize(random(10, 42));
    text(LINES[i % LINES.length], -120, 0);
    pop();
  }
  fill(20);
  textSize(36);
  textAlign(CENTER, CENTER);
  for (let i = 0; i < LINES.length; i++) text(LINES[i], width / 2, 120 + i * 110);
}
