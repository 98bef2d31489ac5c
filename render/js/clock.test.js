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

test('primeFirstFrame makes p5 draw the next frame at once', () => {
  const inst = { _lastTargetFrameTime: 100, _lastRealFrameTime: 100, _targetFrameRate: 10 };
  rt.primeFirstFrame(inst, 100, 60);
  assert.equal(inst._lastTargetFrameTime, 0); // 1000/10 before, the slower rate
  assert.equal(inst._lastRealFrameTime, 0);
  assert.equal(rt.frameRateOf(inst, 60), 10);
  assert.equal(rt.frameRateOf({ _targetFrameRate: 0 }, 60), 60);
  assert.equal(rt.frameRateOf(null, 24), 24);
});
