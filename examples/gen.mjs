// Regenerates the example job files from the sketches beside them:
//   node examples/gen.mjs
import fs from 'node:fs';
import path from 'node:path';
const dir = path.dirname(new URL(import.meta.url).pathname);
const jobs = [
  { name: 'flow-field', sketch: 'flow-field.js', width: 800, height: 800,
    context: { hash: '0x8f3c2a91d4e5b6c7a8f9e0d1c2b3a4958677869504132f1e0d9c8b7a6f5e4d3c', variables: { palette: 'dusk' } } },
  { name: 'instance-rings', sketch: 'instance-rings.js', width: 640, height: 480 },
  { name: 'p5v2-grid', sketch: 'p5v2-grid.js', width: 600, height: 600, p5Version: '2' },
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
  };
  fs.writeFileSync(path.join(dir, `${j.name}.json`), JSON.stringify(job, null, 2) + '\n');
}
