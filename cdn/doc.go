// Package cdn checks that an uploaded file is served at its public URL
// before a job reports that URL to its producer.
//
// A [Verifier] polls the URL (HEAD, falling back to a one-byte ranged GET
// where HEAD is refused or says nothing about the length) until it answers
// 200 with the expected length and media type, backing off exponentially
// with jitter, and gives up at a deadline with a retryable
// [empplay.CodeCDNError] that says what was last served. It imports only
// the standard library and the root package.
package cdn
