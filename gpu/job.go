package gpu

import (
	"math"
	"regexp"
	"strings"

	"github.com/empplay/empplay"
)

// Default GPU memory estimates of one job by its gpuComplexity, when the
// job has no estimatedGPUMemory. They are what one WebGL context of a p5
// sketch at up to 4096x4096 typically holds (framebuffers, textures,
// geometry buffers), rounded up; the browser's own GPU process is counted
// apart ([BrowserGPUMemory]).
const (
	JobMemoryLow    uint64 = 256 << 20  // "low", or no gpuComplexity
	JobMemoryMedium uint64 = 512 << 20  // "medium"
	JobMemoryHigh   uint64 = 1024 << 20 // "high"
	// BrowserGPUMemory is what a Chromium GPU process holds with no page
	// open (ANGLE's context, shader caches, the compositor), rounded up.
	BrowserGPUMemory uint64 = 512 << 20
)

// JobMemory is the GPU memory one job is expected to need, in bytes:
// estimatedMiB (the job's estimatedGPUMemory, in MiB) when it is positive,
// else the default of complexity ("low", "medium", "high"; anything else
// counts as low).
func JobMemory(estimatedMiB *float64, complexity string) uint64 {
	if estimatedMiB != nil && *estimatedMiB > 0 && !math.IsInf(*estimatedMiB, 0) {
		return uint64(math.Ceil(*estimatedMiB * (1 << 20)))
	}
	switch strings.ToLower(complexity) {
	case "medium":
		return JobMemoryMedium
	case "high":
		return JobMemoryHigh
	}
	return JobMemoryLow
}

// JobNeeds is what a job asks of the GPU, read from its payload by
// [ClassifyJob].
type JobNeeds struct {
	// WebGL is true when the job draws with WebGL: usesWebGL, or code
	// that creates a WEBGL canvas or graphics buffer, or asks a canvas for
	// a "webgl"/"webgl2" context.
	WebGL bool
	// Wants is true when the job should run on a GPU worker if the fleet
	// has a live one: WebGL jobs, and jobs whose gpuComplexity is medium
	// or high.
	Wants bool
	// Require is the job's requireGPU extension: it must never be
	// rendered on the CPU (it fails instead).
	Require bool
	// Memory is the job's GPU memory estimate in bytes ([JobMemory]).
	Memory uint64
	// Reason says why the job wants a GPU ("usesWebGL", "code creates a
	// WEBGL canvas", "gpuComplexity high", "requireGPU"); empty when it
	// does not.
	Reason string
}

// ClassifyJob reads what job asks of the GPU. It never fails: a job that
// could not be decoded (nil) asks for nothing, and the worker reports it
// as invalid later.
func ClassifyJob(j *empplay.Job) JobNeeds {
	if j == nil {
		return JobNeeds{}
	}
	n := JobNeeds{Require: j.RequireGPU, Memory: JobMemory(j.EstimatedGPUMemory, j.GPUComplexity)}
	var reasons []string
	switch {
	case j.UsesWebGL:
		n.WebGL = true
		reasons = append(reasons, "usesWebGL")
	case CodeUsesWebGL(j.Code) || CodeUsesWebGL(j.HTML) || CodeUsesWebGL(j.JavaScript):
		n.WebGL = true
		reasons = append(reasons, "code creates a WebGL context")
	}
	if c := strings.ToLower(j.GPUComplexity); c == "medium" || c == "high" {
		reasons = append(reasons, "gpuComplexity "+c)
	}
	if n.Require {
		reasons = append(reasons, "requireGPU")
	}
	n.Wants = len(reasons) > 0
	n.Reason = strings.Join(reasons, ", ")
	return n
}

// webglCode matches code that creates a WebGL context: p5's
// createCanvas(w, h, WEBGL) and createGraphics(w, h, WEBGL) (also
// p.WEBGL in instance mode, and one level of nested parentheses in the
// arguments, as in createCanvas(min(w, h), min(w, h), WEBGL)), a canvas's
// getContext("webgl"), ("webgl2") or ("experimental-webgl"), and three.js's
// WebGLRenderer.
var webglCode = regexp.MustCompile(
	`create(?:Canvas|Graphics)\s*\((?:[^()]|\([^()]*\))*\bWEBGL\b` +
		"|getContext\\s*\\(\\s*['\"`](?:webgl2?|experimental-webgl)['\"`]" +
		`|\bWebGL(?:1|2)?Renderer\b`)

// CodeUsesWebGL reports whether code (a sketch, a script or an HTML page)
// creates a WebGL context. It reads the text, not the program: a call in a
// comment counts, a context name built at run time does not.
func CodeUsesWebGL(code string) bool {
	// The regexp is linear, but a 2 MiB sketch without the word is the
	// common case and needs no regexp at all.
	if !strings.Contains(code, "WEBGL") && !strings.Contains(code, "webgl") && !strings.Contains(code, "WebGL") {
		return false
	}
	return webglCode.MatchString(code)
}
