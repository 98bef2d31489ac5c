// The empplay video prelude. video.go puts it in a video job's page, after
// p5.js and before the sketch, with the job's settings in place of the
// EMPPLAY_VIDEO_CONFIG marker. It
//
//   - replaces the page's clocks with runtime.js's virtual one
//     (performance.now, Date, requestAnimationFrame, setTimeout,
//     setInterval and their clear functions, as on still images), which
//     stands still while the sketch loads and sets up and then advances by
//     exactly 1/fps per frame, so p5's millis(), frameCount and deltaTime
//     do too, however slow the machine;
//   - seeds Math.random and p5 and defines the globals a sketch may read,
//     as the still-image prelude does (doc.go, "Seeding");
//   - once the sketch has set up, drives it frame by frame: frame k is the main canvas after the timers due by k/fps
//     and the animation frame at k/fps have run;
//   - hands each frame to a dedicated worker (video_worker.js, started from
//     a blob: URL), which encodes it with WebCodecs (H.264 or VP9) as
//     BT.709 limited range, odd sizes padded, off the sketch's thread;
//   - reports to the renderer through the DevTools binding, one message a
//     call: a JSON header, then a newline and base64 data where there is
//     some:
//
//       {"type":"chunks", "first", "count", "sizes":[...], "keys":[...],
//        "done", "total"} "\n" base64    encoded frames first..first+count-1
//       {"type":"poster", "width", "height"} "\n" base64     the poster PNG
//       {"type":"done", "frames", "renderer", "canvasWidth", "canvasHeight",
//        "driveMs", "waitMs"}   (real ms: recording, waiting for the encoder)
//       {"type":"error", "message", "line", "frame"}   frame -1: before frame 0
//       {"type":"encoder", "message", "frame"}   WebCodecs failed
//       {"type":"nocanvas", "message"}
//       {"type":"nop5"}   p5.js did not load: sent first and alone
//
//     video.go fails a job whose page sends anything else, or these out
//     of their order, as the sketch's error: keep the two in step.
//
// Keep it free of globals: it runs in the sketch's realm.
(function () {
  'use strict';
  var cfg = /*EMPPLAY_VIDEO_CONFIG*/null;
  // A tab serves many jobs (see render.IsolateOrigin), and the window's
  // name is the one thing a page sets that outlives it in the tab, even
  // across sites when the browser navigates: start without one.
  window.name = '';
  var binding = window[cfg.binding];
  try { delete window[cfg.binding]; } catch (e) { /* keep going */ }

  // What the driver needs, kept before the sketch can redefine it: a
  // sketch that broke the encoder's worker (its constructor, postMessage,
  // what its messages say) would fail the job as the host's encoder_error,
  // retried.
  var realSetTimeout = window.setTimeout.bind(window);
  var RealDate = Date;
  var VideoFrameCtor = window.VideoFrame;
  var WorkerCtor = window.Worker;
  var BlobCtor = window.Blob;
  var objectURL = URL.createObjectURL.bind(URL);
  // uncurry(f)(x, args...) is f.call(x, args...), without looking up
  // call on f when it runs.
  function uncurry(f) { return Function.prototype.call.bind(f); }
  var postTo = uncurry(WorkerCtor.prototype.postMessage);
  var eventData = uncurry(Object.getOwnPropertyDescriptor(MessageEvent.prototype, 'data').get);
  var errorEventMessage = uncurry(Object.getOwnPropertyDescriptor(ErrorEvent.prototype, 'message').get);
  function errorMessage(ev) {
    try { return errorEventMessage(ev); } catch (e) { return ''; } // an Event, not an ErrorEvent
  }
  var sliceOf = uncurry(String.prototype.slice);
  var indexOf = uncurry(String.prototype.indexOf);
  var realNow = performance.now.bind(performance);
  var hasOwn = Object.prototype.hasOwnProperty;
  var own = uncurry(hasOwn);
  var finished = false;
  // send reports msg, an object literal of the prelude's (see reportJSON:
  // the sketch can change neither its JSON nor its fields), and data.
  // sent counts the bytes sent to the recorder (all ASCII), taken those
  // the recorder says it has handled (see the frame loop's wait).
  var sent = 0, taken = 0;
  function send(msg, data) {
    var payload = data === undefined ? reportJSON(msg) : reportJSON(msg) + '\n' + data;
    sent += payload.length;
    binding(payload);
  }
  function finish(msg) {
    if (finished) return;
    finished = true;
    send(msg);
  }

  // ---- Virtual time (runtime.js's virtualClock): it stands still while
  // the sketch loads and sets up, then drive() advances it frame by frame.
  /*EMPPLAY_RUNTIME*/
  var reportJSON = empplayRuntime.reportJSON;
  var frame = -1;      // the frame being made, -1 before frame 0
  var clock = empplayRuntime.virtualClock(window, { epochMs: cfg.epochMs, freeReads: cfg.freeReads, readStepMs: cfg.readStepMs });
  // What the page waits for in real time (a fetch, an image, a font: see
  // runtime.js) holds the clock, as in a still: the next frame waits for
  // it, so a file shows in the same frame however fast it came.
  empplayRuntime.holdRealEvents(window, clock);
  // <video> and <audio> on the virtual clock: before each advance, what
  // plays is seeked to the frame's time (runtime.js, virtualMedia).
  var media = empplayRuntime.virtualMedia(window, clock);
  function loadsDone() {
    return new Promise(function (resolve) {
      (function check() {
        if (!clock.held() || finished) resolve();
        else realSetTimeout(check, 5);
      })();
    });
  }
  // WebGL canvases keep their picture after the frame is presented, so the
  // driver can read it in a later task.
  var getContext = HTMLCanvasElement.prototype.getContext;
  HTMLCanvasElement.prototype.getContext = function (type, attrs) {
    if (/webgl/.test(String(type))) {
      var a = {};
      for (var k in attrs) if (hasOwn.call(attrs, k)) a[k] = attrs[k];
      a.preserveDrawingBuffer = true;
      return getContext.call(this, type, a);
    }
    return getContext.apply(this, arguments);
  };

  // ---- Seeding and the platforms' globals (runtime.js, see doc.go). A
  // video has no single picture to signal: $fx.preview() and
  // empplay.capture() do nothing.
  var describe = empplayRuntime.describe;
  var p5Clash = empplayRuntime.p5Clash;
  function lineOf(err) { return empplayRuntime.lineOf(location.origin + cfg.sketchURL, err); }
  empplayRuntime.installGlobals(window, cfg, function () {}).video = { fps: cfg.fps, frames: cfg.frames, duration: cfg.frames / cfg.fps };

  // ---- Errors.
  function fail(message, line) {
    finish({ type: 'error', message: message, line: line | 0, frame: frame, clash: p5Clash(window, message),
      preloadIgnored: preloadIgnored });
  }
  empplayRuntime.reportErrors(window, location.origin + cfg.sketchURL, fail);

  // ---- The sketch.
  var P = window.p5;
  if (typeof P !== 'function') {
    // Not the sketch's doing: nothing of the job has run yet.
    finish({ type: 'nop5' });
    return;
  }
  var started = false, setupDone = false, current = null, driving = false;
  // ready starts the driver once the sketch has set up, in a task of its
  // own (by then p5 1.x has drawn frame 0; p5 2.x draws it when the driver
  // runs the animation frame at t = 0).
  function ready() {
    if (driving || finished) return;
    driving = true;
    realSetTimeout(drive, 0);
  }
  // afterSetup makes p5 draw its first frame at t = 0, as if it had drawn
  // one frame (of the video, or of the sketch's frameRate() when slower)
  // before: p5 skips a frame that comes sooner than 1/frameRate after the
  // last (p5 1.x and 2.x keep that time in _lastTargetFrameTime).
  function afterSetup(inst) {
    setupDone = true;
    frame = 0;
    empplayRuntime.primeFirstFrame(inst, clock.now(), cfg.fps);
    ready();
  }
  // preloadIgnored: the sketch defines a preload() that its p5 (2.x)
  // never calls (see preloadIgnored in runtime.js).
  var preloadIgnored = false;
  var major = empplayRuntime.hookP5(P, {
    init: function (inst) {
      started = true;
      if (!current) current = inst;
      empplayRuntime.seedP5(cfg.seed, inst);
      if (empplayRuntime.preloadIgnored(window, inst, major)) preloadIgnored = true;
    },
    afterSetup: afterSetup
  });
  // Code that starts no p5 sketch (a canvas drawn by hand, animated with
  // requestAnimationFrame) is driven from its load event. A page with
  // neither a sketch nor a canvas by then may start its sketch from a
  // timer (setTimeout(() => new p5(s), 0)) or an animation frame, as it
  // may in a still: its timers due in the first noSketchTimersMs of
  // virtual time run, one due time at a time, then one animation frame,
  // until a sketch starts (it is driven once set up) or a canvas exists;
  // the recording starts at that virtual time.
  window.addEventListener('load', function () {
    realSetTimeout(function () {
      var limit = clock.now() + cfg.noSketchTimersMs, frameTried = false;
      (function next() {
        if (started || driving || finished) return;
        if (clock.held()) {
          // Code may start its sketch once a file has come.
          realSetTimeout(next, 5);
          return;
        }
        var due = clock.nextDue();
        // Then one animation frame, which may start the sketch too
        // (requestAnimationFrame(() => new p5(s))).
        var frameFirst = !frameTried && clock.hasFrames() && (due < 0 || due > limit);
        if (!mainCanvas() && (frameFirst || (due >= 0 && due <= limit))) {
          try {
            var at = frameFirst ? clock.now() : due;
            if (media.sync(at)) {
              realSetTimeout(next, 5); // a seek holds the clock: see above
              return;
            }
            if (frameFirst) {
              frameTried = true;
              clock.advance(at);
            } else {
              clock.advance(due, true);
            }
          } catch (e) {
            fail(describe(e), lineOf(e));
            return;
          }
          realSetTimeout(next, 0); // a task of its own, as a timer has
          return;
        }
        setupDone = true;
        driving = true;
        drive();
      })();
    }, cfg.noSketchGraceMs);
  });

  function mainCanvas() { return empplayRuntime.mainCanvas(document, '', current); }
  var webglRenderer = empplayRuntime.webglRenderer;

  // A macrotask without timer clamping: lets microtasks (p5 2.x draws
  // asynchronously), the worker's messages and the encoder run.
  var channel = new MessageChannel();
  var yielded = [];
  channel.port1.onmessage = function () { var f = yielded.shift(); if (f) f(); };
  function yieldTask() {
    return new Promise(function (resolve) { yielded.push(resolve); channel.port2.postMessage(0); });
  }

  async function drive() {
    var canvas = mainCanvas();
    if (!canvas) {
      finish({ type: 'nocanvas', message: started ? 'the sketch has no canvas to record (did it call noCanvas()?)'
        : 'the sketch defines no setup() or draw() function and creates no canvas' });
      return;
    }
    var W = cfg.width, H = cfg.height;
    // A canvas of another size than the video is scaled to it.
    var scaler = null, sctx = null;
    var worker;
    try {
      worker = new WorkerCtor(objectURL(new BlobCtor([cfg.workerSource], { type: 'text/javascript' })));
    } catch (e) {
      finish({ type: 'encoder', message: 'could not start the encoder: ' + describe(e), frame: -1 });
      return;
    }
    var encoded = 0, wake = null, broken = '';
    // The recorder says how many bytes it has handled (passed to ffmpeg);
    // no frame is drawn while more than cfg.aheadBytes of what was sent
    // are unhandled, so a slow ffmpeg slows the recording down.
    Object.defineProperty(window, cfg.takenName, {
      value: function (n) {
        if (typeof n === 'number' && n > taken) taken = n;
        if (wake) { var w = wake; wake = null; w(); }
      }
    });
    var pending = [];
    // The worker's messages are read by their own fields only: the
    // sketch may have given Object.prototype an error.
    worker.onmessage = function (ev) {
      var m = eventData(ev);
      if (m === null || typeof m !== 'object') return;
      if (own(m, 'error') && m.error) broken = String(m.error);
      if (own(m, 'chunks') && m.chunks) {
        encoded += m.chunks.length;
        pending.push(m);
      }
      if (own(m, 'flushed') && m.flushed) encoded = Infinity;
      if (wake) { var w = wake; wake = null; w(); }
    };
    worker.onerror = function (ev) { broken = 'the encoder failed: ' + (errorMessage(ev) || 'unknown error'); if (wake) { var w = wake; wake = null; w(); } };
    postTo(worker, { init: {
      width: W, height: H, codedWidth: cfg.codedWidth, codedHeight: cfg.codedHeight,
      codec: cfg.codec, bitrate: cfg.bitrate, fps: cfg.fps, keyEvery: cfg.keyEvery
    } });
    function flushChunks() {
      if (!pending.length) return;
      var sizes = [], keys = [], data = '', first = pending[0].first, count = 0;
      for (var i = 0; i < pending.length; i++) {
        var m = pending[i];
        for (var j = 0; j < m.chunks.length; j++) {
          sizes.push(m.sizes[j]);
          keys.push(m.keys[j]);
        }
        data += m.chunks.join('');
        count += m.chunks.length;
      }
      pending = [];
      send({ type: 'chunks', first: first, count: count, sizes: sizes, keys: keys, done: first + count, total: cfg.frames }, data);
    }
    function until(cond) {
      return new Promise(function (resolve) {
        (function check() {
          if (cond() || broken) { resolve(); return; }
          wake = check;
        })();
      });
    }

    // Frame k is at t0 + k/fps: t0 is 0, unless the sketch started from a
    // timer (see the load event's handler) or its setup moved time on.
    var dt = 1000 / cfg.fps, t0 = clock.now(), loadWait = 0;
    var started = realNow(), waited = 0;
    for (var k = 0; k < cfg.frames; k++) {
      frame = k;
      var l0 = realNow();
      for (;;) {
        if (clock.held()) {
          await loadsDone();
          if (finished) { worker.terminate(); return; }
        }
        if (!media.sync(t0 + k * dt)) break;
      }
      loadWait += realNow() - l0;
      try {
        clock.advance(t0 + k * dt);
      } catch (e) {
        fail(describe(e), lineOf(e));
        worker.terminate();
        return;
      }
      // Let a p5 2.x draw (a promise) finish, and errors surface.
      await yieldTask();
      if (finished) { worker.terminate(); return; }
      if (!canvas.isConnected) canvas = mainCanvas() || canvas;
      var src = canvas;
      if (canvas.width !== W || canvas.height !== H) {
        if (!scaler) {
          scaler = document.createElement('canvas');
          scaler.width = W;
          scaler.height = H;
          sctx = scaler.getContext('2d');
        }
        sctx.clearRect(0, 0, W, H);
        sctx.drawImage(canvas, 0, 0, W, H);
        src = scaler;
      }
      var vf;
      try {
        vf = new VideoFrameCtor(src, { timestamp: Math.round(k * 1e6 / cfg.fps), duration: Math.round(1e6 / cfg.fps) });
      } catch (e) {
        fail('could not read the canvas at frame ' + k + ': ' + describe(e), 0);
        worker.terminate();
        return;
      }
      postTo(worker, { frame: vf, k: k }, [vf]);
      if (k === cfg.posterFrame) {
        var url = src.toDataURL('image/png');
        send({ type: 'poster', width: src.width, height: src.height }, sliceOf(url, indexOf(url, ',') + 1));
      }
      flushChunks();
      // Keep a few frames in flight: enough to keep the encoder busy,
      // few enough that memory stays flat.
      var w0 = realNow();
      await until(function () { return k + 1 - encoded <= cfg.inFlight && sent - taken <= cfg.aheadBytes; });
      waited += realNow() - w0;
      if (broken) break;
      if (k === 0 || k % cfg.yieldEvery === 0) await yieldTask();
    }
    if (!broken && !finished) {
      postTo(worker, { flush: true });
      await until(function () { return encoded === Infinity; });
    }
    flushChunks();
    worker.terminate();
    if (broken) {
      finish({ type: 'encoder', message: broken, frame: frame });
      return;
    }
    finish({ type: 'done', frames: cfg.frames, renderer: webglRenderer(canvas), canvasWidth: canvas.width, canvasHeight: canvas.height,
      driveMs: realNow() - started, waitMs: waited, loadWaitMs: loadWait });
  }
})();
