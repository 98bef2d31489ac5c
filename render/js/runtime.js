// The runtime a page's sketch sees, shared by prelude.js (still images)
// and video.js (videos): the seeding, the platforms' globals, error
// reporting, finding the canvas and p5's hooks. It is a module with
// explicit inputs and no free variables: the pages' scripts put it inside
// their own function (at the EMPPLAY_RUNTIME marker), where it defines the
// local empplayRuntime and nothing global; under Node (the unit tests in
// runtime.test.js) it is module.exports. render/doc.go defines what it
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
    reportErrors: reportErrors,
    hasDraw: hasDraw,
    seedP5: seedP5,
    hookP5: hookP5,
    mainCanvas: mainCanvas,
    webglRenderer: webglRenderer
  };
})();
if (typeof module === 'object' && module && typeof window === 'undefined') module.exports = empplayRuntime;
