package empplay

// Worker states, the State of a [Report].
const (
	StateStarting = "starting" // the worker has not fetched yet
	StateIdle     = "idle"     // waiting for a job
	StateBusy     = "busy"     // processing a job
	StateStopping = "stopping" // the last report: the worker is shutting down
)

// Report is one health line a worker child writes to its supervisor (JSON,
// one object per line, on the file descriptor named by the supervisor).
// Workers send one when their state changes and at least every second.
type Report struct {
	// State is [StateStarting], [StateIdle], [StateBusy] or [StateStopping].
	State string `json:"state"`
	// Worker is the worker id the child fetches under.
	Worker string `json:"worker,omitempty"`
	// Job is the id of the job being processed, when busy.
	Job string `json:"job,omitempty"`
	// JobDeadline is when the job in hand must be done (unix ms), when busy.
	JobDeadline int64 `json:"jobDeadline,omitempty"`
	// LastFetch is when a fetch from Redis last returned (unix ms); a
	// consumer loop that stops fetching is wedged.
	LastFetch int64 `json:"lastFetch,omitempty"`
	// BrowserPID is the Chromium process, 0 when none runs.
	BrowserPID int `json:"browserPid,omitempty"`
	// Sandbox is whether Chromium's renderers run in its sandbox, and why:
	// "on (user namespaces)", "off (running as root)".
	Sandbox string `json:"sandbox,omitempty"`
	// Renderer is the WebGL renderer string of the browser, when known.
	Renderer string `json:"renderer,omitempty"`
	// Backend is how the browser renders: "cpu", "nvidia" or "mesa".
	Backend string `json:"backend,omitempty"`
	// Lane is the queue lane the worker takes jobs from: "gpu" or "cpu".
	Lane string `json:"lane,omitempty"`
	// GPUDegraded, when set, says why a worker meant to render on the GPU
	// renders in software (and left the GPU lane).
	GPUDegraded string `json:"gpuDegraded,omitempty"`
	// GPUMemory is the GPU memory the browser holds in bytes (NVML), and
	// GPUMemoryLimit its share, above which the browser is recycled.
	GPUMemory      int64 `json:"gpuMemory,omitempty"`
	GPUMemoryLimit int64 `json:"gpuMemoryLimit,omitempty"`
	// RSS is the memory of the worker and its browser in bytes: their summed
	// proportional set size (resident size where PSS is unreadable).
	RSS int64 `json:"rss,omitempty"`
	// Done, when set, reports a job that just finished.
	Done *JobEvent `json:"done,omitempty"`
	// BrowserRestart, when set, says why the browser was restarted.
	BrowserRestart string `json:"browserRestart,omitempty"`
}

// JobEvent summarises a finished job for metrics and the supervisor's
// status page.
type JobEvent struct {
	// ID is the job's id.
	ID string `json:"id,omitempty"`
	// Src is the URL of the job's output, with any secret in it (a SAS
	// signature) redacted; empty when there is none.
	Src       string  `json:"src,omitempty"`
	Type      string  `json:"type"`
	Outcome   string  `json:"outcome"` // success, failed, retry, requeued, dropped, unstored
	ErrorCode Code    `json:"errorCode,omitempty"`
	Seconds   float64 `json:"seconds"`
	// Renderer is the WebGL renderer string that drew the job; empty for
	// a job without WebGL.
	Renderer string `json:"renderer,omitempty"`
	// AssetHits and AssetMisses count the job's files that came from the
	// worker's asset cache and from the network.
	AssetHits   int `json:"assetHits,omitempty"`
	AssetMisses int `json:"assetMisses,omitempty"`
	// Stages are the seconds each measured [Stage] of the job took.
	Stages map[string]float64 `json:"stages,omitempty"`
}
