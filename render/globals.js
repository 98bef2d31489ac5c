// Seeding and the platforms' globals, shared by prelude.js (still images)
// and video.js (videos): page.go and video.go put this file in place of the
// EMPPLAY_GLOBALS marker inside their function, so it sees their scope but
// defines nothing global of its own. doc.go defines what it installs.
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

  // installGlobals seeds Math.random and defines window.$fx, fxhash's legacy
  // globals, tokenData and window.empplay from cfg (the job's token
  // settings, width and height). signal(trigger) is what $fx.preview()
  // ("fxpreview") and empplay.capture() ("capture") do. It returns
  // window.empplay.
  function installGlobals(cfg, signal) {
    var hasOwn = Object.prototype.hasOwnProperty;
    // Math.random: sfc32 seeded with the first four words of SHA-256(hash).
    Math.random = sfc32(cfg.seed[0], cfg.seed[1], cfg.seed[2], cfg.seed[3]);

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
    window.$fx = fx;
    window.fxhash = fx.hash;
    window.fxrand = fx.rand;
    window.fxminter = fx.minter;
    window.fxrandminter = fx.randminter;
    window.fxpreview = fx.preview;
    window.isFxpreview = true;
    window.tokenData = { hash: cfg.hash, tokenId: cfg.tokenId };
    window.empplay = {
      hash: cfg.hash,
      seed: cfg.seed.slice(),
      variables: cfg.variables,
      components: cfg.components,
      width: cfg.width,
      height: cfg.height,
      capture: function () { signal('capture'); }
    };
    return window.empplay;
  }
