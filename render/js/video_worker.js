// The encoder of a video job's page (see video.js), run as a dedicated
// worker so that it works while the sketch draws the next frame. It takes
// the canvas frames (VideoFrames, transferred) and encodes them with
// WebCodecs, and posts every encoded frame back as base64:
//
//   in:  {init: {width, height, codedWidth, codedHeight, codec, bitrate, fps, keyEvery}}
//        {frame: VideoFrame, k}     frame k, in order
//        {flush: true}              no more frames
//   out: {chunks: [base64], sizes: [bytes], keys: [bool], first: k}
//        {flushed: true}
//        {error: string}
//
// The frames are converted to I420 by the browser's own (SIMD) code, as
// BT.709 limited range: what players assume for web video and what the
// stream is tagged with. Each canvas frame is copied out as RGBA and handed
// back as an RGBX frame that says so (a canvas frame would be encoded full
// range). A transparent pixel is composited over white, as the page shows
// it. A picture narrower or lower than the coded size (odd sizes: 4:2:0
// needs even ones) is padded by repeating its last column and row.
'use strict';
var enc = null, cfg = null, rgba = null, px = null, failed = false;
var layout = null, rect = null;

// flatten composites the pixels that are not opaque over white, in place;
// a canvas without transparency costs one comparison per pixel.
function flatten(px, n) {
  for (var i = 0; i < n; i++) {
    var p = px[i];
    if (p >= 0xff000000) continue;
    var a = p >>> 24, ia = 255 - a;
    var r = ((p & 255) * a + 255 * ia + 127) / 255 | 0;
    var g = (((p >>> 8) & 255) * a + 255 * ia + 127) / 255 | 0;
    var b = (((p >>> 16) & 255) * a + 255 * ia + 127) / 255 | 0;
    px[i] = (0xff000000 | (b << 16) | (g << 8) | r) >>> 0;
  }
}

// pad repeats the last column and row of the W x H picture in the
// CW x CH buffer px.
function pad(px, W, H, CW, CH) {
  if (CW > W) {
    for (var y = 0; y < H; y++) px[y * CW + W] = px[y * CW + W - 1];
  }
  if (CH > H) {
    px.copyWithin(H * CW, (H - 1) * CW, H * CW);
  }
}

function base64(u8) {
  var s = '';
  for (var i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000));
  return btoa(s);
}

function fail(msg) {
  if (failed) return;
  failed = true;
  postMessage({ error: msg });
}

// Messages are handled one after another: a handler awaits (the encoder's
// configuration, a frame's pixels), and the next must not start meanwhile.
var queue = Promise.resolve();
onmessage = function (ev) {
  queue = queue.then(function () { return handle(ev.data); });
};

async function handle(m) {
  if (failed) {
    if (m.frame) m.frame.close();
    return;
  }
  try {
    if (m.init) {
      cfg = m.init;
      rgba = new Uint8Array(cfg.codedWidth * cfg.codedHeight * 4);
      px = new Uint32Array(rgba.buffer);
      rect = { x: 0, y: 0, width: cfg.width, height: cfg.height };
      layout = [{ offset: 0, stride: cfg.codedWidth * 4 }];
      enc = new VideoEncoder({
        output: function (chunk) {
          var b = new Uint8Array(chunk.byteLength);
          chunk.copyTo(b);
          postMessage({
            chunks: [base64(b)], sizes: [b.length], keys: [chunk.type === 'key'],
            first: Math.round(chunk.timestamp * cfg.fps / 1e6)
          });
        },
        error: function (e) { fail(String(e)); }
      });
      var conf = {
        codec: cfg.codec, width: cfg.codedWidth, height: cfg.codedHeight,
        bitrate: cfg.bitrate, framerate: cfg.fps, latencyMode: 'quality'
      };
      if (/^avc1/.test(cfg.codec)) conf.avc = { format: 'annexb' };
      var support = await VideoEncoder.isConfigSupported(conf);
      if (!support.supported) {
        fail('this browser cannot encode ' + cfg.codec + ' at ' + cfg.codedWidth + 'x' + cfg.codedHeight);
        return;
      }
      enc.configure(conf);
      return;
    }
    if (m.flush) {
      await enc.flush();
      postMessage({ flushed: true });
      return;
    }
    var f = m.frame;
    try {
      await f.copyTo(rgba, { rect: rect, layout: layout, format: 'RGBA' });
    } finally {
      f.close();
    }
    pad(px, cfg.width, cfg.height, cfg.codedWidth, cfg.codedHeight);
    flatten(px, px.length);
    var out = new VideoFrame(rgba, {
      format: 'RGBX', codedWidth: cfg.codedWidth, codedHeight: cfg.codedHeight,
      timestamp: Math.round(m.k * 1e6 / cfg.fps), duration: Math.round(1e6 / cfg.fps),
      colorSpace: { primaries: 'bt709', transfer: 'bt709', matrix: 'bt709', fullRange: false }
    });
    enc.encode(out, { keyFrame: m.k % cfg.keyEvery === 0 });
    out.close();
  } catch (e) {
    fail(String(e && e.message || e));
  }
}
