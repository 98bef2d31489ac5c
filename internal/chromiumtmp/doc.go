// Package chromiumtmp removes what a Chromium that did not exit cleanly
// leaves outside its profile directory: the directory of its
// process-singleton socket. Chromium makes that directory in $TMPDIR
// (org.chromium.Chromium.XXXXXX: a Unix socket path must be short) and
// links it from the profile as SingletonSocket; only a clean exit removes
// it. empplay stops browsers by killing their process group, and the
// supervisor kills whole worker slots, so both remove it themselves.
package chromiumtmp
