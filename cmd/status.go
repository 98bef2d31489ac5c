package cmd

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/queue"
	"github.com/empplay/empplay/supervisor"
	"github.com/empplay/empplay/worker"
)

// statusHTML is the status page: one file, its CSS and JS inline, so it
// works on a host with no way out. NONCE is replaced per response.
//
//go:embed status.html
var statusHTML string

// recentJobs is how many finished jobs the status page lists.
const recentJobs = 50

// deadShown is how many dead letters the status page lists.
const deadShown = 50

// statusPage serves the supervisor's status page at / and its data at
// /status.json, and requeues dead letters for an operator holding the
// admin token. It learns finished jobs from the workers' reports.
type statusPage struct {
	sup    *supervisor.Supervisor
	admin  *queue.Admin
	redis  *redisCheck
	token  string // ADMIN_TOKEN; empty: read-only
	logger *slog.Logger
	now    func() time.Time

	mu       sync.Mutex
	finished []finishedJob  // newest last, at most recentJobs
	jobSeen  map[int]jobAge // slot -> the job in hand and when it was first reported
	stats    *queue.Stats   // cached for statsFor
	statsAt  time.Time
}

type jobAge struct {
	id    string
	since time.Time
}

// finishedJob is one entry of the status page's list of finished jobs.
type finishedJob struct {
	At        int64              `json:"at"` // unix ms, when the report came
	Slot      int                `json:"slot"`
	ID        string             `json:"id"`
	Type      string             `json:"type"`
	Outcome   string             `json:"outcome"`
	ErrorCode string             `json:"errorCode,omitempty"`
	Seconds   float64            `json:"seconds"`
	Stages    map[string]float64 `json:"stages,omitempty"`
	Src       string             `json:"src,omitempty"`
}

// workerStatus is one slot on the status page.
type workerStatus struct {
	Slot     int    `json:"slot"`
	PID      int    `json:"pid"`
	WorkerID string `json:"workerId"`
	State    string `json:"state"`
	Ready    bool   `json:"ready"`
	Job      string `json:"job,omitempty"`
	JobMs    int64  `json:"jobMs,omitempty"` // how long the job in hand has run, as reported
	UptimeMs int64  `json:"uptimeMs"`
	Restarts int    `json:"restarts"`
	LastExit string `json:"lastExit,omitempty"`
	Degraded bool   `json:"degraded"`
	// Sandbox is whether the worker's Chromium runs its sandbox, as the
	// worker reports it (see sandboxOf).
	Sandbox      string `json:"sandbox"`
	Backend      string `json:"backend,omitempty"`
	Renderer     string `json:"renderer,omitempty"`
	RendererKind string `json:"rendererKind"` // gpu, software, or unknown before the first report
	GPUDegraded  string `json:"gpuDegraded,omitempty"`
	MemoryBytes  int64  `json:"memoryBytes"`
}

// queueStatus is the queue on the status page.
type queueStatus struct {
	Pending            int64  `json:"pending"`
	InFlight           int64  `json:"inFlight"`
	Retrying           int64  `json:"retrying"`
	Dead               int64  `json:"dead"`
	GPULane            int64  `json:"gpuLane"`
	OldestPendingAgeMs int64  `json:"oldestPendingAgeMs"`
	Error              string `json:"error,omitempty"`
}

// deadLetter is one dead letter on the status page: never its payload.
type deadLetter struct {
	ID       string `json:"id"`
	Attempts int    `json:"attempts"`
	Error    string `json:"error"`
	At       int64  `json:"at"`
}

type statusBody struct {
	Now      int64          `json:"now"`
	Admin    bool           `json:"admin"` // requeue is possible (ADMIN_TOKEN is set)
	Redis    bool           `json:"redis"`
	Workers  []workerStatus `json:"workers"`
	Queue    queueStatus    `json:"queue"`
	Finished []finishedJob  `json:"finished"`
	Dead     []deadLetter   `json:"dead"`
}

func newStatusPage(sup *supervisor.Supervisor, admin *queue.Admin, redis *redisCheck, token string, logger *slog.Logger) *statusPage {
	return &statusPage{sup: sup, admin: admin, redis: redis, token: token, logger: logger, now: time.Now, jobSeen: map[int]jobAge{}}
}

// sandboxOf is what a worker's report says of its Chromium sandbox
// ("on (user namespaces)", "off (CHROMIUM_SANDBOX=off)"), "unknown" before
// its browser started or from a worker that does not report it.
func sandboxOf(r empplay.Report) string {
	if r.Sandbox == "" {
		return "unknown"
	}
	return r.Sandbox
}

// observe folds one worker report into the page: when the slot's job in
// hand was first reported, and the job that finished, if any.
func (p *statusPage) observe(slot int, r empplay.Report) {
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case r.Job == "":
		delete(p.jobSeen, slot)
	case p.jobSeen[slot].id != r.Job:
		p.jobSeen[slot] = jobAge{id: r.Job, since: now}
	}
	if d := r.Done; d != nil {
		p.finished = append(p.finished, finishedJob{
			At: now.UnixMilli(), Slot: slot, ID: d.ID, Type: d.Type, Outcome: d.Outcome, ErrorCode: string(d.ErrorCode),
			Seconds: d.Seconds, Stages: d.Stages, Src: worker.Redact(d.Src),
		})
		if n := len(p.finished); n > recentJobs {
			p.finished = append(p.finished[:0:0], p.finished[n-recentJobs:]...)
		}
	}
}

// register adds the page's routes to mux.
func (p *statusPage) register(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", p.page)
	mux.HandleFunc("GET /status.json", p.json)
	mux.HandleFunc("POST /status/requeue", p.requeue)
}

func (p *statusPage) page(w http.ResponseWriter, _ *http.Request) {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	nonce := base64.StdEncoding.EncodeToString(b)
	h := w.Header()
	// Nothing but the page's own inline code and same-origin requests; no
	// framing, so the requeue button cannot be clickjacked.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; style-src 'nonce-"+nonce+"'; "+
		"connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(strings.ReplaceAll(statusHTML, "NONCE", nonce)))
}

func (p *statusPage) json(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	now := p.now()
	body := statusBody{Now: now.UnixMilli(), Admin: p.token != "", Redis: p.redis.Healthy(ctx), Finished: []finishedJob{}, Dead: []deadLetter{}}
	p.mu.Lock()
	for _, st := range p.sup.Status() {
		rep := st.LastReport
		ws := workerStatus{
			Slot: st.Slot.Index, PID: st.PID, WorkerID: st.Slot.WorkerID, State: st.State, Ready: st.Ready,
			Restarts: st.Restarts, LastExit: st.LastExit, Degraded: st.Degraded, Sandbox: sandboxOf(rep),
			Backend: rep.Backend, Renderer: rep.Renderer, RendererKind: "unknown", GPUDegraded: rep.GPUDegraded, MemoryBytes: rep.RSS,
		}
		if !st.Started.IsZero() {
			ws.UptimeMs = now.Sub(st.Started).Milliseconds()
		}
		if rep.Renderer != "" {
			ws.RendererKind = rendererKind(rep.Renderer)
		}
		if st.PID != 0 && rep.Job != "" {
			ws.Job = rep.Job
			if seen := p.jobSeen[st.Slot.Index]; seen.id == rep.Job {
				ws.JobMs = now.Sub(seen.since).Milliseconds()
			}
		}
		body.Workers = append(body.Workers, ws)
	}
	for i := len(p.finished) - 1; i >= 0; i-- {
		body.Finished = append(body.Finished, p.finished[i])
	}
	p.mu.Unlock()

	if st, err := p.statsFor(ctx, now); err != nil {
		body.Queue.Error = worker.Redact(err.Error())
	} else {
		body.Queue = queueStatus{Pending: st.Pending, Retrying: st.Retrying, Dead: st.Dead, GPULane: st.GPULane, OldestPendingAgeMs: st.OldestPendingAgeMs}
		for _, wk := range st.Workers {
			body.Queue.InFlight += wk.InFlight
		}
	}
	if dead, err := p.admin.Dead(ctx, deadShown); err == nil {
		for _, d := range dead {
			body.Dead = append(body.Dead, deadLetter{ID: d.ID, Attempts: d.Attempts, Error: worker.Redact(d.Error), At: d.At})
		}
	} else if body.Queue.Error == "" {
		body.Queue.Error = worker.Redact(err.Error())
	}
	w.Header().Set("Cache-Control", "no-store")
	writeStatusJSON(w, http.StatusOK, body)
}

// statsFor returns the queue's stats, read at most once a second however
// many pages poll.
func (p *statusPage) statsFor(ctx context.Context, now time.Time) (*queue.Stats, error) {
	p.mu.Lock()
	if p.stats != nil && now.Sub(p.statsAt) < time.Second {
		st := p.stats
		p.mu.Unlock()
		return st, nil
	}
	p.mu.Unlock()
	st, err := p.admin.Stats(ctx)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.stats, p.statsAt = st, now
	p.mu.Unlock()
	return st, nil
}

// crossOrigin refuses requests a browser sends on behalf of another site
// (Sec-Fetch-Site, else Origin against Host).
var crossOrigin = http.NewCrossOriginProtection()

// errForbidden is every refusal of requeue: the reason goes to the log,
// not to whoever asked.
var errForbidden = errors.New("forbidden")

// authorize lets through a same-origin request carrying the admin token
// in the X-Admin-Token header. A header, never a cookie or a form field:
// a browser attaches neither header nor token to a request another site
// makes it send.
func (p *statusPage) authorize(r *http.Request) error {
	if p.token == "" {
		return errors.New("no admin token is configured (ADMIN_TOKEN): the status page is read-only")
	}
	if err := crossOrigin.Check(r); err != nil {
		return err
	}
	got := r.Header.Get("X-Admin-Token")
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(p.token)) != 1 {
		return errors.New("no or wrong X-Admin-Token")
	}
	return nil
}

// requeue puts one dead letter back on the queue: POST {"id": "..."}.
func (p *statusPage) requeue(w http.ResponseWriter, r *http.Request) {
	if err := p.authorize(r); err != nil {
		p.logger.WarnContext(r.Context(), "refused a requeue request", "remote", r.RemoteAddr, "err", err)
		writeStatusJSON(w, http.StatusForbidden, map[string]string{"error": errForbidden.Error()})
		return
	}
	var req struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil || req.ID == "" {
		writeStatusJSON(w, http.StatusBadRequest, map[string]string{"error": `want {"id": "<job id>"}`})
		return
	}
	n, err := p.admin.RequeueDead(r.Context(), req.ID)
	if err != nil {
		writeStatusJSON(w, http.StatusNotFound, map[string]string{"error": worker.Redact(err.Error())})
		return
	}
	p.logger.InfoContext(r.Context(), "requeued a dead letter from the status page", "job_id", req.ID, "remote", r.RemoteAddr)
	writeStatusJSON(w, http.StatusOK, map[string]int{"requeued": n})
}

func writeStatusJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
