// The runtime a page's sketch sees, shared by prelude.js (still images)
// and video.js (videos): the seeding, the platforms' globals, error
// reporting, finding the canvas, p5's hooks and the virtual clock with its
// frame driver. It is a module with
// explicit inputs and no free variables: the pages' scripts put it inside
// their own function (at the EMPPLAY_RUNTIME marker), where it defines the
// local empplayRuntime and nothing global; under Node (the unit tests in
// runtime.test.js and clock.test.js) it is module.exports. render/doc.go defines what it
// installs.
var empplayRuntime = (function () {
  'use strict';
  // sfc32 (Chris Doty-Humphrey's Small Fast Counter, 32-bit), exactly as
  // fxhash's snippet has it: a float in [0, 1) per call.
  function sfc32(a, b, c, d) {
    return function () {
      a |= 0; b |= 0; c |= 0; d |= 0;
      var t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      return (t >>> 0) / 4294967296;
    };
  }
  // generator is an sfc32 with fxhash's rand.reset(), which starts the
  // sequence over.
  function generator(seeds) {
    var next;
    function rand() { return next(); }
    rand.reset = function () { next = sfc32(seeds[0], seeds[1], seeds[2], seeds[3]); };
    rand.reset();
    return rand;
  }
  // fxSeeds is fxhash's seeding of sfc32 from a hash: drop the first start
  // characters (the "oo" of a hash, the "tz1" of an address), cut the rest
  // into four chunks of floor(length/4) characters (the remainder is
  // ignored) and read each as base58, wrapping to 32 bits. A character
  // outside the alphabet counts as -1, as in fxhash.
  var B58 = '123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ';
  function fxSeeds(str, start) {
    var s = String(str).slice(start);
    var n = s.length >> 2;
    var out = [];
    for (var i = 0; i < 4; i++) {
      var p = 0;
      for (var j = i * n; j < (i + 1) * n; j++) p = (p * 58 + B58.indexOf(s.charAt(j))) | 0;
      out.push(p);
    }
    return out;
  }

  // installGlobals seeds win.Math.random and defines win.$fx, fxhash's
  // legacy globals, tokenData, the EmProps runtime (installEmProps) and
  // win.empplay from cfg (the job's token
  // settings, width and height). signal(trigger) is what $fx.preview()
  // ("fxpreview"), empplay.capture() and capture() ("capture") do. It returns
  // win.empplay.
  function installGlobals(win, cfg, signal) {
    var hasOwn = Object.prototype.hasOwnProperty;
    // Math.random: sfc32 seeded with the first four words of SHA-256(hash).
    win.Math.random = sfc32(cfg.seed[0], cfg.seed[1], cfg.seed[2], cfg.seed[3]);

    var vars = cfg.variables !== null && typeof cfg.variables === 'object' ? cfg.variables : {};
    var given = vars.params !== null && typeof vars.params === 'object' ? vars.params : {};
    var fx = {
      _version: 'empplay',
      _features: undefined,
      _params: undefined,
      _rawValues: {},
      _paramValues: {},
      hash: cfg.hash,
      rand: generator(fxSeeds(cfg.hash, 2)),
      minter: cfg.minter,
      randminter: generator(fxSeeds(cfg.minter, 3)),
      iteration: cfg.iteration,
      context: 'capture',
      isPreview: true,
      preview: function () { signal('fxpreview'); },
      features: function (f) { fx._features = f; },
      getFeature: function (id) { return fx._features ? fx._features[id] : undefined; },
      getFeatures: function () { return fx._features; },
      // Parameters, minimal: a value is context.variables.params[id] when
      // given, else the definition's default.
      params: function (defs) {
        var values = {};
        fx._params = defs;
        for (var i = 0; defs && i < defs.length; i++) {
          var d = defs[i];
          if (!d || d.id === undefined) continue;
          values[d.id] = hasOwn.call(given, d.id) ? given[d.id] : d['default'];
        }
        fx._rawValues = values;
        fx._paramValues = values;
      },
      getParam: function (id) { return fx._paramValues[id]; },
      getParams: function () { return fx._paramValues; },
      getRawParam: function (id) { return fx._rawValues[id]; },
      getRawParams: function () { return fx._rawValues; },
      getDefinitions: function () { return fx._params; },
      on: function () { return function () {}; },
      emit: function () {}
    };
    win.$fx = fx;
    win.fxhash = fx.hash;
    win.fxrand = fx.rand;
    win.fxminter = fx.minter;
    win.fxrandminter = fx.randminter;
    win.fxpreview = fx.preview;
    win.isFxpreview = true;
    win.tokenData = { hash: cfg.hash, tokenId: cfg.tokenId };
    win.empplay = {
      hash: cfg.hash,
      seed: cfg.seed.slice(),
      variables: cfg.variables,
      components: cfg.components,
      width: cfg.width,
      height: cfg.height,
      capture: function () { signal('capture'); }
    };
    installEmProps(win, cfg, signal);
    return win.empplay;
  }

  // define puts value at win[name] as a configurable, writable property:
  // code that brings its own definition (a top-level const, let, function
  // or class of that name, as the EmProps API's prelude has) replaces or
  // shadows it without a SyntaxError, which a var or a non-configurable
  // property would cause.
  function define(win, name, value) {
    Object.defineProperty(win, name, { value: value, writable: true, configurable: true, enumerable: true });
  }

  // pseudorandomFamily is the EmProps Studio's pseudorandom functions over
  // one sfc32 generator, seeded from hash the platform's way (fxSeeds of
  // hash.slice(2)) until the sketch calls pseudorandomSeed.
  function pseudorandomFamily(hash) {
    var next;
    var f = {};
    f.pseudorandomSeed = function (seed) {
      var w = fxSeeds(seed, 2);
      next = sfc32(w[0], w[1], w[2], w[3]);
    };
    f.pseudorandom = function (min, max) {
      if (min === undefined) min = 0;
      if (max === undefined) max = 1;
      return min + next() * (max - min);
    };
    f.pseudorandoms = function (n, min, max) {
      var out = [];
      for (var i = 0; i < n; i++) out.push(f.pseudorandom(min, max));
      return out;
    };
    f.pseudorandomInteger = function (min, max) {
      return Math.floor(f.pseudorandom(min, max + 1));
    };
    f.pseudorandomIntegers = function (n, min, max) {
      var out = [];
      for (var i = 0; i < n; i++) out.push(f.pseudorandomInteger(min, max));
      return out;
    };
    f.pseudorandomBoolean = function () { return f.pseudorandom() < 0.5; };
    f.pseudorandomPick = function (list) {
      return list[f.pseudorandomInteger(0, list.length - 1)];
    };
    f.pseudorandomWeightedPick = function (list, weights) {
      var total = 0, i;
      for (i = 0; i < weights.length; i++) total += weights[i];
      var r = f.pseudorandom(0, total);
      var sum = 0;
      i = 0;
      while (i < weights.length && sum + weights[i] < r) {
        sum += weights[i];
        i++;
      }
      return list[Math.min(i, list.length - 1)];
    };
    f.pseudorandomPickButNot = function (list, excluded) {
      if (list.length === 1) return list[0];
      var isExcluded = function (v) {
        return Array.isArray(excluded) ? excluded.indexOf(v) >= 0 : v === excluded;
      };
      for (var tries = 0; tries < 10 * list.length; tries++) {
        var v = f.pseudorandomPick(list);
        if (!isExcluded(v)) return v;
      }
      return list[0];
    };
    f.pseudorandomSeed(hash);
    return f;
  }

  // PSEUDORANDOM is the names of the pseudorandom family, in the order the
  // EmProps Studio documents them.
  var PSEUDORANDOM = ['pseudorandomSeed', 'pseudorandom', 'pseudorandoms', 'pseudorandomInteger',
    'pseudorandomIntegers', 'pseudorandomBoolean', 'pseudorandomPick', 'pseudorandomWeightedPick',
    'pseudorandomPickButNot'];

  // installEmProps defines the EmProps Studio runtime on win: hash,
  // variables, getVariable, components, getComponentOutput, the
  // pseudorandom family and capture(), all configurable (see define).
  // capture() is signal('capture').
  function installEmProps(win, cfg, signal) {
    var vars = cfg.variables !== null && typeof cfg.variables === 'object' ? cfg.variables : {};
    var comps = Array.isArray(cfg.components) ? cfg.components : [];
    define(win, 'hash', cfg.hash);
    define(win, 'variables', vars);
    define(win, 'getVariable', function (name) { return vars[name]; });
    define(win, 'components', comps);
    define(win, 'getComponentOutput', function (alias) {
      for (var i = 0; i < comps.length; i++) {
        var c = comps[i];
        if (c && c.nodeAlias === alias) return c.nodeResponse ? c.nodeResponse.src : undefined;
      }
      return undefined;
    });
    var family = pseudorandomFamily(cfg.hash);
    for (var i = 0; i < PSEUDORANDOM.length; i++) define(win, PSEUDORANDOM[i], family[PSEUDORANDOM[i]]);
    define(win, 'capture', function () { signal('capture'); });
  }

  // lineOf finds the line in sketch.js where err was thrown: the error
  // event's own position when it points into the sketch, else the first
  // sketch.js frame of the stack (an exception thrown inside p5 on behalf of
  // the sketch).
  var sketchFrame = /\/sketch\.js:(\d+):\d+/;
  // sketchHref is the sketch's URL at this page's origin (its path is
  // sketchURL).
  function lineOf(sketchHref, err, filename, lineno) {
    if (filename && filename === sketchHref && lineno) return lineno;
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
  // p5Clash names the p5 globals that the sketch's own top-level functions
  // and vars took first, when message (an error's) says p5 could not
  // define one, else none: p5 2.x defines each of its functions on the
  // window in global mode without looking (1.x warned and let the
  // sketch's stand), and a function or var that a classic script declares
  // cannot be redefined, so p5 throws "Cannot redefine property: NAME" at
  // the first. NAME comes first, then the window's other undeletable
  // globals that p5 has too (at most maxClashes in all), so that the
  // artist can rename them at once.
  var redefined = /Cannot redefine property: ([A-Za-z_$][\w$]{0,63})$/;
  var identifier = /^[A-Za-z_$][\w$]{0,63}$/;
  var maxClashes = 10;
  function p5Clash(win, message) {
    var out = [];
    try {
      var m = redefined.exec(String(message));
      var P = win.p5;
      var isP5s = function (n) { return n in P.prototype && !(n in Object.prototype); };
      if (!m || typeof P !== 'function' || !P.prototype || !isP5s(m[1])) return out;
      out.push(m[1]);
      var names = Object.getOwnPropertyNames(win);
      for (var i = 0; i < names.length && out.length < maxClashes; i++) {
        var n = names[i];
        if (n === m[1] || !identifier.test(n) || !isP5s(n)) continue;
        var d = Object.getOwnPropertyDescriptor(win, n);
        if (d && !d.configurable) out.push(n);
      }
    } catch (e) { /* a p5 or window the sketch made throw: what was found */ }
    return out;
  }
  // preloadIgnored reports whether a sketch on p5 major version major
  // defines a preload() that p5 will never call: 2.x dropped it (1.x ran
  // it before setup()), so a sketch written for 1.x runs setup() without
  // its files. inst is the p5 instance (instance mode sets p.preload).
  function preloadIgnored(win, inst, major) {
    if (major !== 2) return false;
    try {
      return typeof win.preload === 'function' || !!(inst && typeof inst.preload === 'function');
    } catch (e) { return false; }
  }
  // reportErrors calls fail(message, line) for every uncaught exception and
  // unhandled rejection of the page win, whose sketch is at sketchHref.
  function reportErrors(win, sketchHref, fail) {
    win.addEventListener('error', function (ev) {
      // Errors of <img>/<script> elements do not bubble to window, so this
      // is an uncaught exception (or a syntax error in the sketch).
      var msg = ev.error !== undefined && ev.error !== null ? describe(ev.error) : String(ev.message || 'unknown error');
      fail(msg, lineOf(sketchHref, ev.error, ev.filename, ev.lineno));
    });
    win.addEventListener('unhandledrejection', function (ev) {
      // p5 runs setup() and draw() in promises (always in 2.x), so an
      // exception there arrives as a rejection: report it as the exception.
      var r = ev.reason;
      fail(r instanceof Error ? describe(r) : 'unhandled promise rejection: ' + describe(r), lineOf(sketchHref, r));
    });
  }

  // reportJSON is the JSON of a report to the renderer: the own fields of
  // fields, then of more (optional), in order. The sketch runs in the
  // pages' realm and may change any prototype: JSON.stringify consults a
  // toJSON on every object it writes, arrays included (Object.prototype's,
  // Array.prototype's), and an assignment to a field an object lacks runs
  // a setter of Object.prototype's with the object as this. So the
  // pages' scripts give their fields as object literals (own data, never
  // assigned), and this writes them with what it kept when the page
  // started: strings, numbers and booleans through JSON.stringify, which
  // consults no toJSON on a primitive; an array of them (warnings, frame
  // sizes) element by element; anything else, a nested object included,
  // as null. A field whose value is undefined or a function is left out,
  // as JSON.stringify does.
  var stringify = JSON.stringify;
  var isArray = Array.isArray;
  var objectKeys = Object.keys;
  function jsonValue(v, inArray) {
    var t = typeof v;
    if (t === 'string' || t === 'number' || t === 'boolean') return stringify(v);
    if (inArray || !isArray(v)) return 'null';
    var s = '[';
    for (var i = 0, n = v.length; i < n; i++) s += (i ? ',' : '') + jsonValue(v[i], true);
    return s + ']';
  }
  function reportJSON(fields, more) {
    var s = '{', n = 0;
    for (var j = 0; j < 2; j++) {
      var o = j ? more : fields;
      if (o === null || typeof o !== 'object') continue;
      var keys = objectKeys(o);
      for (var i = 0; i < keys.length; i++) {
        var v = o[keys[i]];
        if (v === undefined || typeof v === 'function') continue;
        s += (n++ ? ',' : '') + stringify(keys[i]) + ':' + jsonValue(v, false);
      }
    }
    return s + '}';
  }

  // hasDraw: the p5 instance inst (of the page win) has a draw().
  function hasDraw(win, inst) {
    var ctx = inst && inst._isGlobal ? win : inst;
    return !!ctx && typeof ctx.draw === 'function';
  }
  // seedP5 seeds p5's random() and noise() of a new instance, before its
  // preload() and setup(): randomSeed(seed[4]), noiseSeed(seed[5]).
  function seedP5(seed, inst) {
    try {
      inst.randomSeed(seed[4]);
      inst.noiseSeed(seed[5]);
    } catch (e) { /* not a p5 instance after all */ }
  }
  // hookP5 calls hooks.init(inst) when a p5 instance starts (before its
  // preload() and setup()), hooks.afterSetup(inst) when setup() is done
  // and, when given, hooks.beforeDraw(inst) and hooks.afterDraw(inst)
  // before and after each draw(), in global and
  // instance mode, and returns the p5 major version it hooked (0: neither
  // API is there).
  function hookP5(P, hooks) {
    if (typeof P.registerAddon === 'function' && P.lifecycleHooks) {
      // p5 2.x: lifecycle hooks run with this = the p5 instance, in global
      // and instance mode. postdraw runs right after each draw() (before
      // the frame is presented), postsetup after setup() when setup is
      // complete.
      P.registerAddon(function (p5, fn, lifecycles) {
        lifecycles.presetup = function () { hooks.init(this); };
        lifecycles.postsetup = function () { hooks.afterSetup(this); };
        if (hooks.beforeDraw) lifecycles.predraw = function () { hooks.beforeDraw(this); };
        if (hooks.afterDraw) lifecycles.postdraw = function () { hooks.afterDraw(this); };
      });
      return 2;
    }
    if (P.prototype && typeof P.prototype.registerMethod === 'function') {
      // p5 1.x: methods registered on the prototype before an instance
      // exists are copied into every instance. They run with this = window
      // in global mode and the instance in instance mode. 'post' runs after
      // each draw() inside redraw() ('pre' before it); 'afterSetup' at the end of _setup(),
      // before the first draw.
      var instanceOf = function (self) { return self instanceof P ? self : P.instance; };
      P.prototype.registerMethod('init', function () { hooks.init(instanceOf(this)); });
      P.prototype.registerMethod('afterSetup', function () { hooks.afterSetup(instanceOf(this)); });
      if (hooks.beforeDraw) P.prototype.registerMethod('pre', function () { hooks.beforeDraw(instanceOf(this)); });
      if (hooks.afterDraw) P.prototype.registerMethod('post', function () { hooks.afterDraw(instanceOf(this)); });
      return 1;
    }
    return 0;
  }

  // mainCanvas is the canvas to capture in doc: the one selector picks
  // when given (nothing unless it is a canvas), else p5's main canvas while
  // it is in the document (noCanvas() removes it), else the first canvas
  // that is laid out (p5.Graphics canvases are display:none).
  function mainCanvas(doc, selector, inst) {
    if (selector) {
      var picked = null;
      try { picked = doc.querySelector(selector); } catch (e) { /* an invalid selector picks nothing */ }
      return picked && picked.tagName === 'CANVAS' ? picked : null;
    }
    var c = inst && inst.canvas;
    if (c && c.isConnected) return c;
    var all = doc.getElementsByTagName('canvas');
    for (var i = 0; i < all.length; i++) {
      if (all[i].getClientRects().length > 0) return all[i];
    }
    return null;
  }
  // webglRenderer is the GPU renderer string of canvas c's WebGL context,
  // '' for a 2D canvas.
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


  // ---- The virtual clock (render/doc.go, "Time").
  //
  // virtualClock replaces win's clocks (performance.now, Date,
  // requestAnimationFrame, setTimeout, setInterval and their clear
  // functions) with a virtual one that stands still until advance(t) moves
  // it: advance runs the timers due by t, in order, then (unless noFrames)
  // the animation frame callbacks, at t. opts:
  //   epochMs      what Date.now() is at virtual time 0;
  //   freeReads    clock reads per advance that leave time alone;
  //   readStepMs   how far each read past freeReads moves time on, so that
  //                code busy-waiting on the clock ends;
  //   onWork()     called when a timer or an animation frame is asked for,
  //                or the last hold is released (see hold).
  // Each callback runs on its own: an exception it throws is reported as
  // an uncaught one (win.reportError) and the others still run.
  var EPSILON = 1e-6; // a timer due at 200.00000000000003 ms runs at 200
  function virtualClock(win, opts) {
    var RealDate = win.Date;
    var perf = win.performance;
    var now = 0, reads = 0, busyMs = 0, held = 0;
    var timers = [];     // {id, start, runs, due, seq, fn, args, every}
    var frames = [];     // animation frame callbacks: {id, cb}
    var nextID = 1, seq = 0;
    var freeReads = opts.freeReads > 0 ? opts.freeReads : Infinity;
    var step = opts.readStepMs > 0 ? opts.readStepMs : 0;
    var onWork = opts.onWork || function () {};
    var slice = Array.prototype.slice;
    function read() {
      if (++reads > freeReads) {
        now += step;
        busyMs += step;
      }
      return now;
    }
    if (perf) {
      try {
        Object.defineProperty(perf, 'now', { value: read, configurable: true, writable: true });
      } catch (e) { /* keep the real one */ }
    }
    function VDate() {
      if (!new.target) return new RealDate(opts.epochMs + read()).toString();
      if (arguments.length === 0) return new RealDate(opts.epochMs + read());
      return new (Function.prototype.bind.apply(RealDate, [null].concat(slice.call(arguments))))();
    }
    VDate.prototype = RealDate.prototype;
    VDate.now = function () { return Math.floor(opts.epochMs + read()); };
    VDate.parse = RealDate.parse;
    VDate.UTC = RealDate.UTC;
    win.Date = VDate;

    function addTimer(fn, delay, args, repeat) {
      if (typeof fn !== 'function') {
        var src = String(fn);
        fn = function () { (0, eval)(src); };
      }
      // Nothing runs at the same virtual instant it was scheduled: a chain
      // of zero timeouts advances time instead of spinning.
      var d = Math.max(1, +delay || 0);
      var t = { id: nextID++, start: now, runs: 0, due: now + d, seq: seq++, fn: fn, args: args, every: repeat ? d : 0 };
      timers.push(t);
      onWork();
      return t.id;
    }
    function clearTimer(id) {
      for (var i = 0; i < timers.length; i++) {
        if (timers[i].id === id) { timers.splice(i, 1); return; }
      }
    }
    win.setTimeout = function (fn, delay) { return addTimer(fn, delay, slice.call(arguments, 2), false); };
    win.setInterval = function (fn, delay) { return addTimer(fn, delay, slice.call(arguments, 2), true); };
    win.clearTimeout = clearTimer;
    win.clearInterval = clearTimer;
    win.requestAnimationFrame = function (cb) {
      var id = nextID++;
      frames.push({ id: id, cb: cb });
      onWork();
      return id;
    };
    win.cancelAnimationFrame = function (id) {
      for (var i = 0; i < frames.length; i++) {
        if (frames[i].id === id) { frames.splice(i, 1); return; }
      }
    };
    function run(fn, self, args) {
      reads = 0;
      if (!opts.rethrow) return fn.apply(self, args);
      try {
        fn.apply(self, args);
      } catch (e) {
        if (typeof win.reportError === 'function') win.reportError(e);
        else throw e;
      }
    }
    function nextTimer(t) {
      var next = null;
      for (var i = 0; i < timers.length; i++) {
        var c = timers[i];
        if (c.due <= t + EPSILON && (!next || c.due < next.due || (c.due === next.due && c.seq < next.seq))) next = c;
      }
      return next;
    }
    function advance(t, noFrames) {
      for (var guard = 0; ; guard++) {
        var next = nextTimer(t);
        if (!next) break;
        if (guard > 100000) throw new Error('more than 100000 timer callbacks at one time');
        if (next.due > now) now = Math.min(t, next.due);
        if (next.every) {
          // start + n * every, not a running sum: no drift against k/fps.
          next.runs++;
          next.due = next.start + next.every * (next.runs + 1);
          next.seq = seq++;
        } else {
          clearTimer(next.id);
        }
        run(next.fn, win, next.args);
      }
      if (t > now) now = t;
      reads = 0;
      if (noFrames) return;
      var due = frames;
      frames = [];
      for (var j = 0; j < due.length; j++) run(due[j].cb, win, [now]);
    }
    return {
      now: function () { return now; },
      advance: advance,
      // busyMs is how far reads alone have moved time on.
      busyMs: function () { return busyMs; },
      hasFrames: function () { return frames.length > 0; },
      // nextDue is when the next timer is due, -1 when none is.
      nextDue: function () {
        var d = -1;
        for (var i = 0; i < timers.length; i++) if (d < 0 || timers[i].due < d) d = timers[i].due;
        return d;
      },
      // hold says the page waits for something real (a file, a decode):
      // held() is true until the function it returns is called.
      hold: function () {
        held++;
        var done = false;
        return function () {
          if (done) return;
          done = true;
          if (--held === 0) onWork();
        };
      },
      held: function () { return held > 0; },
      setTimeout: win.setTimeout
    };
  }

  // holdRealEvents makes clock wait (clock.hold) for what the page waits
  // for in real time: fetch() and the reading of its body, XMLHttpRequest,
  // an <img> loading or decoding (in this window's realm, see below),
  // createImageBitmap and font loads. Workers' messages and other events
  // are not waited for.
  function holdRealEvents(win, clock) {
    function holdPromise(p) {
      if (p && typeof p.then === 'function') {
        var release = clock.hold();
        p.then(release, release);
      }
      return p;
    }
    function wrap(obj, name) {
      var f = obj && obj[name];
      if (typeof f !== 'function') return;
      obj[name] = function () { return holdPromise(f.apply(this, arguments)); };
    }
    wrap(win, 'fetch');
    wrap(win, 'createImageBitmap');
    if (win.Response) ['arrayBuffer', 'blob', 'bytes', 'json', 'text', 'formData'].forEach(function (m) { wrap(win.Response.prototype, m); });
    if (win.FontFace) wrap(win.FontFace.prototype, 'load');
    if (win.document && win.document.fonts) wrap(win.document.fonts, 'load');
    var X = win.XMLHttpRequest;
    if (X && X.prototype.send) {
      var send = X.prototype.send;
      X.prototype.send = function () {
        var release = clock.hold();
        this.addEventListener('loadend', release);
        try {
          return send.apply(this, arguments);
        } catch (e) {
          release();
          throw e;
        }
      };
    }
    var I = win.HTMLImageElement;
    if (!I) return;
    wrap(I.prototype, 'decode');
    // An <img> holds the clock from the moment its load starts until its
    // load or error event, however the load was started: its src or srcset
    // property, setAttribute or setAttributeNS, or HTML parsed by innerHTML
    // or insertAdjacentHTML, at once (the image may never be put in the
    // document: p5's loadImage, a sketch drawing it); any other way an
    // image gets into the document or its src or srcset changes there
    // (appended clones, outerHTML, an Attr's value, a <picture>'s
    // <source>), at the end of the task that did it, through a
    // MutationObserver: before the driver's next step, so before the
    // clock can move on.
    var holding = typeof win.WeakMap === 'function' ? new win.WeakMap() : null;
    function holdImage(img) {
      // A lazy image out of view may never load: not waited for.
      if (img.complete || img.loading === 'lazy') return;
      if (holding) {
        if (holding.get(img)) return;
        holding.set(img, true);
      }
      var release = clock.hold();
      var done = function () {
        img.removeEventListener('load', done);
        img.removeEventListener('error', done);
        if (holding) holding.delete(img);
        release();
      };
      img.addEventListener('load', done);
      img.addEventListener('error', done);
    }
    function isImage(el) {
      try { return el instanceof I; } catch (e) { return false; }
    }
    // holdIn holds the images in node, an element.
    function holdIn(node) {
      if (!node || node.nodeType !== 1) return;
      if (isImage(node)) holdImage(node);
      else if (node.firstElementChild) {
        var imgs = node.getElementsByTagName('img');
        for (var i = 0; i < imgs.length; i++) holdImage(imgs[i]);
      }
    }
    function wrapSetter(proto, name, after) {
      var d = Object.getOwnPropertyDescriptor(proto, name);
      if (!d || !d.set) return;
      Object.defineProperty(proto, name, {
        configurable: true,
        enumerable: d.enumerable,
        get: d.get,
        set: function (v) {
          d.set.call(this, v);
          after(this);
        }
      });
    }
    wrapSetter(I.prototype, 'src', holdImage);
    wrapSetter(I.prototype, 'srcset', holdImage);
    var E = win.Element;
    if (E) {
      // HTML parsed into an element not in the document (yet).
      wrapSetter(E.prototype, 'innerHTML', holdIn);
      var insertHTML = E.prototype.insertAdjacentHTML;
      if (typeof insertHTML === 'function') {
        E.prototype.insertAdjacentHTML = function () {
          var r = insertHTML.apply(this, arguments);
          holdIn(this.parentNode && this.parentNode.nodeType === 1 ? this.parentNode : this);
          return r;
        };
      }
      // setAttribute(name, v) and setAttributeNS(ns, name, v).
      [['setAttribute', 0], ['setAttributeNS', 1]].forEach(function (m) {
        var f = E.prototype[m[0]];
        if (typeof f !== 'function') return;
        E.prototype[m[0]] = function () {
          var r = f.apply(this, arguments);
          var n = arguments[m[1]];
          if (typeof n === 'string' && /^(src|srcset)$/i.test(n) && isImage(this)) holdImage(this);
          return r;
        };
      });
    }
    var MO = win.MutationObserver, doc = win.document;
    if (typeof MO !== 'function' || !doc) return;
    new MO(function (records) {
      for (var i = 0; i < records.length; i++) {
        var r = records[i];
        // A <source> of a <picture> picks its <img>'s file.
        if (r.type === 'attributes') {
          holdIn(r.target.localName === 'source' ? r.target.parentNode : r.target);
          continue;
        }
        for (var j = 0; j < r.addedNodes.length; j++) {
          var n = r.addedNodes[j];
          holdIn(n.localName === 'source' ? r.target : n);
        }
      }
    }).observe(doc, { childList: true, subtree: true, attributes: true, attributeFilter: ['src', 'srcset'] });
  }

  // virtualMedia puts win's <video> and <audio> elements on clock (see
  // render/doc.go, "Time"). The browser never plays them: play() and
  // pause() are kept here, a playing element's position is where it
  // started plus the virtual time since then (times playbackRate; wrapped
  // by loop, else it ends: paused, then "pause" and "ended"), and
  // currentTime, paused and ended say so. sync(t) seeks every element
  // whose picture is not at its position for virtual time t; the drivers
  // call it before each advance and advance only when it started no seek.
  // An element holds the clock while it is busy: from the start of a load
  // (its src set, load(), a <source> added, the element put in the
  // document) until the load's last event (canplaythrough) or its error,
  // and from the start of a seek (its own, the sketch's or the browser's)
  // until the last of its events. An autoplay element starts playing at
  // the end of its load. With opts.trackShown, settled() and refresh()
  // let a screenshot wait until the page's <video> elements show their
  // frames (see refresh).
  function virtualMedia(win, clock, opts) {
    var M = win.HTMLMediaElement;
    var none = { sync: function () { return false; }, refresh: function () { return 0; }, settled: function () { return true; } };
    var trackShown = !!(opts && opts.trackShown);
    if (!M || typeof win.WeakMap !== 'function') return none;
    var P = M.prototype;
    function desc(name) { return Object.getOwnPropertyDescriptor(P, name); }
    var dCurrent = desc('currentTime'), dPaused = desc('paused'), dEnded = desc('ended'),
      dRate = desc('playbackRate'), dDuration = desc('duration'), dReady = desc('readyState'),
      dNetwork = desc('networkState'), dLoop = desc('loop'), dSeeking = desc('seeking'), dSrc = desc('src');
    var needed = [dCurrent, dPaused, dEnded, dRate, dDuration, dReady, dNetwork, dLoop, dSeeking];
    for (var i = 0; i < needed.length; i++) if (!needed[i] || !needed[i].get) return none;
    var realPlay = P.play, realPause = P.pause, realLoad = P.load;
    var Ev = win.Event, resolved = win.Promise.resolve.bind(win.Promise);
    var later = typeof win.queueMicrotask === 'function' ? win.queueMicrotask.bind(win) : function (f) { resolved().then(f); };
    var states = new win.WeakMap();
    var all = []; // every element with a state, in the order first seen
    function get(d, el) { return d.get.call(el); }
    function duration(el) { var d = get(dDuration, el); return d > 0 && isFinite(d) ? d : 0; }
    function fire(el, type) { later(function () { el.dispatchEvent(new Ev(type)); }); }
    function hasSource(el) { return !!(el.getAttribute('src') || el.getElementsByTagName('source').length); }

    // update holds the clock while el is busy (loading, seeking, or back
    // from a seek that took it below HAVE_FUTURE_DATA and not yet up again
    // with canplay and canplaythrough) and lets it go when it is not.
    function update(el, s) {
      if (s.loading || s.upAgain || get(dSeeking, el)) {
        if (!s.hold) s.hold = clock.hold();
      } else if (s.hold) {
        var r = s.hold;
        s.hold = null;
        r();
      }
    }
    function shows(el, s) {
      return s.watching && s.seekTo >= 0 && el.isConnected && el.getClientRects().length > 0;
    }
    // frameTime is the media time of the frame el has decoded (-1 when it
    // cannot say), where that frame starts.
    var VF = win.VideoFrame;
    function frameTime(el) {
      if (typeof VF !== 'function') return -1;
      try {
        var f = new VF(el);
        var t = f.timestamp / 1e6;
        f.close();
        return t;
      } catch (e) {
        return -1;
      }
    }
    // onEvent follows el's loading and seeking events. What an earlier load
    // or seek queued (load() queues abort and emptied; a seek that found
    // the element below HAVE_FUTURE_DATA queues canplay and
    // canplaythrough after seeked) comes before the next one's first
    // event, so none of it ends the next.
    function onEvent(el, s, ev) {
      switch (ev.type) {
        case 'canplaythrough':
          // autoplay: the browser would start it now (see loading).
          if (s.loading && s.canAutoplay && el.autoplay && !s.playing) start(el, s);
          s.canAutoplay = false;
          s.loading = false;
          s.upAgain = false;
          break;
        case 'seeking':
          s.upAgain = get(dReady, el) < 3;
          break;
        case 'suspend':
          // preload="none" before any data. (Chromium may suspend other
          // loads before their data too, and go on later.)
          if (get(dReady, el) === 0 && el.preload === 'none') s.loading = false;
          break;
        case 'emptied':
          if (!hasSource(el)) s.loading = false;
          break;
        case 'error':
          if (ev.target === el) {
            s.loading = false;
            s.upAgain = false;
            break;
          }
          // A <source>'s (seen while capturing): the element tries the
          // next; with none left it loads no more.
          later(function () {
            if (get(dNetwork, el) === 3) {
              s.loading = false;
              update(el, s);
            }
          });
          break;
      }
      update(el, s);
    }
    function state(el) {
      var s = states.get(el);
      if (s) return s;
      s = { playing: false, pos: get(dCurrent, el), at: clock.now(), rate: get(dRate, el), ended: false,
        seekTo: -1, loading: false, upAgain: false, canAutoplay: false, hold: null, inDoc: el.isConnected,
        watching: false, presented: 0, shownTime: -1, refreshed: -1 };
      states.set(el, s);
      all.push(el);
      ['canplaythrough', 'seeking', 'seeked', 'suspend', 'emptied', 'error'].forEach(function (type) {
        el.addEventListener(type, function (ev) { onEvent(el, s, ev); }, true);
      });
      // Should the browser start it after all, it plays on the virtual
      // clock from then.
      el.addEventListener('play', function (ev) {
        if (!ev.isTrusted) return;
        if (!s.playing) start(el, s);
        realPause.call(el);
      }, true);
      return s;
    }
    // loading: el has begun to load: a new load starts paused at 0.
    function loading(el) {
      var s = state(el);
      s.playing = false;
      s.ended = false;
      s.pos = 0;
      s.at = clock.now();
      s.seekTo = -1;
      s.upAgain = false;
      s.loading = true;
      // The browser's own autoplay is called off (pause() does that; the
      // element is paused, so no event), and made at the end of the load
      // instead, on the virtual clock, unless the page plays or pauses
      // the element first.
      s.canAutoplay = true;
      realPause.call(el);
      update(el, s);
      // Nothing to load after all (no src, no <source>; src set to ''
      // ends in an error event).
      later(function () {
        if (!hasSource(el)) {
          s.loading = false;
          update(el, s);
        }
      });
    }
    function position(el, s, t) {
      if (!s.playing) return s.pos;
      var p = s.pos + Math.max(0, t - s.at) / 1000 * s.rate;
      var d = duration(el);
      if (d && p >= d) p = get(dLoop, el) ? p % d : d;
      return p;
    }
    function anchor(el, s) {
      s.pos = position(el, s, clock.now());
      s.at = clock.now();
    }
    function start(el, s) {
      var d = duration(el);
      if (s.ended || (d && s.pos >= d)) s.pos = 0;
      s.at = clock.now();
      s.playing = true;
      s.ended = false;
      fire(el, 'play');
      fire(el, 'playing');
    }
    // seek moves el's picture to pos; the seek holds the clock until its
    // last event (see update). One with no data yet is the browser's to
    // make once it has the metadata, during the load.
    function seek(el, s, pos) {
      s.seekTo = pos;
      if (get(dReady, el) === 0) return;
      if (trackShown && !s.watching && typeof el.requestVideoFrameCallback === 'function') {
        // Counts the frames the compositor is given.
        s.watching = true;
        var shown = function (now, meta) {
          s.presented++;
          s.shownTime = meta && typeof meta.mediaTime === 'number' ? meta.mediaTime : -1;
          el.requestVideoFrameCallback(shown);
        };
        el.requestVideoFrameCallback(shown);
      }
      dCurrent.set.call(el, pos);
      update(el, s);
    }
    P.play = function () {
      if (!(this instanceof M)) return realPlay.apply(this, arguments);
      var s = state(this);
      // play() loads what preload="none" did not.
      if (get(dReady, this) === 0 && this.preload === 'none') {
        this.preload = 'auto';
        if (hasSource(this)) loading(this);
      }
      s.canAutoplay = false;
      if (!s.playing) start(this, s);
      return resolved();
    };
    P.pause = function () {
      if (!(this instanceof M)) return realPause.apply(this, arguments);
      var s = state(this);
      s.canAutoplay = false;
      if (!get(dPaused, this)) realPause.call(this);
      if (!s.playing) return;
      anchor(this, s);
      s.playing = false;
      fire(this, 'timeupdate');
      fire(this, 'pause');
    };
    P.load = function () {
      if (!(this instanceof M)) return realLoad.apply(this, arguments);
      realLoad.call(this);
      loading(this);
    };
    function define(name, d, getter, setter) {
      Object.defineProperty(P, name, {
        configurable: true, enumerable: d.enumerable,
        get: getter || d.get,
        set: setter || d.set
      });
    }
    define('currentTime', dCurrent, function () {
      var s = states.get(this);
      return s ? position(this, s, clock.now()) : get(dCurrent, this);
    }, function (v) {
      dCurrent.set.call(this, v);
      var s = state(this);
      s.pos = get(dCurrent, this);
      s.at = clock.now();
      s.ended = false;
      seek(this, s, s.pos);
    });
    define('paused', dPaused, function () {
      var s = states.get(this);
      return s ? !s.playing : get(dPaused, this);
    });
    define('ended', dEnded, function () {
      var s = states.get(this);
      return s ? s.ended : get(dEnded, this);
    });
    define('playbackRate', dRate, null, function (v) {
      var s = state(this);
      anchor(this, s);
      dRate.set.call(this, v);
      s.rate = get(dRate, this);
    });

    // Where a load starts: the src property and attribute, load(), a
    // <source> put in a media element, the element (or one with it) put
    // in the document, new Audio(src).
    if (dSrc && dSrc.set) {
      define('src', dSrc, null, function (v) {
        dSrc.set.call(this, v);
        loading(this);
      });
    }
    var Src = win.HTMLSourceElement;
    function touched(node) {
      if (!node || node.nodeType !== 1) return;
      if (node instanceof M) {
        if (!states.get(node) && hasSource(node)) loading(node);
        return;
      }
      if (Src && node instanceof Src) {
        if (node.parentNode instanceof M) touched(node.parentNode);
        return;
      }
      if (node.firstElementChild) {
        var media = node.querySelectorAll('video,audio');
        for (var i = 0; i < media.length; i++) touched(media[i]);
      }
    }
    var E = win.Element, N = win.Node;
    if (E) {
      var setAttr = E.prototype.setAttribute;
      E.prototype.setAttribute = function (name) {
        var r = setAttr.apply(this, arguments);
        if (typeof name === 'string' && /^src$/i.test(name)) {
          if (this instanceof M) loading(this);
          else if (Src && this instanceof Src && this.parentNode instanceof M && !states.get(this.parentNode)) loading(this.parentNode);
        }
        return r;
      };
    }
    if (N) {
      ['appendChild', 'insertBefore'].forEach(function (m) {
        var f = N.prototype[m];
        N.prototype[m] = function (child) {
          var r = f.apply(this, arguments);
          if (this instanceof M && Src && child instanceof Src && !states.get(this)) loading(this);
          return r;
        };
      });
    }
    var RealAudio = win.Audio;
    if (typeof RealAudio === 'function') {
      var Audio = function Audio(src) {
        var a = arguments.length ? new RealAudio(src) : new RealAudio();
        if (arguments.length) loading(a);
        return a;
      };
      Audio.prototype = RealAudio.prototype;
      win.Audio = Audio;
    }
    var MO = win.MutationObserver, doc = win.document;
    if (typeof MO === 'function' && doc) {
      new MO(function (records) {
        for (var i = 0; i < records.length; i++) {
          var r = records[i];
          for (var j = 0; j < r.addedNodes.length; j++) touched(r.addedNodes[j]);
        }
      }).observe(doc, { childList: true, subtree: true });
    }

    return {
      // shows: the <video> elements the page shows (laid out, tracked).
      // settled says whether the compositor has been given each one's
      // frame (the decoded one's media time, requestVideoFrameCallback's
      // report) and, after refresh, a frame since.
      settled: function () {
        for (var i = 0; i < all.length; i++) {
          var el = all[i], s = states.get(el);
          if (!shows(el, s)) continue;
          if (get(dSeeking, el)) return false;
          var ft = frameTime(el);
          if (ft < 0) continue; // it cannot say: not waited for
          if (Math.abs(s.shownTime - ft) > 1e-6) return false;
          if (s.refreshed >= 0 && s.presented === s.refreshed) return false;
        }
        return true;
      },
      // refresh seeks every <video> the page shows once more, to another
      // time in the frame it shows, and says how many it did. After a run
      // of seeks (a playing video, one seek a frame) the compositor can go
      // on showing an earlier frame, however long it is left, while
      // requestVideoFrameCallback reports the last; the frame of one more
      // seek, made once the others have settled, it shows. The page's time
      // has stopped by then: the sketch sees no change of currentTime,
      // only the seek's events.
      refresh: function () {
        var n = 0;
        for (var i = 0; i < all.length; i++) {
          var el = all[i], s = states.get(el);
          var ft = shows(el, s) ? frameTime(el) : -1;
          if (ft < 0) continue;
          // ft <= seekTo: the frame shown starts at ft.
          var t = ft < s.seekTo ? (ft + s.seekTo) / 2 : s.seekTo + 1e-6;
          s.refreshed = s.presented;
          dCurrent.set.call(el, t);
          n++;
        }
        return n;
      },
      // sync seeks what is not where time t puts it and says whether it
      // did (the clock is then held until the frames are there). An
      // element that reached its end stops there first, and one taken
      // out of the document pauses, as in a browser.
      sync: function (t) {
        var any = false;
        for (var i = 0; i < all.length; i++) {
          var el = all[i], s = states.get(el);
          if (s.hold) { any = true; continue; }
          var inDoc = el.isConnected;
          if (s.playing && s.inDoc && !inDoc) {
            anchor(el, s);
            s.playing = false;
            fire(el, 'pause');
          }
          s.inDoc = inDoc;
          var d = duration(el);
          if (s.playing && d && !get(dLoop, el) && s.pos + Math.max(0, t - s.at) / 1000 * s.rate >= d) {
            s.pos = d;
            s.playing = false;
            s.ended = true;
            // Now, before the frame past the end: a browser's end comes
            // in a task of its own before the next frame. (A listener's
            // exception is reported as uncaught, as always.)
            ['timeupdate', 'pause', 'ended'].forEach(function (type) { el.dispatchEvent(new Ev(type)); });
          }
          var pos = position(el, s, t);
          // Once loaded, an element is seeked to its position even when it
          // is there already: a paused element's first frame is not always
          // decoded (in a hidden page, not until a seek asks for it).
          if (pos === s.seekTo || get(dReady, el) === 0) continue;
          seek(el, s, pos);
          any = any || !!s.hold;
        }
        return any;
      }
    };
  }

  // virtualAnimations puts the document's CSS animations and transitions
  // and its Web Animations (element.animate()) on clock (see
  // render/doc.go, "Time"): sync(t), before each advance, pauses each
  // animation it has not seen before, taking the virtual time then as its
  // start, and sets every one's currentTime to where virtual time t puts
  // it (document.getAnimations() brings the page's styles up to date
  // first, so an animation a callback started is seen before the next
  // advance). One the page pauses, plays, seeks or changes the rate of
  // itself is followed from there. Only a page the browser draws (a js
  // page) needs it: a hidden page runs no animation.
  function virtualAnimations(win, clock) {
    var doc = win.document, A = win.Animation;
    var none = { sync: function () {} };
    if (!doc || typeof doc.getAnimations !== 'function' || !A || typeof win.WeakMap !== 'function') return none;
    var P = A.prototype;
    var dCurrent = Object.getOwnPropertyDescriptor(P, 'currentTime');
    var dRate = Object.getOwnPropertyDescriptor(P, 'playbackRate');
    var realPause = P.pause, realPlay = P.play;
    if (!dCurrent || !dCurrent.set || !dRate || !dRate.set || typeof realPause !== 'function' || typeof realPlay !== 'function') return none;
    var getAnimations = doc.getAnimations;
    var states = new win.WeakMap(); // {pos: ms of the animation at at, at, rate, running}
    function position(s, t) { return s.running ? s.pos + (t - s.at) * s.rate : s.pos; }
    function anchor(a, s) {
      s.pos = position(s, clock.now());
      s.at = clock.now();
    }
    function adopt(a) {
      var s = states.get(a);
      if (s) return s;
      var state = a.playState;
      var cur = dCurrent.get.call(a);
      s = { pos: typeof cur === 'number' && state !== 'running' ? cur : 0, at: clock.now(), rate: dRate.get.call(a), running: state === 'running' };
      states.set(a, s);
      realPause.call(a);
      return s;
    }
    P.pause = function () {
      var s = states.get(this);
      if (s) {
        anchor(this, s);
        s.running = false;
      }
      return realPause.apply(this, arguments);
    };
    P.play = function () {
      var s = states.get(this);
      var r = realPlay.apply(this, arguments);
      if (s) {
        anchor(this, s);
        s.running = true;
        realPause.call(this);
        dCurrent.set.call(this, s.pos);
      }
      return r;
    };
    Object.defineProperty(P, 'currentTime', {
      configurable: true, enumerable: dCurrent.enumerable, get: dCurrent.get,
      set: function (v) {
        dCurrent.set.call(this, v);
        var s = states.get(this);
        if (s) {
          s.pos = dCurrent.get.call(this);
          s.at = clock.now();
        }
      }
    });
    Object.defineProperty(P, 'playbackRate', {
      configurable: true, enumerable: dRate.enumerable, get: dRate.get,
      set: function (v) {
        var s = states.get(this);
        if (s) anchor(this, s);
        dRate.set.call(this, v);
        if (s) s.rate = dRate.get.call(this);
      }
    });
    return {
      sync: function (t) {
        var list;
        try { list = getAnimations.call(doc); } catch (e) { return; }
        for (var i = 0; i < list.length; i++) {
          var a = list[i], s = adopt(a);
          var pos = position(s, t);
          if (dCurrent.get.call(a) !== pos) dCurrent.set.call(a, pos);
        }
      }
    };
  }

  // frameDriver runs clock's work back to back, as fast as the CPU allows:
  // each step is a real task (opts.schedule(fn)). After startTimers(until)
  // it runs only the timers, each at its due time (a p5 setup() that waits
  // on one, code that starts its sketch from one), those due by until
  // (virtual ms; none: all of them; a later call may raise it, not lower
  // it); after start() it runs the animation frames too, on a grid of
  // 1000/opts.fps() ms from the time start() was called (the first frame
  // at that time), and the timers due before each frame, or when no
  // animation frame is asked for, the timers due next. It does not move
  // time while clock is held, stops for good when opts.stopped(), and
  // waits, idle, while there is no work; wake() (clock's onWork) starts it
  // again. frames() counts the animation frames run; pending() says
  // whether timers it would run are still to run (or a step is on its
  // way). opts.sync(t), when given, runs before each step that would move
  // time to t; when it says it started something the clock waits for (it
  // holds the clock), the step is made again once that is done.
  function frameDriver(clock, opts) {
    var phase = 0; // 0: not started, 1: timers only, 2: frames too
    var until = Infinity; // phase 1: the last time a timer may run at
    var scheduled = false, count = 0;
    var base = 0, k = 0, fps = 0, dt = 0, next = 0;
    function setRate(f) {
      fps = f;
      dt = 1000 / f;
    }
    function frames() { return phase === 2 && clock.hasFrames(); }
    // due is when the next timer the driver may run is due, -1 if none.
    function due() {
      var d = clock.nextDue();
      return d >= 0 && (phase === 2 || d <= until + EPSILON) ? d : -1;
    }
    function wake() {
      if (!phase || scheduled || opts.stopped()) return;
      if (clock.held() || !(frames() || due() >= 0)) return;
      scheduled = true;
      opts.schedule(step);
    }
    function step() {
      scheduled = false;
      if (opts.stopped() || clock.held()) return;
      try {
        // Media first (opts.sync, see virtualMedia): a seek holds the
        // clock, and its release wakes the driver for this step again.
        var fr = frames(), at = fr ? Math.max(next, clock.now()) : due();
        if (opts.sync && at >= 0 && opts.sync(Math.max(at, clock.now()))) return;
        if (fr) {
          var t = at;
          count++;
          clock.advance(t);
          var f = opts.fps();
          if (f !== fps) {
            // A new frame rate counts from this frame.
            setRate(f);
            base = t;
            k = 0;
          }
          k++;
          next = base + k * dt;
        } else {
          var d = due();
          if (d >= 0) {
            clock.advance(Math.max(d, clock.now()), true);
            // The next frame is the first on the grid after now.
            if (phase === 2 && next < clock.now() - EPSILON) {
              k = Math.ceil((clock.now() - base) / dt - EPSILON);
              next = base + k * dt;
            }
          }
        }
      } finally {
        wake();
      }
    }
    return {
      startTimers: function (limit) {
        var u = typeof limit === 'number' ? limit : Infinity;
        if (phase === 0) {
          phase = 1;
          until = u;
        } else if (u > until) {
          until = u;
        }
        wake();
      },
      start: function () {
        if (phase === 2) return;
        phase = 2;
        setRate(opts.fps());
        base = next = clock.now();
        wake();
      },
      wake: wake,
      started: function () { return phase > 0; },
      pending: function () { return scheduled || frames() || due() >= 0; },
      frames: function () { return count; }
    };
  }

  // primeFirstFrame makes p5 instance inst draw its next frame at once, as
  // if it had drawn one 1000/fps ms ago (or 1000/frameRate(), when
  // slower): p5 skips a frame that comes sooner than 1/frameRate after the
  // last (p5 1.x and 2.x keep that time in _lastTargetFrameTime).
  function primeFirstFrame(inst, now, fps) {
    if (!inst || typeof inst._lastTargetFrameTime !== 'number') return;
    var every = 1000 / fps;
    if (inst._targetFrameRate > 0) every = Math.max(every, 1000 / inst._targetFrameRate);
    inst._lastTargetFrameTime = now - every;
    inst._lastRealFrameTime = now - every;
  }
  // frameRateOf is the frame rate p5 instance inst aims at (frameRate()),
  // or def.
  function frameRateOf(inst, def) {
    var f = inst && inst._targetFrameRate;
    return typeof f === 'number' && f > 0 && isFinite(f) ? f : def;
  }

  return {
    sfc32: sfc32,
    generator: generator,
    fxSeeds: fxSeeds,
    B58: B58,
    installGlobals: installGlobals,
    pseudorandomFamily: pseudorandomFamily,
    PSEUDORANDOM: PSEUDORANDOM,
    lineOf: lineOf,
    describe: describe,
    p5Clash: p5Clash,
    preloadIgnored: preloadIgnored,
    reportErrors: reportErrors,
    hasDraw: hasDraw,
    seedP5: seedP5,
    hookP5: hookP5,
    mainCanvas: mainCanvas,
    webglRenderer: webglRenderer,
    virtualClock: virtualClock,
    holdRealEvents: holdRealEvents,
    virtualMedia: virtualMedia,
    virtualAnimations: virtualAnimations,
    frameDriver: frameDriver,
    primeFirstFrame: primeFirstFrame,
    frameRateOf: frameRateOf,
    reportJSON: reportJSON
  };
})();
if (typeof module === 'object' && module && typeof window === 'undefined') module.exports = empplayRuntime;
