// Unit tests of runtime.js's virtual clock (virtualClock, frameDriver,
// holdRealEvents, primeFirstFrame) under Node's own test runner:
//   node --test render/js/
// A fake window stands in for the page's: only what the clock touches.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const rt = require('./runtime.js');

const EPOCH = 1735689600000;

function fakeWindow() {
  return { Date, performance: {}, reported: [], reportError(e) { this.reported.push(e); } };
}

// newClock puts a fake window on the virtual clock; the clock wakes
// the driver newDriver gives it last, as in the page.
function newClock(over) {
  const win = fakeWindow();
  const wakes = { driver: null };
  const clock = rt.virtualClock(win, Object.assign({
    epochMs: EPOCH, freeReads: 100, readStepMs: 0.5,
    onWork: () => { if (wakes.driver) wakes.driver.wake(); }
  }, over));
  clock.wakes = wakes;
  return { win, clock };
}

// newDriver is a frameDriver of clock whose steps run() runs, at most
// limit of them, one after the other as the page's MessageChannel would.
function newDriver(clock, fps, over) {
  const queue = [];
  let stopped = false;
  const d = rt.frameDriver(clock, Object.assign({
    fps: () => fps(),
    schedule: (fn) => queue.push(fn),
    stopped: () => stopped
  }, over));
  clock.wakes.driver = d;
  return {
    d,
    stop() { stopped = true; },
    run(limit) {
      let n = 0;
      while (queue.length && n < limit) { queue.shift()(); n++; }
      return n;
    }
  };
}

test('time stands still until advanced', () => {
  const { win, clock } = newClock();
  assert.equal(win.performance.now(), 0);
  assert.equal(win.Date.now(), EPOCH);
  assert.equal(new win.Date().getTime(), EPOCH);
  assert.ok(new win.Date() instanceof Date);
  assert.equal(new win.Date(5).getTime(), 5);
  clock.advance(1234.5);
  assert.equal(win.performance.now(), 1234.5);
  assert.equal(win.Date.now(), EPOCH + 1234);
});

test('timers run in order at their due time, before the frames', () => {
  const { win, clock } = newClock();
  const log = [];
  win.setTimeout(() => log.push('b@' + win.performance.now()), 20);
  win.setTimeout(() => log.push('a@' + win.performance.now()), 10);
  win.setTimeout((x, y) => log.push('args ' + x + y), 10, 1, 2);
  const gone = win.setTimeout(() => log.push('cleared'), 5);
  win.clearTimeout(gone);
  win.requestAnimationFrame((ts) => log.push('frame@' + ts));
  clock.advance(15);
  assert.deepEqual(log, ['a@10', 'args 12', 'frame@15']);
  clock.advance(30, true);
  assert.deepEqual(log, ['a@10', 'args 12', 'frame@15', 'b@20']);
  assert.equal(clock.nextDue(), -1);
});

test('a zero timeout runs a millisecond later; intervals do not drift', () => {
  const { win, clock } = newClock();
  const at = [];
  win.setTimeout(() => at.push(win.performance.now()), 0);
  clock.advance(0);
  assert.deepEqual(at, []);
  clock.advance(1);
  assert.deepEqual(at, [1]);
  const ticks = [];
  const id = win.setInterval(() => ticks.push(win.performance.now()), 1000 / 3);
  clock.advance(1000);
  win.clearInterval(id);
  clock.advance(5000);
  assert.deepEqual(ticks, [1 + 1000 / 3, 1 + 2000 / 3]);
});

test('reads past freeReads move time on, and count as busy', () => {
  const { win, clock } = newClock({ freeReads: 10, readStepMs: 0.5 });
  const t0 = win.Date.now();
  let reads = 0;
  while (win.Date.now() - t0 < 20) reads++;
  assert.ok(reads > 10 && reads < 100, 'reads ' + reads);
  assert.ok(clock.busyMs() >= 20);
  // An advance starts the count over: a few reads leave time alone.
  clock.advance(100);
  assert.equal(win.performance.now(), 100);
  assert.equal(win.performance.now(), 100);
});

test('with rethrow, a throwing callback is reported and the others run', () => {
  const { win, clock } = newClock({ rethrow: true });
  const log = [];
  win.setTimeout(() => { throw new Error('boom'); }, 1);
  win.setTimeout(() => log.push('after'), 2);
  win.requestAnimationFrame(() => { throw new Error('frame'); });
  win.requestAnimationFrame(() => log.push('frame'));
  clock.advance(5);
  assert.deepEqual(log, ['after', 'frame']);
  assert.deepEqual(win.reported.map((e) => e.message), ['boom', 'frame']);
});

test('the driver runs frames on the 1/fps grid and follows frameRate()', () => {
  const { win, clock } = newClock();
  let fps = 60;
  const times = [];
  const { d, run } = newDriver(clock, () => fps, {});
  // A sketch that draws every frame and asks for the next.
  function draw(ts) {
    times.push(ts);
    if (times.length === 3) fps = 24;
    if (times.length < 6) win.requestAnimationFrame(draw);
  }
  win.requestAnimationFrame(draw);
  d.startTimers(); // timers only: no frame yet
  assert.equal(run(100), 0);
  d.start();
  run(100);
  const dt = 1000 / 60, dt24 = 1000 / 24;
  assert.deepEqual(times, [0, dt, 2 * dt, 2 * dt + dt24, 2 * dt + 2 * dt24, 2 * dt + 3 * dt24]);
  assert.equal(d.frames(), 6);
});

test('the driver jumps to the next timer when no frame is asked for', () => {
  const { win, clock } = newClock();
  const log = [];
  const { d, run } = newDriver(clock, () => 10, {});
  d.startTimers();
  win.setTimeout(() => log.push(win.performance.now()), 2500);
  run(10);
  assert.deepEqual(log, [2500]);
  // Frames after it come on the grid from start().
  d.start();
  win.setTimeout(() => win.requestAnimationFrame((ts) => log.push('frame@' + ts)), 50);
  run(10);
  assert.deepEqual(log, [2500, 'frame@2600']);
});

test('startTimers(until) runs the timers due by until, and a later call lifts it', () => {
  const { win, clock } = newClock();
  const log = [];
  const { d, run } = newDriver(clock, () => 60, {});
  // Code without a sketch yet: an interval, and a sketch due at 1500.
  win.setInterval(() => log.push(win.performance.now()), 400);
  win.setTimeout(() => log.push('sketch'), 1500);
  d.startTimers(1000);
  run(100);
  assert.deepEqual(log, [400, 800]);
  assert.equal(clock.now(), 800);
  assert.equal(d.pending(), false);
  d.startTimers(500); // lowers nothing
  assert.equal(run(100), 0);
  d.startTimers(); // the sketch started: every timer runs
  assert.equal(d.pending(), true);
  run(4);
  assert.deepEqual(log, [400, 800, 1200, 'sketch', 1600, 2000]);
});

test('the driver waits while the clock is held, and stops when told', () => {
  const { win, clock } = newClock();
  const { d, run, stop } = newDriver(clock, () => 60, {});
  let frames = 0;
  function draw() { frames++; win.requestAnimationFrame(draw); }
  win.requestAnimationFrame(draw);
  d.start();
  run(3);
  assert.equal(frames, 3);
  const release = clock.hold();
  assert.equal(clock.held(), true);
  assert.equal(run(100), 1); // the step already queued sees the hold
  assert.equal(frames, 3);
  release();
  release(); // twice is once
  assert.equal(clock.held(), false);
  run(2);
  assert.equal(frames, 5);
  stop();
  run(100);
  assert.equal(frames, 5);
});

test('holdRealEvents holds the clock until a fetch settles', async () => {
  const { win, clock } = newClock();
  let resolve;
  win.fetch = () => new Promise((r) => { resolve = r; });
  let rejectIt;
  win.createImageBitmap = () => new Promise((_, j) => { rejectIt = j; });
  rt.holdRealEvents(win, clock);
  const p = win.fetch('x');
  assert.equal(clock.held(), true);
  resolve('body');
  assert.equal(await p, 'body');
  assert.equal(clock.held(), false);
  const q = win.createImageBitmap();
  assert.equal(clock.held(), true);
  rejectIt(new Error('bad'));
  await assert.rejects(q);
  assert.equal(clock.held(), false);
});

// fakeDOM gives win the little of the DOM holdRealEvents touches: an
// Element with setAttribute(NS), innerHTML and insertAdjacentHTML (the
// HTML is '<img>' or anything else), an HTMLImageElement whose src and
// srcset start a load (complete turns false until load() or fail()), and
// a MutationObserver whose records the test delivers (win.mutations).
function fakeDOM(win) {
  class Element {
    constructor(name) { this.localName = name; this.nodeType = 1; this.parentNode = null; this.children = []; this.on = {}; this.attrs = {}; }
    addEventListener(t, f) { (this.on[t] = this.on[t] || []).push(f); }
    removeEventListener(t, f) { this.on[t] = (this.on[t] || []).filter((g) => g !== f); }
    fire(t) { (this.on[t] || []).slice().forEach((f) => f()); }
    listeners() { return (this.on.load || []).length + (this.on.error || []).length; }
    setAttribute(n, v) {
      this.attrs[n.toLowerCase()] = v;
      if (this.localName === 'img' && /^src(set)?$/i.test(n)) this.complete = false;
    }
    setAttributeNS(ns, n, v) { this.setAttribute(n, v); }
    get firstElementChild() { return this.children[0] || null; }
    getElementsByTagName(tag) {
      const out = [];
      const walk = (e) => e.children.forEach((c) => { if (c.localName === tag) out.push(c); walk(c); });
      walk(this);
      return out;
    }
    append(c) { c.parentNode = this; this.children.push(c); }
    insertAdjacentHTML(pos, html) { parse(html).forEach((c) => this.append(c)); }
  }
  Object.defineProperty(Element.prototype, 'innerHTML', {
    configurable: true,
    get() { return ''; },
    set(v) { this.children = []; parse(v).forEach((c) => this.append(c)); }
  });
  class HTMLImageElement extends Element {
    constructor() { super('img'); this.complete = true; this.loading = 'auto'; }
    load() { this.complete = true; this.fire('load'); }
    fail() { this.complete = true; this.fire('error'); }
  }
  for (const name of ['src', 'srcset']) {
    Object.defineProperty(HTMLImageElement.prototype, name, {
      configurable: true,
      get() { return this.attrs[name] || ''; },
      set(v) { this.setAttribute(name, v); }
    });
  }
  function parse(html) {
    if (html !== '<img>') return [new Element('p')];
    const img = new HTMLImageElement();
    img.setAttribute('src', 'x.png');
    return [img];
  }
  win.Element = Element;
  win.HTMLImageElement = HTMLImageElement;
  win.WeakMap = WeakMap;
  win.document = {};
  win.MutationObserver = class {
    constructor(cb) { win.mutations = cb; }
    observe(target, opts) { win.observed = { target, opts }; }
  };
  return { Element, HTMLImageElement, parse };
}

test('holdRealEvents holds the clock while an image loads, however its load started', () => {
  const { win, clock } = newClock();
  const { Element, HTMLImageElement } = fakeDOM(win);
  rt.holdRealEvents(win, clock);
  const starts = {
    'src property': (i) => { i.src = 'a.png'; },
    'srcset property': (i) => { i.srcset = 'a.png 1x'; },
    'setAttribute src': (i) => i.setAttribute('src', 'a.png'),
    'setAttribute SRCSET': (i) => i.setAttribute('SRCSET', 'a.png 1x'),
    'setAttributeNS': (i) => i.setAttributeNS(null, 'src', 'a.png')
  };
  for (const [how, start] of Object.entries(starts)) {
    for (const end of ['load', 'fail']) {
      const img = new HTMLImageElement();
      start(img);
      assert.equal(clock.held(), true, how);
      start(img); // again while it loads: still one hold
      img[end]();
      assert.equal(clock.held(), false, how + ' then ' + end);
      assert.equal(img.listeners(), 0, how + ': its listeners are gone');
    }
  }
  // Not a load: another attribute, another element, a lazy image, a
  // cached one (complete at once).
  const img = new HTMLImageElement();
  img.setAttribute('alt', 'x');
  new Element('script').setAttribute('src', 'a.js');
  assert.equal(clock.held(), false);
  const lazy = new HTMLImageElement();
  lazy.loading = 'lazy';
  lazy.src = 'a.png';
  const cached = new HTMLImageElement();
  Object.defineProperty(cached, 'complete', { get: () => true, set() {} });
  cached.src = 'a.png';
  assert.equal(clock.held(), false);
});

test('holdRealEvents holds for images in parsed HTML and put in the document', () => {
  const { win, clock } = newClock();
  const { Element, HTMLImageElement, parse } = fakeDOM(win);
  rt.holdRealEvents(win, clock);
  const div = new Element('div');
  div.innerHTML = '<p>';
  assert.equal(clock.held(), false);
  div.innerHTML = '<img>';
  assert.equal(clock.held(), true);
  div.children[0].load();
  assert.equal(clock.held(), false);
  div.insertAdjacentHTML('beforeend', '<img>');
  assert.equal(clock.held(), true);
  div.children[0].load(); // complete already: was not held
  div.children[1].load();
  assert.equal(clock.held(), false);

  assert.equal(win.observed.target, win.document);
  assert.deepEqual(win.observed.opts, { childList: true, subtree: true, attributes: true, attributeFilter: ['src', 'srcset'] });
  // An image put in the document another way (a clone appended).
  const section = new Element('section');
  const added = parse('<img>')[0];
  section.append(added);
  win.mutations([{ type: 'childList', target: new Element('body'), addedNodes: [section] }]);
  assert.equal(clock.held(), true);
  added.fail();
  assert.equal(clock.held(), false);
  // A <picture>'s <source> changed: its <img> loads again.
  const picture = new Element('picture');
  const source = new Element('source');
  const pic = new HTMLImageElement();
  picture.append(source);
  picture.append(pic);
  pic.complete = false;
  win.mutations([{ type: 'attributes', target: source, addedNodes: [] }]);
  assert.equal(clock.held(), true);
  pic.load();
  assert.equal(clock.held(), false);
});

test('primeFirstFrame makes p5 draw the next frame at once', () => {
  const inst = { _lastTargetFrameTime: 100, _lastRealFrameTime: 100, _targetFrameRate: 10 };
  rt.primeFirstFrame(inst, 100, 60);
  assert.equal(inst._lastTargetFrameTime, 0); // 1000/10 before, the slower rate
  assert.equal(inst._lastRealFrameTime, 0);
  assert.equal(rt.frameRateOf(inst, 60), 10);
  assert.equal(rt.frameRateOf({ _targetFrameRate: 0 }, 60), 60);
  assert.equal(rt.frameRateOf(null, 24), 24);
});
