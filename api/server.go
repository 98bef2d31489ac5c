package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/queue"
)

// Queue is what the handlers need of the job queue (a [queue.Client]).
type Queue interface {
	Submit(ctx context.Context, raw []byte) (string, error)
	Wait(ctx context.Context, id string) (*empplay.Result, error)
	Result(ctx context.Context, id string) (*empplay.Result, error)
	Progress(ctx context.Context, id string) (*queue.Progress, error)
	Output(ctx context.Context, id string) ([]byte, error)
	// Owns reports whether key is one of the queue's own keys, which a
	// job's replyTo may not name.
	Owns(key string) bool
}

// Config tunes a [Server]. Zero values take the defaults in brackets.
type Config struct {
	// Token, when set, is the bearer token every request must carry.
	Token string
	// MaxWaiting bounds the requests waiting for a result at once; more
	// are answered 429 [64].
	MaxWaiting int
	// WaitTimeout bounds every wait for a result [2m].
	WaitTimeout time.Duration
	// Size is the viewport of the platform's p5 calls, which send none
	// (the picture is the sketch's canvas) [1024].
	Size int
	// Origins are the origins (scheme://host[:port]) /api/v2/execute may
	// fetch its page from.
	Origins []string
}

func (c *Config) defaults() {
	if c.MaxWaiting <= 0 {
		c.MaxWaiting = 64
	}
	if c.WaitTimeout <= 0 {
		c.WaitTimeout = 2 * time.Minute
	}
	if c.Size <= 0 {
		c.Size = 1024
	}
}

// Server serves the API.
type Server struct {
	cfg     Config
	q       Queue
	ready   func() bool
	fetch   *pageFetcher
	waiting chan struct{}
	spec    []byte // GET /openapi.json
	logger  *slog.Logger
	// crossOrigin refuses the requests a browser sends on behalf of
	// another site: without a token, any page open in an operator's
	// browser could otherwise submit jobs to a loopback API.
	crossOrigin *http.CrossOriginProtection
	// stopping ends with [Server.Stop]: the waits end with it.
	stopping context.Context
	stop     context.CancelFunc
}

// New returns the API over q. ready reports whether a worker can take a
// job now; client fetches the pages of /api/v2/execute.
func New(cfg Config, q Queue, ready func() bool, client *http.Client, logger *slog.Logger) (*Server, error) {
	cfg.defaults()
	f, err := newPageFetcher(cfg.Origins, client)
	if err != nil {
		return nil, err
	}
	spec, err := buildOpenAPI()
	if err != nil {
		return nil, err
	}
	stopping, stop := context.WithCancel(context.Background())
	return &Server{
		cfg: cfg, q: q, ready: ready, fetch: f, waiting: make(chan struct{}, cfg.MaxWaiting), spec: spec, logger: logger,
		crossOrigin: http.NewCrossOriginProtection(), stopping: stopping, stop: stop,
	}, nil
}

// Stop answers the requests waiting for a result at once, and any later
// one without waiting: 503 shutting_down, or 202 with the id for POST
// /v1/jobs?wait; their jobs stay queued. Register it with the HTTP
// server's RegisterOnShutdown, so that its Shutdown need not wait for
// results that no stopping worker will render, nor reset those requests.
func (s *Server) Stop() {
	s.stop()
}

// Register adds the API's routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	for _, r := range s.routes() {
		mux.Handle(r.pattern, s.guard(r.handler))
	}
}

type route struct {
	pattern string
	handler http.HandlerFunc
}

// routes is every route of the API; openapi.json describes exactly these.
func (s *Server) routes() []route {
	return []route{
		{"POST /api/screenshot", s.screenshot},
		{"POST /api/video", s.video},
		{"POST /api/v2/execute", s.execute},
		{"POST /v1/jobs", s.submitJob},
		{"GET /v1/jobs/{id}", s.getJob},
		{"GET /v1/jobs/{id}/output", s.getOutput},
		{"GET /openapi.json", s.openAPI},
	}
}

// guard refuses cross-origin browser requests (403), checks the token
// and caps the body at the job size limit. Clients that are not browsers
// send neither Sec-Fetch-Site nor Origin and pass the origin check.
func (s *Server) guard(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.crossOrigin.Check(r); err != nil {
			writeError(w, http.StatusForbidden, "forbidden", "a browser request from another site is refused: "+err.Error())
			return
		}
		if s.cfg.Token != "" {
			got, ok := bearer(r.Header.Get("Authorization"))
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.Token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="empplay"`)
				writeError(w, http.StatusUnauthorized, "unauthorized", "a valid bearer token (API_TOKEN) is required")
				return
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, empplay.MaxJobBytes)
		h(w, r)
	})
}

// bearer returns the token of an Authorization header's Bearer
// credentials; the scheme's name is case-insensitive (RFC 9110 11.1).
func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimLeft(token, " ")
	return token, token != ""
}

// errBusy means MaxWaiting requests are waiting already.
var errBusy = errors.New("too many requests are waiting for results")

// errStopping means the server is shutting down ([Server.Stop]).
var errStopping = errors.New("the server is shutting down")

// run submits raw and waits for its result within wait, holding one of
// the MaxWaiting places. A wait that [Server.Stop] cuts short returns
// [queue.ErrNoResult] and errStopping.
func (s *Server) run(ctx context.Context, raw []byte, wait time.Duration) (string, *empplay.Result, error) {
	if s.stopping.Err() != nil {
		return "", nil, errStopping
	}
	select {
	case s.waiting <- struct{}{}:
		defer func() { <-s.waiting }()
	default:
		return "", nil, errBusy
	}
	id, err := s.q.Submit(ctx, raw)
	if err != nil {
		return "", nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, min(wait, s.cfg.WaitTimeout))
	defer cancel()
	defer context.AfterFunc(s.stopping, cancel)()
	res, err := s.q.Wait(wctx, id)
	if err != nil && s.stopping.Err() != nil {
		err = fmt.Errorf("%w: %w", errStopping, err)
	}
	return id, res, err
}

// errorBody is the JSON body of every error answer.
type errorBody struct {
	ErrorCode string `json:"errorCode"`
	Message   string `json:"message"`
	ID        string `json:"id,omitempty"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, errorBody{ErrorCode: code, Message: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// failure answers a request whose job could not run or failed.
func (s *Server) failure(w http.ResponseWriter, r *http.Request, id string, err error) {
	var je *empplay.Error
	switch {
	case errors.Is(err, errBusy):
		writeError(w, http.StatusTooManyRequests, "too_many_requests", err.Error())
	case errors.Is(err, errStopping):
		writeJSON(w, http.StatusServiceUnavailable, errorBody{ErrorCode: "shutting_down", Message: "the server is shutting down; send the request again (a queued job stays queued)", ID: id})
	case errors.Is(err, errNotReady):
		writeError(w, http.StatusServiceUnavailable, "no_worker", err.Error())
	case errors.Is(err, queue.ErrNoResult):
		writeJSON(w, http.StatusGatewayTimeout, errorBody{ErrorCode: "timeout", Message: "no result within the wait; the job stays queued", ID: id})
	case errors.As(err, &je):
		if je.Err != nil && je.Msg != "" && StatusOf(je.Code) >= 500 {
			// The message is for the client; what failed underneath is
			// for the log only.
			s.logger.WarnContext(r.Context(), "API request failed", "path", r.URL.Path, "job_id", id, "code", je.Code, "err", je.Err)
		}
		writeJSON(w, statusOfError(je), errorBody{ErrorCode: string(je.Code), Message: je.Error(), ID: id})
	default:
		// What is left is the queue's: its error names Redis's address
		// and the queue's keys, which are for the log, not the client.
		s.logger.ErrorContext(r.Context(), "API request failed", "path", r.URL.Path, "job_id", id, "err", err)
		writeJSON(w, http.StatusServiceUnavailable, errorBody{ErrorCode: "queue_unavailable", Message: "the job queue could not be reached or did not answer; try again later", ID: id})
	}
}

// StatusOf is the HTTP status of a job that failed with code, by the
// groups of errors.go: 400 for bad input, 422 for a sketch that failed
// (its assets, its memory and the size of its output included), 504 for one that ran out of time,
// 502 for the infrastructure and the queue giving up. Every code has its
// place here (a test holds it to errors.go); one this build does not know
// (a newer worker's) is 502.
func StatusOf(code empplay.Code) int {
	switch code {
	case empplay.CodeInvalidJSON, empplay.CodeUnknownType, empplay.CodeMissingField, empplay.CodeInvalidField,
		empplay.CodeSizeOutOfRange, empplay.CodeCodeTooLarge, empplay.CodeInvalidBucket, empplay.CodeInvalidPath,
		empplay.CodeUnsupported:
		return http.StatusBadRequest
	case empplay.CodeSketchError, empplay.CodeNoCanvas, empplay.CodeBlankCanvas, empplay.CodeMissingAddon,
		empplay.CodeNoWebGL, empplay.CodeNetworkBlocked, empplay.CodeAssetUnavailable, empplay.CodeMemoryLimit, empplay.CodeOutputTooLarge:
		return http.StatusUnprocessableEntity
	case empplay.CodeRenderTimeout:
		return http.StatusGatewayTimeout
	case empplay.CodeBrowserError, empplay.CodeStorageError, empplay.CodeCDNError, empplay.CodeEncoderError,
		empplay.CodeInternal, empplay.CodeGPUUnavailable, empplay.CodeMaxAttempts:
		return http.StatusBadGateway
	}
	return http.StatusBadGateway
}

// resultError turns a failed result into an error for [Server.failure].
func resultError(res *empplay.Result) error {
	return &empplay.Error{Code: res.ErrorCode, Msg: res.Error, Retryable: res.Retryable}
}

// statusOfError is [StatusOf] for one failure: a declared asset that its
// origin failed to serve (a 5xx, no answer in time) is retryable, so it is
// the infrastructure's 502 rather than the sketch's 422, which a client
// would not send again.
func statusOfError(e *empplay.Error) int {
	if e.Code == empplay.CodeAssetUnavailable && e.Retryable {
		return http.StatusBadGateway
	}
	return StatusOf(e.Code)
}

// errNotReady means no worker is ready to take a job.
var errNotReady = errors.New("no worker is ready")

// checkReady refuses work when no worker could take it.
func (s *Server) checkReady() error {
	if s.ready != nil && !s.ready() {
		return errNotReady
	}
	return nil
}
