// Package cdpcbor speaks the DevTools protocol's binary form to Chromium.
//
// Chromium started with --remote-debugging-pipe=cbor reads and writes its
// protocol messages in CBOR (RFC 8949) as its own processes pass them
// between each other, instead of JSON. The browser process then forwards a
// page's messages (a report of a megabyte, parts of the picture) and the
// worker's (a megabyte of p5.js's compilation cache for every job) without
// turning each into the other form: with JSON it parsed and re-encoded
// every one, in buffers it allocated afresh each time.
//
// chromedp speaks JSON. [Pump] sits between the two: it turns the JSON
// messages chromedp writes into CBOR for the browser, and the browser's
// CBOR into JSON for chromedp. [FromJSON] and [ToJSON] are the conversions,
// in the form Chromium's own converter uses: every map in an envelope
// (tag 24 around a byte string of 32-bit length), maps and arrays of
// indefinite length, strings as UTF-8 when they are ASCII and UTF-16LE
// byte strings otherwise, integers that fit 32 bits as integers and every
// other number as a double, and byte strings tagged 22 (binary data) as
// base64 strings in JSON.
//
// chromedp writes a command's binary field ([]byte) in base64, which the
// browser decodes again. [Refs] lets the client put a short reference in
// such a field instead, which the conversion replaces by the bytes
// themselves, tagged 22: a response body or a compilation cache then
// crosses the pipe once, as it is.
package cdpcbor
