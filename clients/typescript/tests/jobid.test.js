// jobId against the Go implementation's answers (tests/job-ids.json,
// written by `go test -run TestJobIDVectors -update .` at the root).
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { jobId, encodeJob } from '../index.js';
import { decodeUTF8 } from '../jobid.js';

const vectors = JSON.parse(readFileSync(new URL('./job-ids.json', import.meta.url), 'utf8'));

test('the vector file covers ids and hashes', () => {
  assert.ok(vectors.length > 100, `only ${vectors.length} vectors`);
  const hashed = vectors.filter((v) => /^[0-9a-f]{64}$/.test(v.id)).length;
  assert.ok(hashed > 10 && hashed < vectors.length - 10, `${hashed} of ${vectors.length} are hashes`);
});

for (const v of vectors) {
  test(`jobId: ${v.name}`, () => {
    const bytes = Buffer.from(v.payload ?? '', 'base64');
    assert.equal(jobId(bytes), v.id);
  });
}

test('a string is hashed as its UTF-8 bytes, an object as JSON.stringify writes it', () => {
  const job = { type: 'p5', code: 'é', width: 1, height: 1 };
  const sha = (b) => createHash('sha256').update(b).digest('hex');
  assert.equal(jobId(job), sha(Buffer.from(JSON.stringify(job), 'utf8')));
  assert.equal(jobId(JSON.stringify(job)), sha(Buffer.from(JSON.stringify(job), 'utf8')));
  assert.deepEqual(encodeJob(job), Buffer.from(JSON.stringify(job)));
  assert.equal(jobId({ ...job, id: 'mine' }), 'mine');
  assert.throws(() => encodeJob(undefined), TypeError);
});

test('decodeUTF8 replaces each bad byte, as Go does', () => {
  assert.equal(decodeUTF8(Buffer.from([0x61, 0xe2, 0x82, 0x62])), 'a\ufffd\ufffdb');
  assert.equal(decodeUTF8(Buffer.from([0xed, 0xa0, 0x80])), '\ufffd\ufffd\ufffd');
  assert.equal(decodeUTF8(Buffer.from([0xef, 0xbb, 0xbf, 0x7b])), '\ufeff{');
  assert.equal(decodeUTF8(Buffer.from('😀é', 'utf8')), '😀é');
});
