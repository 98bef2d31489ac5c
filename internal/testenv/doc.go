// Package testenv starts the real services empplay's integration tests use
// (redis-server, Azurite, Chromium) on free loopback ports, with their state
// in the test's temp dir, and stops them by pid or process group when the
// test ends. Nothing is ever killed by name.
//
// A missing binary skips the test, unless EMPPLAY_REQUIRE_INTEGRATION=1
// (set by `make test` and CI), where it fails the test with the command
// that installs it. Under `go test -short` (make test-short) they skip the
// test whatever is installed ([SkipShort]): the fast tier starts no service.
//
// Tests wait for conditions with [Eventually] or [Poll], never for a fixed
// time that is usually enough.
package testenv
