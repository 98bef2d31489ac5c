// The empplay prelude. page.go puts it in the page with settings in place
// of the EMPPLAY_CONFIG marker: for a js job, the job's settings, first in
// the document's head; for a p5 job, only the settings every p5 page shares
// (the shell), after p5.js. A p5 page is the same document for every job
// of a p5 major version, so it can be loaded before its job is known: the
// job arrives as the next script, job.js, which calls the start function
// this prelude defines (cfg.startName) with the job's settings, and then
// comes the sketch. The prelude reports exactly one message to the
// renderer through the DevTools binding: a JSON object, for "done"
// followed by a newline and the PNG in base64 (kept out of the JSON, which
// would only escape and unescape megabytes):
//
//   {"type":"done", "trigger":"draw"|"setup"|"load"|"frames"|"delay"|
//    "capture"|"fxpreview"|"deadline", "width", "height", "renderer",
//    "p5ReadyMs", "startMs", "triggerMs", "frame", "warnings", "encodeMs",
//    "doneMs"} "\n" base64                   p5: the canvas is captured
//   {"type":"ready", "trigger":"load"|"delay"|"capture"|"fxpreview"|
//    "deadline", "p5ReadyMs", "triggerMs", "frame", "warnings", "doneMs"}
//                                           js: take the screenshot now
//   {"type":"error", "message", "line", "webglFailed"}
//                                           uncaught exception or rejection
//   {"type":"nocanvas", "message", "webglFailed"}   nothing to capture
//   {"type":"nop5"}                         p5.js did not load (the renderer's fault)
//
// Before any code of the job runs it replaces Math.random with a PRNG
// seeded from the job's hash and defines the globals the sketch may read:
// window.empplay, fxhash's ($fx, fxhash, fxrand, fxminter, fxrandminter,
// fxpreview, isFxpreview) and Art Blocks' (tokenData); doc.go defines them.
// Unless the job keeps real time, it also puts the page on runtime.js's
// virtual clock and drives its frames (doc.go, "Time"); triggerMs is then
// virtual time, the other *Ms real time for debug logs.
// Keep it ES5-ish and free of other globals: it runs in the sketch's own
// realm, and the sketch may redefine anything after it.
(function () {
  'use strict';
  // Milliseconds since navigation start when the prelude starts (for a p5
  // job: when p5.js has been evaluated), for the renderer's debug timings.
  var realNow = performance.now.bind(performance);
  var timeOrigin = performance.timeOrigin;
  var p5Ready = realNow();
  var startMs = 0; // when the job's settings arrived
  var cfg = /*EMPPLAY_CONFIG*/null;
  // A tab serves many jobs (see render.IsolateOrigin), and the window's
  // name is the one thing a page sets that outlives it in the tab, even
  // across sites when the browser navigates: start without one.
  window.name = '';

  // The binding is installed by Runtime.addBinding before the page loads.
  // Keep a private reference and remove the global, so that the sketch can
  // neither call it nor see it.
  var binding = window[cfg.binding];
  try { delete window[cfg.binding]; } catch (e) { /* keep going */ }

  // A p5 sketch on the virtual clock renders in a hidden page (the browser
  // then makes no frames of it: render.go, present), but it is drawn as if
  // it were shown, as in the artist's own browser: a sketch that pauses
  // while its tab is hidden must not pause here.
  try {
    Object.defineProperty(Document.prototype, 'visibilityState', {
      configurable: true, enumerable: true, get: function () { return 'visible'; }
    });
    Object.defineProperty(Document.prototype, 'hidden', {
      configurable: true, enumerable: true, get: function () { return false; }
    });
  } catch (e) { /* keep the real ones */ }

  // settleMaxMs bounds a report's wait for the page's loads (see report);
  // a refused request is answered in milliseconds, a file the worker
  // fetches may take longer, and is not what the wait is for.
  var settleMaxMs = 1000, settlePollMs = 5;
  // The sketch runs in this realm and may redefine globals: keep what the
  // prelude relies on later.
  var stringify = JSON.stringify;
  var setTimeout = window.setTimeout.bind(window);
  var requestFrame = window.requestAnimationFrame.bind(window);
  var getRect = Element.prototype.getBoundingClientRect;
  // The virtual clock and its driver (runtime.js), unless the job keeps
  // real time; vFrame is the virtual requestAnimationFrame.
  var clock = null, driver = null, vFrame = null, media = null, anims = null;
  var hasOwn = Object.prototype.hasOwnProperty;
  // String methods for the picture's base64, uncalled through the
  // prototype.
  var sliceOf = Function.prototype.call.bind(String.prototype.slice);
  var indexOf = Function.prototype.call.bind(String.prototype.indexOf);
  var finished = false;
  var lateError = false; // a js page may report one error after "ready"
  // A long tail of a report (the picture's base64) goes ahead of it in
  // parts of this many characters, each a payload of its own that begins
  // with partMark (see reportparts.go).
  var reportPart = cfg.reportPart;
  var partMark = '\u0001';
  // report sends msg, an object literal of the prelude's (see
  // reportJSON: the sketch can change neither its JSON nor its fields),
  // and tail after it.
  function report(msg, tail) {
    if (finished) {
      if (cfg.mode !== 'js' || msg.type !== 'error' || lateError) return;
      lateError = true;
    }
    finished = true;
    // The origin says which page spoke: a tab's earlier page (a warm shell
    // whose navigation the job's overtook) must not answer for the job's.
    var origin = location.origin;
    // The report waits (at most settleMaxMs) for the loads the page has in
    // flight. The renderer records a request it refuses before the page
    // hears that it failed, while this report and the request reach it by
    // different ways: without the wait a sketch that fails, or is
    // captured, right after asking for a blocked URL would be known to
    // have asked in some runs and not in others (network_blocked or
    // sketch_error, a warning or none). Not at the deadline, which has
    // no time to spare.
    var settleBy = realNow() + (msg.trigger === 'deadline' ? 0 : settleMaxMs);
    (function send() {
      if (clock && clock.held() && realNow() < settleBy) {
        setTimeout(send, settlePollMs);
        return;
      }
      // sentAt (wall-clock milliseconds) times the report's way out, for
      // the worker's debug log.
      var sentAt = timeOrigin + realNow();
      if (tail === undefined) {
        binding(reportJSON(msg, { origin: origin, sentAt: sentAt }));
        return;
      }
      // The parts go first, so that the browser forwards and the worker
      // decodes one while the renderer hands over the next; the report
      // itself says how many there were.
      var parts;
      if (reportPart > 0 && tail.length > reportPart) {
        parts = 0;
        for (var i = 0; i < tail.length; i += reportPart, parts++) {
          binding(partMark + origin + '\n' + sliceOf(tail, i, i + reportPart));
        }
        tail = '';
      }
      binding(reportJSON(msg, { origin: origin, sentAt: sentAt, parts: parts }) + '\n' + tail);
    })();
  }

  // A WebSocket never connects (every host name resolves to nothing), and
  // the browser's Fetch interception, which records every other request a
  // page was refused, does not see it: the page says which it opened, so
  // that a sketch failing for it is told (TestRenderReportsBlockedWebSocket).
  // The sketch's own realm only: a worker's sockets fail unrecorded.
  (function () {
    var Native = window.WebSocket;
    if (typeof Native !== 'function' || typeof Proxy !== 'function') return;
    var Url = window.URL;
    var construct = Reflect.construct;
    window.WebSocket = new Proxy(Native, {
      construct: function (target, args, newTarget) {
        try {
          var u = new Url(String(args[0]), location.href);
          if (u.protocol === 'http:') u.protocol = 'ws:';
          if (u.protocol === 'https:') u.protocol = 'wss:';
          binding(reportJSON({ type: 'socket', url: u.href, origin: location.origin }));
        } catch (e) { /* the constructor throws its own error below */ }
        return construct(target, args, newTarget);
      }
    });
  })();

  /*EMPPLAY_RUNTIME*/
  var reportJSON = empplayRuntime.reportJSON;
  var describe = empplayRuntime.describe;
  var p5Clash = empplayRuntime.p5Clash;
  var hookP5 = empplayRuntime.hookP5;
  var webglRenderer = empplayRuntime.webglRenderer;
  function hasDraw(inst) { return empplayRuntime.hasDraw(window, inst); }
  function seedP5(inst) { empplayRuntime.seedP5(cfg.seed, inst); }
  function mainCanvas(inst) { return empplayRuntime.mainCanvas(document, cfg.captureSelector, inst); }

  // A macrotask without timer clamping, for the driver's steps: between
  // two, microtasks (p5 2.x draws asynchronously), real events and the
  // renderer's calls (the deadline capture) run.
  var channel = new MessageChannel();
  var queued = [];
  channel.port1.onmessage = function () { var f = queued.shift(); if (f) f(); };
  function schedule(fn) {
    queued.push(fn);
    channel.port2.postMessage(0);
  }
  // startClock puts the page on the virtual clock (see render/doc.go,
  // "Time"): time stands still until the load event; from then the
  // driver runs the page's timers, and from the end of setup() (for code
  // without a p5 sketch, from the load event) its frames too, back to
  // back, 1/frameRate apart.
  function startClock() {
    if (cfg.clock !== 'virtual' || clock) return;
    clock = empplayRuntime.virtualClock(window, {
      epochMs: cfg.epochMs, freeReads: cfg.freeReads, readStepMs: cfg.readStepMs, rethrow: true,
      onWork: function () { if (driver) driver.wake(); }
    });
    vFrame = window.requestAnimationFrame;
    empplayRuntime.holdRealEvents(window, clock);
    // A js page's screenshot shows its <video> elements as composited:
    // the media keep track of the frames shown (see readyPending).
    media = empplayRuntime.virtualMedia(window, clock, { trackShown: cfg.mode === 'js' });
    // A js page's CSS animations and transitions too, when its code may
    // have any (cfg.animations, see render/animgate.go); a p5 page is
    // hidden, and its picture is its canvas.
    if (cfg.mode === 'js' && cfg.animations) anims = empplayRuntime.virtualAnimations(window, clock);
    driver = empplayRuntime.frameDriver(clock, {
      sync: function (t) {
        if (anims) anims.sync(t);
        return media.sync(t);
      },
      fps: function () { return cfg.mode === 'js' ? 60 : empplayRuntime.frameRateOf(current, 60); },
      schedule: schedule,
      // A js page's time stops at its signal (see signal).
      stopped: function () { return finished || (cfg.mode === 'js' && pending !== null); }
    });
  }
  // afterLoads runs fn ms from now in real time, and again each ms while a
  // load the page waits for (a fetch, an image, a font: see
  // holdRealEvents) is still on its way: a decision that a page has not
  // done something must not depend on how fast the network answered. On
  // the real clock nothing is tracked, and fn runs once.
  function afterLoads(fn, ms) {
    setTimeout(function check() {
      if (clock && clock.held()) {
        setTimeout(check, ms);
        return;
      }
      fn();
    }, ms);
  }
  // later runs fn ms from now: in virtual time once the driver runs.
  function later(fn, ms) {
    if (driver && driver.started()) return clock.setTimeout(fn, ms);
    return setTimeout(fn, ms);
  }
  // sinceStart is the time of the job's code: virtual, or real since
  // job.js (p5) or navigation (js).
  function sinceStart() {
    return clock ? clock.now() : realNow() - startMs;
  }

  // begin seeds Math.random and defines the platforms' globals from the
  // job's settings, before any code of the job runs.
  var loadHold = null; // releases the clock's hold until the load event
  function begin() {
    startClock();
    // A p5 page's time stands still until its load event, when p5 starts
    // the sketch: no timer runs while the rest of the page loads (p5 1.x
    // starts an instance's timers when it is created, before its setup()).
    if (clock && cfg.mode !== 'js' && document.readyState !== 'complete') loadHold = clock.hold();
    if (cfg.url) {
      // A shell page was loaded before its job: give it the job's URL, with
      // the query fxhash's own snippet reads.
      try { history.replaceState(null, '', cfg.url); } catch (e) { /* keep the shell's */ }
    }
    empplayRuntime.installGlobals(window, cfg, signal);
    // fxhash's own snippet, when the page brings one, announces its preview()
    // with this event.
    window.addEventListener('fxhash-preview', function () { signal('fxpreview'); });
  }

  // signal is the sketch saying the picture is ready: $fx.preview(),
  // capture() or empplay.capture() (and, for a js page, the load and delay
  // triggers). A js page's time stops there (its timers and animation
  // frames no longer run), and the renderer takes a screenshot once the
  // page has loaded (its load event has fired and its fonts are ready) and
  // no load holds the clock: at once for a page that has, else when its
  // files have come (the screenshot renders a fresh frame of the page as
  // it is then), so that an image the page was loading is in the picture
  // however fast the network was. A p5 canvas is captured once the task
  // that asked has finished, as fxhash's own capture does, so that what
  // the sketch draws after the call is in the picture: at the end of the
  // setup() or draw() it was called from, at the end of the next draw()
  // of a looping sketch, else in a task of its own. One asked for in
  // setup() (or before the sketch started) of a sketch with a draw() waits
  // for the end of its first draw(), which draws what setup() prepared (a
  // noLoop() sketch draws only then); one asked for before the load event,
  // when p5 starts the sketch, waits for its setup() or, when the code
  // turns out to start none, for that decision. The trigger's time is the
  // call's.
  var pending = null; // {trigger, at, frame}: the capture asked for
  function signal(trigger) {
    if (finished || pending) return;
    if (cfg.mode === 'js') {
      pending = { trigger: trigger, at: sinceStart(), frame: driver ? driver.frames() : 0 };
      readyPending();
      return;
    }
    pending = { trigger: trigger, at: sinceStart() };
    if (inSetup || inDraw) return; // afterSetup or afterDraw takes it
    if (!started && !pageLoaded) return; // afterSetup, afterDraw or the no-sketch decision takes it
    if (started && setupDone && current && hasDraw(current) && isLooping(current)) return; // the next afterDraw
    later(function () { takePending(current); }, 0);
  }
  // takePending takes the capture the sketch asked for, if any, and says
  // whether there was one.
  function takePending(inst) {
    if (!pending) return false;
    capture(inst, pending.trigger, pending.at);
    return true;
  }
  // pageLoaded: the load event came (p5 starts a sketch then); on a js
  // page, once its fonts are ready as well.
  var pageLoaded = false;
  // readyPending takes the screenshot a js page asked for once it has
  // loaded and no load holds the clock (afterLoads looks again every
  // loadPollMs).
  var loadPollMs = 10;
  // The page's <video> elements have been seeked to the picture's time.
  // The screenshot waits (at most showWaitMs in all) until the
  // compositor has been given their frames, seeks them once more (see
  // virtualMedia's refresh) and waits until it has been given that
  // frame, then for two of the browser's own frames, which put it on the
  // page's surface.
  // showStage: 0 waiting for the compositor, 1 after the extra seek, 2
  // done.
  var showWaitMs = 1000, showWaitFrom = -1, showStage = 0;
  function readyPending() {
    if (finished || !pending || !pageLoaded) return;
    if (clock && clock.held()) {
      afterLoads(readyPending, loadPollMs);
      return;
    }
    if (media && showStage < 2) {
      if (showWaitFrom < 0) showWaitFrom = realNow();
      var late = realNow() - showWaitFrom >= showWaitMs;
      if (!media.settled() && !late) {
        setTimeout(readyPending, 5);
        return;
      }
      if (showStage === 0 && !late && media.refresh() > 0) {
        showStage = 1;
        setTimeout(readyPending, 5);
        return;
      }
      if (showStage === 1) {
        showStage = 2;
        requestFrame(function () { requestFrame(readyPending); });
        return;
      }
      showStage = 2;
    }
    // An animation the capture's own callback started is held at its
    // start, not left to run until the screenshot.
    if (anims) anims.sync(clock.now());
    ready(pending.trigger, pending.at, pending.frame);
  }
  // ready tells the renderer to take the screenshot of a js page; at and
  // frame are the trigger's time and frame, by default now's.
  function ready(trigger, at, frame) {
    // Bring the page's styles and layout up to date: that starts the loads
    // of the images its CSS now names, which the renderer then knows of
    // before this report (render/loads.go) and waits for.
    try { getRect.call(document.documentElement); } catch (e) { /* nothing to lay out */ }
    var now = realNow();
    report({ type: 'ready', trigger: trigger, p5ReadyMs: p5Ready,
      triggerMs: at !== undefined ? at : sinceStart(), doneMs: now,
      frame: frame !== undefined ? frame : (driver ? driver.frames() : 0), warnings: busyWarning([]) });
  }
  // copy is a copy of the array list, made without Array.prototype.
  function copy(list) {
    var out = [];
    for (var i = 0; i < list.length; i++) out[i] = list[i];
    return out;
  }
  // busyWarning adds to list a warning that the code busy-waited on the
  // virtual clock, if it did.
  function busyWarning(list) {
    var ms = clock ? clock.busyMs() : 0;
    if (ms > 0) {
      list.push('the sketch read the clock over ' + cfg.freeReads + ' times in one callback (a busy wait?): ' +
        'each further read moved virtual time on, ' + Math.round(ms) + ' ms in all');
    }
    return list;
  }
  // afterFrames calls cb after two animation frames: virtual ones on the
  // virtual clock, else real ones each bounded by frameGraceMs in case
  // frames do not tick.
  function afterFrames(cb) {
    if (vFrame) {
      vFrame(function () { vFrame(cb); });
      return;
    }
    var frame = function (next) {
      var called = false;
      var go = function () { if (!called) { called = true; next(); } };
      requestFrame(go);
      setTimeout(go, cfg.frameGraceMs);
    };
    frame(function () { frame(cb); });
  }

  function fail(message, line) {
    report({ type: 'error', message: message, line: line | 0, webglFailed: webglFailed,
      clash: p5Clash(window, message), preloadIgnored: preloadIgnored });
  }
  // preloadIgnored: the sketch defines a preload() that its p5 (2.x) never
  // calls (see preloadIgnored in runtime.js), for the report to say.
  var preloadIgnored = false;
  // onError decides what an uncaught exception or rejection does (see
  // render/doc.go, "Errors and warnings"): on a p5 page whose setup() has
  // finished, one raised outside setup() and draw() (a callback, a
  // promise) does not stop the sketch, so it becomes a warning and the
  // picture is taken as usual; anything else fails the job.
  var warnings = [];
  var maxWarnings = 20, maxWarning = 500;
  function onError(message, line) {
    if (inert) return;
    if (cfg.mode !== 'js' && setupDone && !inDraw && !inSetup) {
      var w = line > 0 ? message + ' (line ' + line + ')' : message;
      if (w.length > maxWarning) w = w.slice(0, maxWarning - 3) + '...';
      if (warnings.length < maxWarnings) warnings.push(w);
      return;
    }
    fail(message, line);
  }
  // The p5 sketch's state, from p5's hooks: started (an instance exists),
  // inSetup (its preload() or setup() runs), setupDone, inDraw (a draw()
  // runs; an exception there stops the sketch).
  var started = false, inSetup = false, setupDone = false, inDraw = false;

  // A WebGL context the page asked for and did not get: p5 then throws a
  // generic error, which the renderer reports as webgl_unavailable.
  var webglFailed = false;
  var getContext = HTMLCanvasElement.prototype.getContext;
  HTMLCanvasElement.prototype.getContext = function (type) {
    var ctx = getContext.apply(this, arguments);
    if (ctx === null && /webgl/i.test(String(type))) webglFailed = true;
    return ctx;
  };

  // drawn: the page has a picture worth taking at the deadline (a p5 sketch
  // finished setup() or a draw(); other code: a canvas exists).
  var drawn = false;
  // At the deadline the renderer calls this (its name is in the settings):
  // capture what there is, unless the picture is taken already or nothing
  // was drawn. It returns what it did.
  Object.defineProperty(window, cfg.deadlineName, {
    configurable: true,
    value: function () {
      if (finished) return 'finished';
      if (inert) return 'nothing';
      if (cfg.mode === 'js') {
        ready('deadline');
        return 'captured';
      }
      if (!drawn && !(startMs && !started && mainCanvas(null))) return 'nothing';
      capture(current, 'deadline');
      return 'captured';
    }
  });


  empplayRuntime.reportErrors(window, location.origin + cfg.sketchURL, onError);

  // capture encodes the canvas at once, in the task of the draw that just
  // finished: a WebGL drawing buffer is only valid until the frame is
  // presented, so a later read would be blank.
  var noSketch = 'the sketch defines no setup() or draw() function and creates no canvas';
  function capture(inst, trigger, at) {
    if (finished) return;
    var c = mainCanvas(inst);
    if (!c) {
      report({
        type: 'nocanvas',
        webglFailed: webglFailed,
        message: cfg.captureSelector
          ? 'captureSelector ' + stringify(cfg.captureSelector) + ' matches no canvas'
          : started ? 'the sketch has no canvas to capture (did it call noCanvas()?)' : noSketch
      });
      return;
    }
    var url;
    var encodeStart = realNow();
    try {
      url = c.toDataURL('image/png');
    } catch (e) {
      fail('capturing the canvas failed: ' + describe(e), 0);
      return;
    }
    // The picture is taken: stop a looping sketch from burning the CPU while
    // the renderer tears the page down.
    try { if (inst && typeof inst.noLoop === 'function') inst.noLoop(); } catch (e) { /* ignore */ }
    report({
      type: 'done',
      trigger: trigger,
      width: c.width,
      height: c.height,
      renderer: webglRenderer(c),
      p5ReadyMs: p5Ready,
      startMs: startMs,
      triggerMs: at !== undefined ? at : sinceStart(),
      frame: inst ? frameOf(inst) : (driver ? driver.frames() : 0),
      warnings: busyWarning(copy(warnings)),
      preloadIgnored: preloadIgnored,
      encodeMs: realNow() - encodeStart,
      doneMs: realNow()
    }, sliceOf(url, indexOf(url, ',') + 1));
  }

  if (cfg.mode === 'js') {
    begin();
    // A js page is ready once it has loaded, its fonts are ready and two
    // animation frames have passed, unless it says so itself. Its virtual
    // clock starts then, signal or not.
    window.addEventListener('load', function () {
      var loaded = function () {
        if (pageLoaded) return;
        pageLoaded = true;
        if (driver) driver.start();
        if (pending) {
          // The page signalled while it loaded.
          readyPending();
          return;
        }
        if (cfg.waitSignal) return;
        afterFrames(function () {
          if (cfg.captureDelayMs > 0) {
            later(function () { signal('delay'); }, cfg.captureDelayMs);
          } else {
            signal('load');
          }
        });
      };
      var fonts = document.fonts && document.fonts.ready;
      if (fonts && typeof fonts.then === 'function') {
        fonts.then(loaded, loaded);
      } else {
        loaded();
      }
    });
    return;
  }

  // A p5 page: job.js calls this with the job's settings (the fields of
  // pageConfig that depend on the job), right before the sketch runs. It
  // works once and is gone before the sketch can see it.
  Object.defineProperty(window, cfg.startName, {
    configurable: true,
    value: function (job) {
      try { delete window[cfg.startName]; } catch (e) { /* keep going */ }
      if (startMs) return;
      startMs = realNow();
      if (job.mode === 'video') {
        // A video job: video.js, the rest of job.js, takes the page over.
        inert = true;
        return;
      }
      for (var k in job) {
        if (hasOwn.call(job, k)) cfg[k] = job[k];
      }
      begin();
    }
  });

  var P = window.p5;
  if (typeof P !== 'function') {
    // Not the sketch's doing: nothing of the job has run yet.
    report({ type: 'nop5' });
    return;
  }
  var current = null;   // the p5 instance that started first
  // inert: the page is a video job's, this prelude does nothing more.
  var inert = false;
  // With waitSignal, only $fx.preview() or empplay.capture() take the
  // picture.
  function byDefault() { return !cfg.waitSignal; }

  // afterSetup and afterDraw decide, for every p5 instance, when the
  // picture is taken (see render/doc.go): after the first draw(), after
  // setup() for a sketch without draw(), after frame captureFrames, or
  // captureDelayMs after setup().
  var delayDue = false;
  function afterSetup(inst) {
    drawn = true;
    setupDone = true;
    inSetup = false;
    if (driver) {
      // Frame 1 comes at once (p5 1.x draws it right after this), the
      // driver's frames 1/frameRate apart after it.
      empplayRuntime.primeFirstFrame(inst, clock.now(), empplayRuntime.frameRateOf(inst, 60));
      driver.start();
    }
    if (pending) {
      // Asked for in setup() or before it: a sketch with a draw() draws
      // what setup() prepared in its first one, so take it after that.
      if (!hasDraw(inst)) takePending(inst);
      return;
    }
    if (!byDefault()) return;
    if (cfg.captureDelayMs > 0) {
      later(function () {
        delayDue = true;
        // A sketch that no longer loops draws no frame to capture after.
        if (!hasDraw(inst) || !isLooping(inst)) capture(inst, 'delay');
      }, cfg.captureDelayMs);
      return;
    }
    if (!hasDraw(inst)) capture(inst, 'setup');
  }
  function afterDraw(inst) {
    drawn = true;
    inDraw = false;
    if (takePending(inst) || !byDefault()) return;
    if (cfg.captureDelayMs > 0) {
      if (delayDue) capture(inst, 'delay');
      return;
    }
    if (cfg.captureFrames > 0) {
      if (frameOf(inst) >= cfg.captureFrames) {
        capture(inst, 'frames');
      } else if (!isLooping(inst)) {
        // noLoop(): frame captureFrames will never come.
        capture(inst, 'draw');
      }
      return;
    }
    capture(inst, 'draw');
  }
  function frameOf(inst) {
    var ctx = inst && inst._isGlobal ? window : inst;
    return ctx ? ctx.frameCount | 0 : 0;
  }
  function isLooping(inst) {
    try { return typeof inst.isLooping === 'function' ? !!inst.isLooping() : !!inst._loop; } catch (e) { return true; }
  }

  var major = hookP5(P, {
    init: function (inst) {
      if (inert) return;
      started = true;
      if (!current) {
        current = inst;
        inSetup = true;
      }
      // From here, a preload() or setup() that waits on a timer gets it
      // (loads hold the clock).
      if (driver) driver.startTimers();
      seedP5(inst);
      if (empplayRuntime.preloadIgnored(window, inst, major)) preloadIgnored = true;
    },
    afterSetup: function (inst) { if (!inert) afterSetup(inst); },
    beforeDraw: function () { inDraw = true; },
    afterDraw: function (inst) { if (!inert) afterDraw(inst); }
  });
  if (major === 1) {
    // A p5 1.x load function in preload() that fails without an error
    // callback only calls console.error, and preload() then never ends. The
    // only loads that can fail here are the ones the renderer blocks, so turn
    // that stall into an error quickly: if preload() still has not finished
    // a moment after a console.error, report it.
    var consoleError = console.error;
    console.error = function () {
      var inst = current;
      if (!inert && inst && !inst._setupDone && inst._preloadCount > 0) {
        var parts = [];
        for (var i = 0; i < arguments.length; i++) parts.push(describe(arguments[i]));
        var msg = parts.join(' ');
        afterLoads(function () {
          if (!inst._setupDone && inst._preloadCount > 0) {
            fail('preload() did not finish: a file failed to load: ' + msg, 0);
          }
        }, cfg.preloadGraceMs);
      }
      return consoleError.apply(this, arguments);
    };
  }

  // Code that never starts a p5 sketch (no setup() or draw(), no new p5())
  // is done once the page has loaded and, on the virtual clock, its timers
  // due in the first noSketchTimersMs have run (a sketch may start from
  // one): capture a canvas it drew by hand, or report that there is none.
  // The decision waits for the timers however long they take, so that it
  // is the same on a slow or a fast machine.
  window.addEventListener('load', function () {
    pageLoaded = true;
    if (loadHold) {
      loadHold();
      loadHold = null;
    }
    if (driver) driver.startTimers(clock.now() + cfg.noSketchTimersMs);
    afterLoads(function decide() {
      if (started || finished || inert) return;
      if (driver && driver.pending()) {
        afterLoads(decide, cfg.noSketchGraceMs);
        return;
      }
      if (driver) driver.start();
      // A capture asked for before: there is no sketch to wait for.
      if (takePending(null) || !byDefault()) return;
      if (!mainCanvas(null) && vFrame && clock.hasFrames()) {
        // Code may start its sketch, or draw its canvas, in an animation
        // frame (requestAnimationFrame(() => new p5(s))): the driver runs
        // it now; decide after it.
        afterFrames(function () {
          if (!started && !finished) verdict();
        });
        return;
      }
      verdict();
    }, cfg.noSketchGraceMs);
    // verdict captures a canvas the code drew by hand, or reports that
    // there is none.
    function verdict() {
      if (mainCanvas(null)) {
        if (cfg.captureDelayMs > 0) {
          later(function () { capture(null, 'delay'); }, cfg.captureDelayMs);
        } else {
          capture(null, 'load');
        }
        return;
      }
      report({ type: 'nocanvas', message: noSketch });
    }
  });
})();
