// Unit tests of runtime.js's virtualMedia, virtualAnimations and the
// frame driver's sync hook under Node's own test runner:
//   node --test render/js/
// A fake media element stands in for Chromium's: its "real" state
// (currentTime, readyState, seeking) is set by the test, the way the
// browser would, and its events are dispatched by the test. The Go tests
// (render/media_test.go) run the same code against Chromium.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const rt = require('./runtime.js');

// fakeMediaWindow is a window with a media element type whose native
// state lives in el.real.
function fakeMediaWindow() {
  class Media extends EventTarget {
    constructor() {
      super();
      this.real = { currentTime: 0, paused: true, ended: false, playbackRate: 1, duration: NaN,
        readyState: 0, networkState: 0, loop: false, seeking: false, src: '' };
      this.log = [];
      this.preload = 'metadata';
      this.autoplay = false;
      this.isConnected = true;
    }
    getAttribute(n) { return n === 'src' ? this.real.src || null : null; }
    getElementsByTagName() { return []; }
    getClientRects() { return [1]; }
  }
  const P = Media.prototype;
  for (const name of ['currentTime', 'paused', 'ended', 'playbackRate', 'duration', 'readyState', 'networkState', 'loop', 'seeking', 'src']) {
    Object.defineProperty(P, name, {
      configurable: true,
      get() { return this.real[name]; },
      set(v) {
        this.real[name] = v;
        if (name === 'currentTime') {
          this.log.push('seek ' + v);
          this.real.seeking = true;
        }
      }
    });
  }
  P.play = function () { this.log.push('real play'); return Promise.resolve(); };
  P.pause = function () { this.log.push('real pause'); };
  P.load = function () { this.log.push('real load'); };
  const win = { Date, performance: {}, Promise, Event, WeakMap, HTMLMediaElement: Media, queueMicrotask };
  return { win, Media };
}

function setup() {
  const { win, Media } = fakeMediaWindow();
  const clock = rt.virtualClock(win, { epochMs: 0 });
  const media = rt.virtualMedia(win, clock);
  const el = new Media();
  return { win, clock, media, el };
}

// load plays the browser's part in a load of el: data, then its last
// event.
function load(el, duration) {
  Object.assign(el.real, { readyState: 4, networkState: 1, duration });
  el.dispatchEvent(new Event('canplaythrough'));
}

// seeked plays the browser's part in the seek el.log ends with.
function seeked(el) {
  el.real.readyState = 1;
  el.dispatchEvent(new Event('seeking'));
  el.real.seeking = false;
  el.real.readyState = 4;
  el.dispatchEvent(new Event('seeked'));
  el.dispatchEvent(new Event('canplay'));
  el.dispatchEvent(new Event('canplaythrough'));
}

const tick = () => new Promise((r) => setImmediate(r));

test('a load holds the clock until its last event', () => {
  const { clock, el } = setup();
  el.src = 'clip.webm';
  assert.equal(clock.held(), true);
  el.real.readyState = 4; // before the events, as in Chromium
  el.dispatchEvent(new Event('loadedmetadata'));
  el.dispatchEvent(new Event('suspend'));
  assert.equal(clock.held(), true);
  el.dispatchEvent(new Event('canplaythrough'));
  assert.equal(clock.held(), false);
});

test('an error ends a load; a suspend with no data ends one only for preload none', () => {
  const { clock, el } = setup();
  el.src = 'a.webm';
  el.dispatchEvent(new Event('suspend'));
  assert.equal(clock.held(), true, 'preload metadata: the load may go on');
  el.dispatchEvent(new Event('error'));
  assert.equal(clock.held(), false);
  el.preload = 'none';
  el.src = 'b.webm';
  assert.equal(clock.held(), true);
  el.dispatchEvent(new Event('suspend'));
  assert.equal(clock.held(), false);
});

test('the browser never plays it; its position follows virtual time', async () => {
  const { clock, media, el } = setup();
  el.src = 'clip.webm';
  load(el, 1);
  const events = [];
  for (const t of ['play', 'playing', 'pause']) el.addEventListener(t, () => events.push(t));
  assert.equal(el.paused, true);
  await el.play();
  await tick();
  assert.deepEqual(events, ['play', 'playing']);
  assert.equal(el.paused, false);
  assert.ok(!el.log.includes('real play'));
  clock.advance(250);
  assert.equal(el.currentTime, 0.25);
  // sync seeks it to the time it is about to be, and holds the clock
  // until the seek is done.
  assert.equal(media.sync(500), true);
  assert.equal(el.log.at(-1), 'seek 0.5');
  assert.equal(clock.held(), true);
  seeked(el);
  assert.equal(clock.held(), false);
  assert.equal(media.sync(500), false, 'already there');
  clock.advance(500);
  el.pause();
  await tick();
  assert.deepEqual(events, ['play', 'playing', 'pause']);
  clock.advance(900);
  assert.equal(el.currentTime, 0.5, 'paused where it was');
});

test('a seek is done only after the canplaythrough it brings, not one queued before it', () => {
  const { clock, media, el } = setup();
  el.src = 'clip.webm';
  load(el, 1);
  el.play();
  assert.equal(media.sync(100), true);
  // A canplaythrough queued before this seek's seeking ends nothing.
  el.dispatchEvent(new Event('canplaythrough'));
  assert.equal(clock.held(), true);
  el.real.readyState = 1;
  el.dispatchEvent(new Event('seeking'));
  el.real.seeking = false;
  el.real.readyState = 4;
  el.dispatchEvent(new Event('seeked'));
  assert.equal(clock.held(), true, 'canplay and canplaythrough are still to come');
  el.dispatchEvent(new Event('canplaythrough'));
  assert.equal(clock.held(), false);
});

test('it loops, or ends: paused at its end, with pause and ended before the frame past it', () => {
  const { clock, media, el } = setup();
  el.src = 'clip.webm';
  load(el, 1);
  el.real.loop = true;
  el.play();
  assert.equal(media.sync(1250), true);
  assert.equal(el.log.at(-1), 'seek 0.25');
  seeked(el);
  clock.advance(1250);
  assert.equal(el.currentTime, 0.25);
  el.real.loop = false;
  el.currentTime = 0.5; // the sketch seeks: it plays on from there
  seeked(el);
  const events = [];
  for (const t of ['pause', 'ended']) el.addEventListener(t, () => events.push(t + '@' + clock.now()));
  assert.equal(media.sync(1700), true);
  seeked(el);
  assert.deepEqual(events, [], 'not at its end yet');
  clock.advance(1700);
  media.sync(1800);
  assert.deepEqual(events, ['pause@1700', 'ended@1700']);
  assert.equal(el.paused, true);
  assert.equal(el.ended, true);
  assert.equal(el.currentTime, 1);
});

test('playbackRate counts from when it is set', () => {
  const { clock, el } = setup();
  el.src = 'clip.webm';
  load(el, 10);
  el.play();
  clock.advance(1000);
  el.playbackRate = 0.5;
  clock.advance(3000);
  assert.equal(el.currentTime, 1 + 0.5 * 2);
});

test('autoplay starts at the end of the load, unless the page paused it first', async () => {
  const { clock, el } = setup();
  el.autoplay = true;
  el.src = 'clip.webm';
  assert.ok(el.log.includes('real pause'), "the browser's own autoplay is called off");
  clock.advance(0);
  load(el, 1);
  assert.equal(el.paused, false);
  const other = setup().el;
  other.autoplay = true;
  other.src = 'clip.webm';
  other.pause();
  load(other, 1);
  assert.equal(other.paused, true);
});

test('the driver asks sync before each step, and waits for what it holds', () => {
  const win = { Date, performance: {}, reportError() {} };
  let driver = null;
  const clock = rt.virtualClock(win, { epochMs: 0, onWork: () => { if (driver) driver.wake(); } });
  const asked = [];
  let release = null;
  const queue = [];
  driver = rt.frameDriver(clock, {
    fps: () => 10,
    schedule: (fn) => queue.push(fn),
    stopped: () => false,
    sync(t) {
      asked.push(t);
      if (t === 100 && !release) {
        release = clock.hold();
        return true;
      }
      return false;
    }
  });
  const frames = [];
  function draw(ts) { frames.push(ts); if (frames.length < 3) win.requestAnimationFrame(draw); }
  win.requestAnimationFrame(draw);
  driver.start();
  while (queue.length) queue.shift()();
  assert.deepEqual(frames, [0], 'the frame at 100 waits for the seek');
  assert.equal(clock.now(), 0);
  release();
  while (queue.length) queue.shift()();
  assert.deepEqual(frames, [0, 100, 200]);
  assert.deepEqual(asked, [0, 100, 100, 200]);
});

// fakeAnimationWindow is a window whose document has the animations in
// list, each an Animation whose "real" state the test reads.
function fakeAnimationWindow() {
  class Anim {
    constructor(state) { this.real = { currentTime: 0, playbackRate: 1, playState: state }; }
    get playState() { return this.real.playState; }
    pause() { this.real.playState = 'paused'; }
    play() { this.real.playState = 'running'; }
  }
  for (const name of ['currentTime', 'playbackRate']) {
    Object.defineProperty(Anim.prototype, name, {
      configurable: true,
      get() { return this.real[name]; },
      set(v) { this.real[name] = v; }
    });
  }
  const list = [];
  const win = { Date, performance: {}, WeakMap, Animation: Anim, document: { getAnimations: () => list.slice() } };
  return { win, Anim, list };
}

test('animations are paused, and set to where virtual time puts them', () => {
  const { win, Anim, list } = fakeAnimationWindow();
  const clock = rt.virtualClock(win, { epochMs: 0 });
  const anims = rt.virtualAnimations(win, clock);
  clock.advance(100);
  const a = new Anim('running');
  a.real.currentTime = 37; // real time it ran before it was seen
  list.push(a);
  anims.sync(150); // seen at 100: its start
  assert.equal(a.real.playState, 'paused');
  assert.equal(a.currentTime, 50);
  clock.advance(150);
  a.playbackRate = 2; // from 150 on, twice as fast
  anims.sync(400);
  assert.equal(a.currentTime, 50 + 2 * 250);
  clock.advance(400);
  a.pause(); // by the page: held
  anims.sync(900);
  assert.equal(a.currentTime, 550);
  clock.advance(900);
  a.currentTime = 10; // seeked by the page, then played
  a.play();
  assert.equal(a.real.playState, 'paused', 'it is still ours to move');
  anims.sync(1000);
  assert.equal(a.currentTime, 10 + 2 * 100);
  // One the page had paused before it was seen stays where it is.
  const b = new Anim('paused');
  b.real.currentTime = 70;
  list.push(b);
  anims.sync(1200);
  assert.equal(b.currentTime, 70);
});
