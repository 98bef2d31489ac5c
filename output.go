package empplay

import "time"

// Artifact is one file a render produced.
type Artifact struct {
	// Name is the blob name inside the job's bucket.
	Name     string
	MimeType string
	Body     []byte
	// Width and Height are the image size in pixels (0 for non-images).
	Width, Height int
}

// Output is everything a render produced. The first artifact is the job's
// main output (the result's src).
type Output struct {
	Artifacts []Artifact
	// Trigger says what told the renderer the picture was ready
	// ("draw", "frames", "capture", "deadline", ...).
	Trigger string
	// TriggerMs is when the trigger fired, in milliseconds from the start
	// of the job's code: virtual time on the virtual clock.
	TriggerMs float64
	// Frame is the sketch's frameCount when the picture was taken (for
	// code without p5, the animation frames the virtual clock ran).
	Frame int
	// Renderer is the WebGL renderer string, when the page used WebGL.
	Renderer string
	// Blank: every pixel of the picture is the same colour (a sketch that
	// only calls background()), or fully transparent with allowBlank.
	Blank bool
	// Warnings are the errors that did not stop the sketch, as they had
	// happened when the picture was taken (at most 20 of 500 characters).
	Warnings []string
	// AssetHits and AssetMisses count the job's files that came from the
	// worker's cache and from the network.
	AssetHits, AssetMisses int
}

// Delivery is one payload taken from the queue, owned by the worker that
// fetched it until it stores a result or gives it back.
type Delivery struct {
	Raw []byte
	// ID is [IDFor] of Raw.
	ID string
	// Attempt counts the claims of this job, this one included.
	Attempt int
	// Queued is how long the job waited before this claim: from when the
	// queue first saw the payload (the housekeeping's first-seen mark of a
	// pending job, or its first claim, whichever came first); 0 when
	// unknown.
	Queued time.Duration
}
