// The client end to end: a real redis-server, Azurite and `empplay worker`
// (bin/empplay) with its Chromium, started on free loopback ports.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Client, WaitTimeoutError, jobId } from '../index.js';
import { Stack, missing } from './services.js';

const skip = missing();
/** @type {Stack} */
let stack;
/** @type {Client} */
let client;

before(async () => {
  if (skip) return;
  stack = new Stack();
  await stack.start();
  client = new Client({ url: stack.redisURL });
});

after(async () => {
  await client?.close();
  const problems = (await stack?.stop()) ?? [];
  assert.deepEqual(problems, []);
});

/** Width and height from a PNG's IHDR chunk. */
function pngSize(b) {
  assert.deepEqual([...b.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'not a PNG');
  assert.equal(b.subarray(12, 16).toString('latin1'), 'IHDR');
  return [b.readUInt32BE(16), b.readUInt32BE(20)];
}

test('render: a p5 job end to end, its PNG served at src', { skip, timeout: 120_000 }, async () => {
  const job = {
    type: 'p5',
    code: 'function setup() { createCanvas(64, 48); noLoop(); }\nfunction draw() { background(255, 0, 0); rect(8, 8, 16, 16); }',
    width: 64,
    height: 48,
    bucket: 'tsclient',
    prefix: 'e2e',
    filename: 'red.png',
  };
  const res = await client.render(job, { timeout: 90_000 });
  assert.equal(res.success, true, `${JSON.stringify(res)}\n${stack.workerLog()}`);
  assert.equal(res.id, jobId(job));
  assert.equal(res.src, `${stack.blobEndpoint}/tsclient/e2e/red.png`);
  assert.equal(res.mimeType, 'image/png');
  assert.deepEqual([res.width, res.height], [64, 48]);
  assert.deepEqual(await client.result(res.id), res, 'result() gives the stored result');

  const resp = await fetch(res.src);
  assert.equal(resp.status, 200);
  assert.equal(resp.headers.get('content-type'), 'image/png');
  const png = Buffer.from(await resp.arrayBuffer());
  assert.deepEqual(pngSize(png), [64, 48]);
  assert.equal(png.length, res.bytes);
  assert.equal(createHash('sha256').update(png).digest('hex'), res.sha256);
});

test('result: an unknown id has none', { skip }, async () => {
  assert.equal(await client.result('no-such-job'), null);
});

test('wait: rejects with WaitTimeoutError when no result comes in time', { skip, timeout: 30_000 }, async () => {
  const t0 = Date.now();
  await assert.rejects(client.wait('never-submitted', { timeout: 300 }), (err) => {
    assert.ok(err instanceof WaitTimeoutError);
    assert.equal(err.id, 'never-submitted');
    return true;
  });
  const took = Date.now() - t0;
  assert.ok(took >= 300 && took < 5000, `took ${took} ms`);
});

test("jobId: the worker files results under the ids jobId computes", { skip, timeout: 120_000 }, async () => {
  // Jobs the worker refuses without rendering, so each is quick; each
  // result is found only under the id the worker derived.
  const bad = '"type":"p5","code":"x","width":10,"height":10,"bucket":"Not-Valid","filename":"x.png"';
  const hashed = ` {${bad}}\n`; // no id: the SHA-256 of these exact bytes
  const folded = `{"ID":"upper-case-name",${bad}}`; // encoding/json folds the name
  const notUTF8 = Buffer.concat([Buffer.from('{"id":"a'), Buffer.from([0xff]), Buffer.from(`b",${bad}}`)]);
  const cases = [
    [hashed, createHash('sha256').update(hashed).digest('hex'), 'invalid_bucket'],
    [folded, 'upper-case-name', 'invalid_bucket'],
    [notUTF8, 'a\ufffdb', 'invalid_field'],
  ];
  for (const [payload, want, code] of cases) {
    const id = await client.submit(payload);
    assert.equal(id, want);
    assert.equal(jobId(payload), want);
    const res = await client.wait(id, { timeout: 90_000 });
    assert.equal(res.id, want, JSON.stringify(res));
    assert.equal(res.success, false);
    assert.equal(res.errorCode, code, JSON.stringify(res));
  }
});
