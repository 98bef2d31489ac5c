// The id a worker gives a job, computed the way the worker computes it
// (empplay.IDFor in Go): the payload's string "id" field when it is a
// valid id, else the lowercase hex SHA-256 of the exact bytes pushed.
//
// "The id field" is what Go's encoding/json reads into a field tagged
// "id", so this file follows its rules rather than JSON.parse's: names
// match without regard to case (id, Id, iD, ID), the last occurrence
// wins, a later null clears it, a number out of float64's range anywhere
// in an occurrence voids the whole decode, every byte that is not part
// of valid UTF-8 reads as U+FFFD, and nesting deeper than 10000 is
// invalid JSON. tests/job-ids.json holds the Go implementation's answers
// for such payloads; tests/jobid.test.js checks this file against them.

import { createHash } from 'node:crypto';

const MAX_ID_BYTES = 200;
const MAX_DEPTH = 10000; // encoding/json's maxNestingDepth

/**
 * The bytes a job is pushed as: a string as UTF-8, bytes as they are, any
 * other value as JSON.stringify writes it.
 * @param {unknown} job
 * @returns {Buffer}
 */
export function encodeJob(job) {
  if (typeof job === 'string') return Buffer.from(job, 'utf8');
  if (job instanceof Uint8Array) return Buffer.from(job.buffer, job.byteOffset, job.byteLength);
  const json = JSON.stringify(job);
  if (json === undefined) throw new TypeError('the job cannot be encoded as JSON');
  return Buffer.from(json, 'utf8');
}

/**
 * The id the worker derives for payload (see the file comment).
 * @param {unknown} payload the exact bytes or string pushed, or a job
 *   object (encoded as {@link encodeJob} encodes it)
 * @returns {string}
 */
export function jobId(payload) {
  const bytes = encodeJob(payload);
  return idField(decodeUTF8(bytes)) ?? createHash('sha256').update(bytes).digest('hex');
}

const fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenient = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * Decodes UTF-8 as Go does: each byte that does not begin a valid
 * sequence becomes one U+FFFD (TextDecoder gives one U+FFFD for a whole
 * truncated sequence instead).
 * @param {Uint8Array} b
 * @returns {string}
 */
export function decodeUTF8(b) {
  try {
    return fatal.decode(b);
  } catch {
    // not valid UTF-8: decode the valid runs, one U+FFFD per bad byte
  }
  let out = '';
  let run = 0;
  let i = 0;
  const cont = (j, lo = 0x80, hi = 0xbf) => j < b.length && b[j] >= lo && b[j] <= hi;
  while (i < b.length) {
    const c = b[i];
    let n = 0;
    if (c < 0x80) n = 1;
    else if (c >= 0xc2 && c <= 0xdf) n = cont(i + 1) ? 2 : 0;
    else if (c === 0xe0) n = cont(i + 1, 0xa0) && cont(i + 2) ? 3 : 0;
    else if (c === 0xed) n = cont(i + 1, 0x80, 0x9f) && cont(i + 2) ? 3 : 0;
    else if (c >= 0xe1 && c <= 0xef) n = cont(i + 1) && cont(i + 2) ? 3 : 0;
    else if (c === 0xf0) n = cont(i + 1, 0x90) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    else if (c === 0xf4) n = cont(i + 1, 0x80, 0x8f) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    else if (c >= 0xf1 && c <= 0xf3) n = cont(i + 1) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    if (n === 0) {
      out += lenient.decode(b.subarray(run, i)) + '\ufffd';
      i++;
      run = i;
    } else {
      i += n;
    }
  }
  return out + lenient.decode(b.subarray(run));
}

/**
 * The id field of the JSON text, or null when there is no valid one.
 * @param {string} text
 * @returns {string | null}
 */
function idField(text) {
  let doc;
  try {
    doc = JSON.parse(text);
  } catch {
    return null;
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc) || depth(text) > MAX_DEPTH) return null;
  let token;
  for (const [name, value] of members(text)) {
    if (name.length !== 2 || !/^[iI][dD]$/.test(name)) continue;
    if (overflows(value)) return null; // encoding/json fails the whole decode
    token = value;
  }
  if (token === undefined || token[0] !== '"') return null;
  // encoding/json turns an unpaired surrogate escape into U+FFFD.
  const id = JSON.parse(token).toWellFormed();
  return validID(id) ? id : null;
}

/**
 * Whether s is an id the worker accepts: 1-200 bytes, no spaces, control
 * characters or braces.
 * @param {string} s
 */
function validID(s) {
  if (s === '' || Buffer.byteLength(s, 'utf8') > MAX_ID_BYTES) return false;
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (c <= 0x20 || c === 0x7f || c === 0x7b || c === 0x7d) return false;
  }
  return true;
}

/** @param {string} s @param {number} i */
function skipSpace(s, i) {
  while (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r') i++;
  return i;
}

/** The index after the string that starts at i. @param {string} s @param {number} i */
function stringEnd(s, i) {
  for (i++; s[i] !== '"'; i++) if (s[i] === '\\') i++;
  return i + 1;
}

/** The index after the value that starts at i. @param {string} s @param {number} i */
function valueEnd(s, i) {
  if (s[i] === '"') return stringEnd(s, i);
  if (s[i] === '{' || s[i] === '[') {
    let d = 0;
    for (;;) {
      const c = s[i];
      if (c === '"') {
        i = stringEnd(s, i);
        continue;
      }
      if (c === '{' || c === '[') d++;
      else if (c === '}' || c === ']') d--;
      i++;
      if (d === 0) return i;
    }
  }
  while (i < s.length && !',}] \t\n\r'.includes(s[i])) i++;
  return i;
}

/**
 * The names and value texts of the members of the object that is the
 * whole of s, in order, duplicates included. s must be valid JSON.
 * @param {string} s
 * @returns {Generator<[string, string]>}
 */
function* members(s) {
  let i = skipSpace(s, 0) + 1;
  for (;;) {
    i = skipSpace(s, i);
    if (s[i] === '}') return;
    const end = stringEnd(s, i);
    const name = JSON.parse(s.slice(i, end));
    i = skipSpace(s, skipSpace(s, end) + 1);
    const vend = valueEnd(s, i);
    yield [name, s.slice(i, vend)];
    i = skipSpace(s, vend);
    if (s[i] === ',') i++;
  }
}

/** The deepest nesting of arrays and objects in s. @param {string} s */
function depth(s) {
  let d = 0;
  let max = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') i = stringEnd(s, i) - 1;
    else if (c === '{' || c === '[') max = Math.max(max, ++d);
    else if (c === '}' || c === ']') d--;
  }
  return max;
}

/**
 * Whether the JSON value text holds a number a float64 cannot hold.
 * @param {string} value
 */
function overflows(value) {
  const numbers = value.replace(/"(?:[^"\\]|\\.)*"/g, '""').match(/-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g) ?? [];
  return numbers.some((n) => !Number.isFinite(Number(n)));
}
