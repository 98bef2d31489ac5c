// Unit tests of runtime.js under Node's own test runner:
//   node --test render/js/
// Expected values come from independent computations (BigInt arithmetic,
// Node's crypto) or from fxhash's own snippet, never from runtime.js.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const rt = require('./runtime.js');

const B58 = '123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ';
const FXHASH = 'ooJ5Qq5N1bQ9m9dUuVbPcjJtjBhHqXoLTCdkkXhEtDcYzLzQzTz';

// refSfc32 is sfc32 in BigInt arithmetic on unsigned 32-bit words.
function refSfc32(a, b, c, d) {
  const M = (x) => BigInt.asUintN(32, x);
  let [A, B, C, D] = [a, b, c, d].map((x) => M(BigInt(x)));
  return () => {
    const t = M(A + B + D);
    D = M(D + 1n);
    A = B ^ (B >> 9n);
    B = M(C + (C << 3n));
    C = M((C << 21n) | (C >> 11n));
    C = M(C + t);
    return Number(t) / 4294967296;
  };
}

// refSeeds is the four base58 words of s.slice(start), in BigInt.
function refSeeds(s, start) {
  s = s.slice(start);
  const n = Math.floor(s.length / 4);
  const out = [];
  for (let i = 0; i < 4; i++) {
    let p = 0n;
    for (const ch of s.slice(i * n, (i + 1) * n)) p = BigInt.asIntN(32, p * 58n + BigInt(B58.indexOf(ch)));
    out.push(Number(p));
  }
  return out;
}

// seedWords is SHA-256(hash) as eight big-endian words, as render/seed.go.
function seedWords(hash) {
  const sum = crypto.createHash('sha256').update(hash, 'utf8').digest();
  return Array.from({ length: 8 }, (_, i) => sum.readUInt32BE(4 * i));
}

// fakeWindow is the little of a window installGlobals touches.
function fakeWindow() {
  return { Math: {}, listeners: {}, addEventListener(type, fn) { this.listeners[type] = fn; } };
}

function config(over) {
  const hash = (over && over.hash) || FXHASH;
  return Object.assign({
    hash, seed: seedWords(hash), minter: 'tz1burnburnburnburnburnburnburjAYjjX', iteration: 1,
    tokenId: '7', variables: null, components: null, width: 640, height: 480
  }, over);
}

test('sfc32 matches a BigInt implementation for 1000 outputs', () => {
  for (const seeds of [[1, 2, 3, 4], [0xdeadbeef, 0x12345678, 0xffffffff, 0], [-1, -2, 2147483647, -2147483648]]) {
    const got = rt.sfc32(...seeds);
    const want = refSfc32(...seeds);
    for (let i = 0; i < 1000; i++) assert.equal(got(), want(), `seeds ${seeds} output ${i}`);
  }
});

test('sfc32 outputs are in [0, 1)', () => {
  const r = rt.sfc32(0, 0, 0, 0);
  for (let i = 0; i < 10000; i++) {
    const v = r();
    assert.ok(v >= 0 && v < 1, String(v));
  }
});

test('fxSeeds is base58 of four equal slices, wrapping to 32 bits', () => {
  for (const [s, start] of [[FXHASH, 2], ['tz1burnburnburnburnburnburnburjAYjjX', 3], ['0x1b6d7d3b5716b08423674afa46cb18cc4d9e1a275822e32018d418b272d55697', 2], ['abc', 2], ['', 2]]) {
    assert.deepEqual(rt.fxSeeds(s, start), refSeeds(s, start), s);
  }
});

test('fxSeeds counts a character outside the alphabet as -1', () => {
  // "0", "O", "I" and "l" are not base58; slices of one character each.
  assert.deepEqual(rt.fxSeeds('xx0OIl', 2), [-1, -1, -1, -1]);
  assert.deepEqual(rt.fxSeeds('xx1z0Z', 2), [0, B58.indexOf('z'), -1, 57]);
});

test('the base58 alphabet is bitcoin\'s', () => {
  assert.equal(rt.B58, B58);
  assert.equal(rt.B58.length, 58);
});

test('$fx.rand reproduces fxhash\'s own snippet and reset() starts over', () => {
  const win = fakeWindow();
  rt.installGlobals(win, config(), () => {});
  // Computed by fxhash's snippet.js in node (see render/seed_test.go).
  const want = [0.11092007718980312, 0.2437259608414024, 0.861223136773333];
  assert.deepEqual([win.$fx.rand(), win.$fx.rand(), win.$fx.rand()], want);
  win.$fx.rand.reset();
  assert.equal(win.fxrand(), want[0]);
});

test('Math.random is sfc32 seeded with the first four words of SHA-256(hash)', () => {
  const win = fakeWindow();
  const cfg = config({ hash: 'any string an artist typed' });
  rt.installGlobals(win, cfg, () => {});
  const w = seedWords('any string an artist typed');
  const want = refSfc32(w[0], w[1], w[2], w[3]);
  for (let i = 0; i < 10; i++) assert.equal(win.Math.random(), want());
});

test('fxhash globals: hash, minter, params and features', () => {
  const win = fakeWindow();
  rt.installGlobals(win, config({ variables: { params: { size: 9 } } }), () => {});
  assert.equal(win.fxhash, FXHASH);
  assert.equal(win.$fx.hash, FXHASH);
  assert.equal(win.fxminter, 'tz1burnburnburnburnburnburnburjAYjjX');
  assert.equal(win.isFxpreview, true);
  assert.equal(win.$fx.context, 'capture');
  assert.equal(win.$fx.iteration, 1);
  const mr = rt.fxSeeds('tz1burnburnburnburnburnburnburjAYjjX', 3);
  assert.equal(win.fxrandminter(), refSfc32(...mr)());
  win.$fx.params([{ id: 'size', default: 1 }, { id: 'hue', default: 120 }]);
  assert.deepEqual(win.$fx.getParams(), { size: 9, hue: 120 });
  assert.equal(win.$fx.getParam('hue'), 120);
  win.$fx.features({ Shape: 'round' });
  assert.equal(win.$fx.getFeature('Shape'), 'round');
});

test('Art Blocks and empplay globals', () => {
  const win = fakeWindow();
  const cfg = config({ variables: { a: 1 }, components: [{ id: 1 }] });
  const em = rt.installGlobals(win, cfg, () => {});
  assert.deepEqual(win.tokenData, { hash: FXHASH, tokenId: '7' });
  assert.equal(em, win.empplay);
  assert.equal(em.hash, FXHASH);
  assert.deepEqual(em.seed, cfg.seed);
  assert.notEqual(em.seed, cfg.seed, 'a copy, not the config\'s array');
  assert.deepEqual(em.variables, { a: 1 });
  assert.deepEqual(em.components, [{ id: 1 }]);
  assert.equal(em.width, 640);
  assert.equal(em.height, 480);
});

test('$fx.preview(), fxpreview() and empplay.capture() signal their triggers', () => {
  const win = fakeWindow();
  const got = [];
  rt.installGlobals(win, config(), (t) => got.push(t));
  win.$fx.preview();
  win.fxpreview();
  win.empplay.capture();
  assert.deepEqual(got, ['fxpreview', 'fxpreview', 'capture']);
});

// stubP5v1 is p5 1.x's registerMethod: methods registered on the
// prototype run for every instance, with this = the instance.
function stubP5v1() {
  function P() { P.instance = this; this.hooks = {}; }
  P.prototype.registerMethod = function (name, fn) { (P.registered[name] = P.registered[name] || []).push(fn); };
  P.registered = {};
  P.run = (inst, name) => (P.registered[name] || []).forEach((fn) => fn.call(inst));
  return P;
}

test('hookP5 on p5 1.x: init, afterSetup and post reach the hooks with the instance', () => {
  const P = stubP5v1();
  const seen = [];
  const major = rt.hookP5(P, {
    init: (i) => seen.push(['init', i]),
    afterSetup: (i) => seen.push(['setup', i]),
    afterDraw: (i) => seen.push(['draw', i])
  });
  assert.equal(major, 1);
  const inst = new P();
  P.run(inst, 'init');
  P.run(inst, 'afterSetup');
  P.run(inst, 'post');
  // Global mode: this = window, the instance is P.instance.
  P.run({}, 'post');
  assert.deepEqual(seen.map((s) => s[0]), ['init', 'setup', 'draw', 'draw']);
  assert.ok(seen.every((s) => s[1] === inst));
});

test('hookP5 on p5 2.x: lifecycle hooks of registerAddon', () => {
  const lifecycles = {};
  const P = function () {};
  P.lifecycleHooks = {};
  P.registerAddon = (addon) => addon(P, P.prototype, lifecycles);
  const seen = [];
  assert.equal(rt.hookP5(P, { init: (i) => seen.push(['init', i]), afterSetup: (i) => seen.push(['setup', i]) }), 2);
  assert.equal(lifecycles.postdraw, undefined, 'no afterDraw, no postdraw');
  const inst = {};
  lifecycles.presetup.call(inst);
  lifecycles.postsetup.call(inst);
  assert.deepEqual(seen, [['init', inst], ['setup', inst]]);
});

test('hookP5 without either API hooks nothing', () => {
  assert.equal(rt.hookP5(function () {}, { init() {}, afterSetup() {} }), 0);
});

test('seedP5 seeds random() with seed[4] and noise() with seed[5]', () => {
  const calls = [];
  rt.seedP5([0, 1, 2, 3, 44, 55], { randomSeed: (s) => calls.push(['random', s]), noiseSeed: (s) => calls.push(['noise', s]) });
  assert.deepEqual(calls, [['random', 44], ['noise', 55]]);
  rt.seedP5([0, 1, 2, 3, 4, 5], {}); // not a p5 instance: no exception
});

test('reportErrors reports exceptions and rejections with the sketch line', () => {
  const win = fakeWindow();
  const got = [];
  const href = 'https://x.invalid/sketch.js';
  rt.reportErrors(win, href, (m, l) => got.push([m, l]));
  win.listeners.error({ error: new TypeError('boom'), filename: href, lineno: 7 });
  const err = new Error('late');
  err.stack = 'Error: late\n    at draw (https://x.invalid/sketch.js:12:3)';
  win.listeners.unhandledrejection({ reason: err });
  win.listeners.unhandledrejection({ reason: 'nope' });
  assert.deepEqual(got, [['TypeError: boom', 7], ['Error: late', 12], ['unhandled promise rejection: nope', 0]]);
});

test('mainCanvas: selector, then the instance\'s canvas, then the first laid-out canvas', () => {
  const shown = { tagName: 'CANVAS', getClientRects: () => [1] };
  const hidden = { tagName: 'CANVAS', getClientRects: () => [] };
  const doc = {
    querySelector: (s) => (s === '#c' ? shown : s === '#d' ? { tagName: 'DIV' } : null),
    getElementsByTagName: () => [hidden, shown]
  };
  assert.equal(rt.mainCanvas(doc, '#c', null), shown);
  assert.equal(rt.mainCanvas(doc, '#d', null), null);
  const own = { isConnected: true };
  assert.equal(rt.mainCanvas(doc, '', { canvas: own }), own);
  assert.equal(rt.mainCanvas(doc, '', { canvas: { isConnected: false } }), shown);
  assert.equal(rt.mainCanvas({ getElementsByTagName: () => [hidden] }, '', null), null);
});

// The EmProps Studio runtime.

const REF_HASH = '0x1b6d7d3b5716b08423674afa46cb18cc4d9e1a275822e32018d418b272d55697';
const NAMES = ['John', 'Mary', 'Peter', 'George', 'Luis', 'Mario', 'Mitzy'];

// refDraws is the generator the EmProps Studio seeds from hash.
function refDraws(hash) {
  return refSfc32(...refSeeds(hash, 2));
}

test('EmProps reference vector: pseudorandomPick of the names is George', () => {
  const win = fakeWindow();
  rt.installGlobals(win, config({ hash: 'something else' }), () => {});
  win.pseudorandomSeed(REF_HASH);
  assert.equal(win.pseudorandomPick(NAMES), 'George');
});

test('EmProps: the generator starts seeded with the job\'s hash', () => {
  for (const hash of [REF_HASH, FXHASH, '0b6e4b4c-5cf5-4a7b-9a0c-3e7f1d3c6a21', 'typed by hand']) {
    const win = fakeWindow();
    rt.installGlobals(win, config({ hash }), () => {});
    const r = refDraws(hash);
    assert.equal(win.pseudorandom(), r(), hash);
    assert.equal(win.pseudorandom(), r(), hash);
  }
});

test('EmProps: each pseudorandom function against an independent computation', () => {
  const win = fakeWindow();
  rt.installGlobals(win, config({ hash: REF_HASH }), () => {});
  const r = refDraws(REF_HASH);
  const between = (min, max) => min + r() * (max - min);
  assert.equal(win.pseudorandom(), r());
  assert.equal(win.pseudorandom(10, 20), between(10, 20));
  assert.equal(win.pseudorandom(-3), -3 + r() * (1 + 3), 'max defaults to 1');
  assert.deepEqual(win.pseudorandoms(3, 5, 6), [between(5, 6), between(5, 6), between(5, 6)]);
  assert.equal(win.pseudorandomInteger(1, 6), Math.floor(between(1, 7)));
  assert.deepEqual(win.pseudorandomIntegers(4, 0, 9), [0, 1, 2, 3].map(() => Math.floor(between(0, 10))));
  assert.equal(win.pseudorandomBoolean(), r() < 0.5);
  assert.equal(win.pseudorandomPick(NAMES), NAMES[Math.floor(between(0, NAMES.length))]);
  // Weighted: one draw in [0, 10); index 0 below 1, 1 below 3, 2 below 10.
  const d = between(0, 10);
  assert.equal(win.pseudorandomWeightedPick(['a', 'b', 'c'], [1, 2, 7]), d < 1 ? 'a' : d < 3 ? 'b' : 'c');
  // PickButNot: draws until the pick is not excluded.
  let want;
  do { want = NAMES[Math.floor(between(0, NAMES.length))]; } while (want === 'George' || want === 'Mary');
  assert.equal(win.pseudorandomPickButNot(NAMES, ['George', 'Mary']), want);
  // Reseeding starts the platform's sequence over.
  win.pseudorandomSeed(FXHASH);
  assert.equal(win.pseudorandom(), refDraws(FXHASH)());
});

test('EmProps: weighted pick clamps, pickButNot gives up on list[0]', () => {
  const win = fakeWindow();
  rt.installGlobals(win, config(), () => {});
  for (let i = 0; i < 50; i++) assert.equal(win.pseudorandomWeightedPick(['x', 'y'], [0, 0, 5]), 'y');
  assert.equal(win.pseudorandomPickButNot(['only'], 'only'), 'only');
  assert.equal(win.pseudorandomPickButNot(['a', 'a'], 'a'), 'a');
  for (let i = 0; i < 50; i++) assert.notEqual(win.pseudorandomPickButNot(['a', 'b', 'c'], 'b'), 'b');
});

test('EmProps: hash, variables, getVariable, components, getComponentOutput', () => {
  const win = fakeWindow();
  const components = [
    { id: 1, nodeName: 'image', nodeAlias: 'bg', nodeResponse: { src: 'https://cdn.example/bg.png' } },
    { id: 2, nodeName: 'text', nodeResponse: { src: 'https://cdn.example/t.txt' } }
  ];
  rt.installGlobals(win, config({ hash: REF_HASH, variables: { color: '#ff0000', n: 3 }, components }), () => {});
  assert.equal(win.hash, REF_HASH);
  assert.equal(win.variables.color, '#ff0000');
  assert.equal(win.getVariable('n'), 3);
  assert.equal(win.getVariable('missing'), undefined);
  assert.equal(win.components, components);
  assert.equal(win.getComponentOutput('bg'), 'https://cdn.example/bg.png');
  assert.equal(win.getComponentOutput('nope'), undefined);
});

test('EmProps: defaults without variables or components', () => {
  const win = fakeWindow();
  rt.installGlobals(win, config(), () => {});
  assert.deepEqual(win.variables, {});
  assert.deepEqual(win.components, []);
  assert.equal(win.getComponentOutput('x'), undefined);
});

test('EmProps globals are configurable, so a later const of the same name works', () => {
  const win = fakeWindow();
  rt.installGlobals(win, config(), () => {});
  for (const name of ['hash', 'variables', 'getVariable', 'components', 'getComponentOutput', 'capture'].concat(rt.PSEUDORANDOM)) {
    const d = Object.getOwnPropertyDescriptor(win, name);
    assert.ok(d && d.configurable && d.writable, name);
  }
});

test('capture() signals "capture"', () => {
  const win = fakeWindow();
  const got = [];
  rt.installGlobals(win, config(), (t) => got.push(t));
  win.capture();
  assert.deepEqual(got, ['capture']);
});

// polluted runs fn with the prototypes and globals a sketch can change
// changed as a forger would, and restores them.
function polluted(fn) {
  const forged = function () { return { type: 'nop5', origin: 'forged' }; };
  const saved = [];
  const set = (obj, key, desc) => {
    saved.push([obj, key, Object.getOwnPropertyDescriptor(obj, key)]);
    Object.defineProperty(obj, key, Object.assign({ configurable: true }, desc));
  };
  for (const proto of [Object.prototype, Array.prototype, String.prototype, Number.prototype, Boolean.prototype]) {
    set(proto, 'toJSON', { value: forged, writable: true, enumerable: true });
  }
  set(Object.prototype, 'injected', { value: 'forged', writable: true, enumerable: true });
  set(Object.prototype, 'origin', { get() { return 'forged'; }, set() { this.type = 'nop5'; }, enumerable: true });
  set(JSON, 'stringify', { value: forged, writable: true });
  set(Object, 'keys', { value: () => ['type'], writable: true });
  set(Array, 'isArray', { value: () => false, writable: true });
  set(Array.prototype, 'join', { value: () => 'forged', writable: true });
  set(Array.prototype, 'map', { value: () => ['forged'], writable: true });
  try {
    return fn();
  } finally {
    for (const [obj, key, desc] of saved.reverse()) {
      if (desc) Object.defineProperty(obj, key, desc);
      else delete obj[key];
    }
  }
}

test('reportJSON writes the fields as they are, whatever the sketch changed', () => {
  const msg = () => ({
    type: 'done', trigger: 'draw', width: 20, frame: 3, webglFailed: false,
    warnings: ['a "quoted"\nwarning', 'b'], sizes: [1, 2], triggerMs: NaN,
    skipped: undefined, fn() {}, nested: { type: 'nop5' }, mixed: ['x', { a: 1 }, ['y'], 7],
  });
  const want = '{"type":"done","trigger":"draw","width":20,"frame":3,"webglFailed":false,' +
    '"warnings":["a \\"quoted\\"\\nwarning","b"],"sizes":[1,2],"triggerMs":null,"nested":null,' +
    '"mixed":["x",null,null,7],"origin":"https://j1.invalid","sentAt":1.5}';
  const more = () => ({ origin: 'https://j1.invalid', sentAt: 1.5, parts: undefined });
  assert.equal(rt.reportJSON(msg(), more()), want);
  // What the prelude did before: its kept JSON.stringify, on a message it
  // gave fields by assignment. The forger wins.
  const stringify = JSON.stringify;
  const before = polluted(() => { const m = msg(); m.origin = 'https://j1.invalid'; return stringify(m); });
  assert.equal(JSON.parse(before).type, 'nop5');
  // The sketch's toJSON (of any prototype, arrays' and strings' too), an
  // enumerable field or a setter of Object.prototype's, and its own
  // JSON.stringify, Object.keys, Array.isArray: none is heard.
  assert.equal(polluted(() => rt.reportJSON(msg(), more())), want);
  assert.deepEqual(JSON.parse(want).warnings, ['a "quoted"\nwarning', 'b']);
  assert.equal(polluted(() => rt.reportJSON({ type: 'socket', url: 'wss://x/' })), '{"type":"socket","url":"wss://x/"}');
  assert.equal(rt.reportJSON({}), '{}');
});

test('p5Clash names the p5 globals the sketch declared first, and nothing else', () => {
  function P() {}
  P.prototype.mix = function () {};
  P.prototype.text = function () {};
  P.prototype.step = function () {};
  P.prototype.width = 0;
  // A window as a script leaves it: its declarations are undeletable.
  const win = { p5: P };
  const declare = (n) => Object.defineProperty(win, n, { value: 1, enumerable: true, configurable: false });
  declare('text');
  declare('myThing');
  declare('mix');
  declare('toString'); // Object.prototype's, not p5's
  win.width = 3; // an ordinary, deletable property: p5 redefines it
  const msg = (name) => 'TypeError: Cannot redefine property: ' + name;
  assert.deepEqual(rt.p5Clash(win, msg('text')), ['text', 'mix']);
  assert.deepEqual(rt.p5Clash(win, msg('mix')), ['mix', 'text']);
  // Not p5's: the sketch's own defineProperty, another error, no p5.
  assert.deepEqual(rt.p5Clash(win, msg('myThing')), []);
  assert.deepEqual(rt.p5Clash(win, msg('toString')), []);
  assert.deepEqual(rt.p5Clash(win, "TypeError: Cannot read properties of null (reading 'mix')"), []);
  assert.deepEqual(rt.p5Clash({}, msg('mix')), []);
  assert.deepEqual(rt.p5Clash({ p5: {} }, msg('mix')), []);
  // A name that runs on past the message's end is not taken.
  assert.deepEqual(rt.p5Clash(win, msg('mix') + ' and more'), []);
  // At most ten.
  const many = { p5: function Q() {} };
  for (let i = 0; i < 20; i++) {
    many.p5.prototype['f' + i] = 0;
    Object.defineProperty(many, 'f' + i, { value: 1, configurable: false });
  }
  assert.deepEqual(rt.p5Clash(many, msg('f3')), ['f3', 'f0', 'f1', 'f2', 'f4', 'f5', 'f6', 'f7', 'f8', 'f9']);
  // A p5 of the sketch's making that throws when looked at.
  const hostile = {};
  Object.defineProperty(hostile, 'p5', { get() { throw new Error('no'); } });
  assert.deepEqual(rt.p5Clash(hostile, msg('mix')), []);
});

test('preloadIgnored: a preload() of the window or the instance, on p5 2.x only', () => {
  const pre = function () {};
  assert.equal(rt.preloadIgnored({ preload: pre }, {}, 2), true);
  assert.equal(rt.preloadIgnored({}, { preload: pre }, 2), true);
  assert.equal(rt.preloadIgnored({ preload: pre }, {}, 1), false);
  assert.equal(rt.preloadIgnored({}, {}, 2), false);
  assert.equal(rt.preloadIgnored({ preload: 'not a function' }, null, 2), false);
  const hostile = {};
  Object.defineProperty(hostile, 'preload', { get() { throw new Error('no'); } });
  assert.equal(rt.preloadIgnored(hostile, {}, 2), false);
});
