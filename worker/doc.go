// Package worker runs the job loop of one `empplay worker` process: fetch a
// job from the queue, render it, upload every output, verify the CDN
// serves it, and store exactly one result. It declares the small
// interfaces it needs ([Queue], [Renderer], [Uploader], [Verifier]) and
// imports none of their implementations; cmd wires them together.
package worker
