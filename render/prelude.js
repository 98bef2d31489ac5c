// The empplay prelude. page.go puts it in the page after p5.js and before the
// sketch, with the job's settings in place of the EMPPLAY_CONFIG marker. It
// reports exactly one message to the renderer through the DevTools binding:
// a JSON object, for "done" followed by a newline and the PNG in base64
// (kept out of the JSON, which would only escape and unescape megabytes):
//
//   {"type":"done", "trigger":"draw"|"setup"|"load", "width", "height", "renderer",
//    "p5ReadyMs", "doneMs"} "\n" base64
//   {"type":"error", "message", "line"}     uncaught exception or rejection
//   {"type":"nocanvas", "message"}          nothing to capture
//
// Keep it ES5-ish and free of globals other than window.empplay: it runs in
// the sketch's own realm, and the sketch may redefine anything after it.
(function () {
  'use strict';
  // Milliseconds since navigation start when p5.js has been evaluated, for
  // the renderer's debug timings.
  var p5Ready = performance.now();
  var cfg = /*EMPPLAY_CONFIG*/null;

  // The binding is installed by Runtime.addBinding before the page loads.
  // Keep a private reference and remove the global, so that the sketch can
  // neither call it nor see it.
  var binding = window[cfg.binding];
  try { delete window[cfg.binding]; } catch (e) { /* keep going */ }

  // The sketch runs in this realm and may redefine globals: keep what the
  // prelude relies on later.
  var stringify = JSON.stringify;
  var setTimeout = window.setTimeout.bind(window);
  var finished = false;
  function report(msg, tail) {
    if (finished) return;
    finished = true;
    binding(tail === undefined ? stringify(msg) : stringify(msg) + '\n' + tail);
  }

  window.empplay = {
    hash: cfg.hash,
    variables: cfg.variables,
    components: cfg.components,
    width: cfg.width,
    height: cfg.height
  };

  // lineOf finds the line in sketch.js where err was thrown: the error
  // event's own position when it points into the sketch, else the first
  // sketch.js frame of the stack (an exception thrown inside p5 on behalf of
  // the sketch).
  var sketchFrame = /\/sketch\.js:(\d+):\d+/;
  function lineOf(err, filename, lineno) {
    if (filename && filename === cfg.sketchURL && lineno) return lineno;
    var stack = err && typeof err === 'object' ? String(err.stack || '') : '';
    var m = sketchFrame.exec(stack);
    return m ? +m[1] : 0;
  }
  function describe(v) {
    if (v instanceof Error) return v.name + ': ' + v.message;
    if (v && typeof v === 'object' && typeof v.type === 'string' && v.target !== undefined) {
      return 'an "' + v.type + '" event';
    }
    try { return String(v); } catch (e) { return Object.prototype.toString.call(v); }
  }
  function fail(message, line) {
    report({ type: 'error', message: message, line: line | 0 });
  }

  window.addEventListener('error', function (ev) {
    // Errors of <img>/<script> elements do not bubble to window, so this is
    // an uncaught exception (or a syntax error in the sketch).
    var msg = ev.error !== undefined && ev.error !== null ? describe(ev.error) : String(ev.message || 'unknown error');
    fail(msg, lineOf(ev.error, ev.filename, ev.lineno));
  });
  window.addEventListener('unhandledrejection', function (ev) {
    // p5 runs setup() and draw() in promises (always in 2.x), so an
    // exception there arrives as a rejection: report it as the exception.
    var r = ev.reason;
    fail(r instanceof Error ? describe(r) : 'unhandled promise rejection: ' + describe(r), lineOf(r));
  });

  // mainCanvas is the canvas to capture: p5's main canvas while it is in the
  // document (noCanvas() removes it), else the first canvas that is laid out
  // (p5.Graphics canvases are display:none).
  function mainCanvas(inst) {
    var c = inst && inst.canvas;
    if (c && c.isConnected) return c;
    var all = document.getElementsByTagName('canvas');
    for (var i = 0; i < all.length; i++) {
      if (all[i].getClientRects().length > 0) return all[i];
    }
    return null;
  }
  function webglRenderer(c) {
    try {
      // A canvas keeps the context type it was created with: these return
      // null for a 2D canvas and create nothing.
      var gl = c.getContext('webgl2') || c.getContext('webgl');
      if (!gl) return '';
      var ext = gl.getExtension('WEBGL_debug_renderer_info');
      return String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    } catch (e) {
      return '';
    }
  }

  // capture encodes the canvas at once, in the task of the draw that just
  // finished: a WebGL drawing buffer is only valid until the frame is
  // presented, so a later read would be blank.
  function capture(inst, trigger) {
    if (finished) return;
    var c = mainCanvas(inst);
    if (!c) {
      report({ type: 'nocanvas', message: 'the sketch has no canvas to capture (did it call noCanvas()?)' });
      return;
    }
    var url;
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
      doneMs: performance.now()
    }, url.slice(url.indexOf(',') + 1));
  }

  var P = window.p5;
  if (typeof P !== 'function') {
    fail('p5.js did not load', 0);
    return;
  }
  var started = false; // a p5 sketch exists (global or instance mode)
  var current = null;   // the p5 instance that started first
  function hasDraw(inst) {
    var ctx = inst && inst._isGlobal ? window : inst;
    return !!ctx && typeof ctx.draw === 'function';
  }

  if (typeof P.registerAddon === 'function' && P.lifecycleHooks) {
    // p5 2.x: lifecycle hooks run with this = the p5 instance, in global and
    // instance mode. postdraw runs right after each draw() (before the frame
    // is presented), postsetup after setup() when setup is complete.
    P.registerAddon(function (p5, fn, lifecycles) {
      lifecycles.presetup = function () {
        started = true;
        if (!current) current = this;
      };
      lifecycles.postsetup = function () {
        if (!hasDraw(this)) capture(this, 'setup');
      };
      lifecycles.postdraw = function () {
        capture(this, 'draw');
      };
    });
  } else if (P.prototype && typeof P.prototype.registerMethod === 'function') {
    // p5 1.x: methods registered on the prototype before an instance exists
    // are copied into every instance. They run with this = window in global
    // mode and the instance in instance mode. 'post' runs after each draw()
    // inside redraw(); 'afterSetup' at the end of _setup(), before the first
    // draw.
    var instanceOf = function (self) { return self instanceof P ? self : P.instance; };
    P.prototype.registerMethod('init', function () {
      started = true;
      if (!current) current = instanceOf(this);
    });
    P.prototype.registerMethod('afterSetup', function () {
      var inst = instanceOf(this);
      if (!hasDraw(inst)) capture(inst, 'setup');
    });
    P.prototype.registerMethod('post', function () {
      capture(instanceOf(this), 'draw');
    });

    // A p5 1.x load function in preload() that fails without an error
    // callback only calls console.error, and preload() then never ends. The
    // only loads that can fail here are the ones the renderer blocks, so turn
    // that stall into an error quickly: if preload() still has not finished
    // a moment after a console.error, report it.
    var consoleError = console.error;
    console.error = function () {
      var inst = current;
      if (inst && !inst._setupDone && inst._preloadCount > 0) {
        var parts = [];
        for (var i = 0; i < arguments.length; i++) parts.push(describe(arguments[i]));
        var msg = parts.join(' ');
        setTimeout(function () {
          if (!inst._setupDone && inst._preloadCount > 0) {
            fail('preload() did not finish: a file failed to load: ' + msg, 0);
          }
        }, cfg.preloadGraceMs);
      }
      return consoleError.apply(this, arguments);
    };
  }

  // Code that never starts a p5 sketch (no setup() or draw(), no new p5())
  // is done once the page has loaded: capture a canvas it drew by hand, or
  // report that there is none.
  window.addEventListener('load', function () {
    setTimeout(function () {
      if (started || finished) return;
      if (mainCanvas(null)) {
        capture(null, 'load');
        return;
      }
      report({ type: 'nocanvas', message: 'the sketch defines no setup() or draw() function and creates no canvas' });
    }, cfg.noSketchGraceMs);
  });
})();
