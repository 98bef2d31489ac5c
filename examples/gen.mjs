// Regenerates the example job files from the sketches beside them:
//   node examples/gen.mjs
import fs from 'node:fs';
import path from 'node:path';
const dir = path.dirname(new URL(import.meta.url).pathname);
const localCDN = 'http://127.0.0.1:10000/devstoreaccount1';
const jobs = [
  { name: 'flow-field', sketch: 'flow-field.js', width: 800, height: 800,
    context: { hash: '0x8f3c2a91d4e5b6c7a8f9e0d1c2b3a4958677869504132f1e0d9c8b7a6f5e4d3c', variables: { palette: 'dusk' } } },
  { name: 'instance-rings', sketch: 'instance-rings.js', width: 640, height: 480 },
  { name: 'p5v2-grid', sketch: 'p5v2-grid.js', width: 600, height: 600, p5Version: '2' },
  // The earlier examples' outputs are this one's inputs, on the local
  // default CDN (Azurite's default address; the demo, whose Azurite has a
  // port of its own, puts its CDN_URI in its place).
  { name: 'workflow-composite', sketch: 'workflow-composite.js', width: 640, height: 640,
    context: { hash: '0x1b6d7d3b5716b08423674afa46cb18cc4d9e1a275822e32018d418b272d55697', variables: {},
      components: [{ id: 1, nodeName: 'comfyui', nodeAlias: 'base',
        nodeResponse: { src: `${localCDN}/examples/demo/flow-field.png`, mimeType: 'image/png' } }] },
    assets: { 'data/tile.png': `${localCDN}/examples/demo/p5v2-grid.png` } },
];
for (const j of jobs) {
  const job = {
    type: 'p5',
    code: fs.readFileSync(path.join(dir, 'sketches', j.sketch), 'utf8'),
    width: j.width, height: j.height,
    bucket: 'examples', prefix: 'demo', filename: `${j.name}.png`,
    usesWebGL: false, gpuComplexity: 'low',
    ...(j.context ? { context: j.context } : {}),
    ...(j.p5Version ? { p5Version: j.p5Version } : {}),
    ...(j.assets ? { assets: j.assets } : {}),
  };
  fs.writeFileSync(path.join(dir, `${j.name}.json`), JSON.stringify(job, null, 2) + '\n');
}
