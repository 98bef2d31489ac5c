// WEBGL: a fragment shader (domain-warped fbm noise) over the whole canvas,
// then lit 3D geometry on top. noLoop(): one frame.
const VERT = `
precision highp float;
attribute vec3 aPosition;
varying vec2 vUv;
void main() {
  vUv = aPosition.xy;
  gl_Position = vec4(aPosition.xy * 2.0 - 1.0, 0.0, 1.0);
}`;

const FRAG = `
precision highp float;
varying vec2 vUv;
uniform float uSeed;
float hash(vec2 p) { return fract(sin(dot(p, vec2(127.1, 311.7)) + uSeed) * 43758.5453); }
float noise(vec2 p) {
  vec2 i = floor(p), f = fract(p);
  vec2 u = f * f * (3.0 - 2.0 * f);
  return mix(mix(hash(i), hash(i + vec2(1.0, 0.0)), u.x),
             mix(hash(i + vec2(0.0, 1.0)), hash(i + vec2(1.0, 1.0)), u.x), u.y);
}
float fbm(vec2 p) {
  float v = 0.0, a = 0.5;
  for (int k = 0; k < 6; k++) { v += a * noise(p); p *= 2.03; a *= 0.5; }
  return v;
}
void main() {
  vec2 p = vUv * 4.0;
  vec2 q = vec2(fbm(p), fbm(p + 5.2));
  float v = fbm(p + 4.0 * q);
  vec3 col = mix(vec3(0.05, 0.07, 0.20), vec3(0.95, 0.55, 0.20), v);
  col = mix(col, vec3(0.20, 0.80, 0.90), q.x * q.y);
  gl_FragColor = vec4(col, 1.0);
}`;

let bg;

function setup() {
  createCanvas(800, 800, WEBGL);
  pixelDensity(1);
  bg = createShader(VERT, FRAG);
  noLoop();
}

function draw() {
  noStroke();
  shader(bg);
  bg.setUniform('uSeed', 3.7);
  rect(0, 0, width, height); // the vertex shader maps the unit quad to the viewport
  resetShader();
  clearDepth();
  ambientLight(60);
  directionalLight(255, 255, 255, 0.3, 0.6, -1);
  for (let i = 0; i < 12; i++) {
    push();
    const a = (i / 12) * TWO_PI;
    translate(cos(a) * 260, sin(a) * 260, 0);
    rotateX(a);
    rotateY(a * 0.7);
    specularMaterial(200, 120 + i * 10, 255 - i * 15);
    shininess(30);
    i % 2 ? box(70) : torus(40, 14, 32, 16);
    pop();
  }
}
