package js

import _ "embed"

// Prelude is the still-image prelude: the first script of a js job's page,
// and of a p5 page after p5.js. It holds the EMPPLAY_RUNTIME marker (see
// Runtime) and the EMPPLAY_CONFIG marker for its settings.
//
//go:embed prelude.js
var Prelude string

// Video is the video prelude, after p5.js in a video job's page: it
// records frames on Runtime's virtual clock. It holds the EMPPLAY_RUNTIME marker
// and the EMPPLAY_VIDEO_CONFIG marker for its settings.
//
//go:embed video.js
var Video string

// VideoWorker is the encoder the video prelude starts as a dedicated
// worker from a blob: URL (it arrives in the prelude's settings).
//
//go:embed video_worker.js
var VideoWorker string

// Runtime is what both preludes share: seeding, the platforms' globals,
// error reporting, the canvas to capture, p5's hooks and the virtual clock. It is a module
// with explicit inputs (it defines empplayRuntime and nothing else), unit
// tested under Node by runtime.test.js; WithRuntime puts it in a prelude.
//
//go:embed runtime.js
var Runtime string
