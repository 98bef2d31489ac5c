package api

// This file serves the platform's rendering calls with their exact shapes.

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/queue"
)

// inlineBucket, the bucket of the jobs the compatible calls make: Parse
// wants one, an inline job never uses it.
const inlineBucket = "inline"

// dataBody is the answer of every compatible call.
type dataBody struct {
	Data string `json:"data"`
}

// screenshot is POST /api/screenshot {code} -> {data: base64 PNG}.
func (s *Server) screenshot(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Code string `json:"code"`
	}
	if !decode(w, r, &req) {
		return
	}
	s.compat(w, r, &empplay.Job{
		Type: empplay.TypeP5, Code: req.Code, Width: s.cfg.Size, Height: s.cfg.Size, Filename: "screenshot.png",
	})
}

// video is POST /api/video {id, code, duration} -> {data: base64 MP4};
// duration is in milliseconds, id is the token hash.
func (s *Server) video(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ID       string  `json:"id"`
		Code     string  `json:"code"`
		Duration float64 `json:"duration"`
	}
	if !decode(w, r, &req) {
		return
	}
	job := &empplay.Job{
		Type: empplay.TypeVideo, Code: req.Code, Duration: req.Duration / 1000,
		Width: s.cfg.Size, Height: s.cfg.Size, Filename: "video.mp4",
	}
	if req.ID != "" {
		job.Context = &empplay.SketchContext{Hash: req.ID}
	}
	s.compat(w, r, job)
}

// execute is POST /api/v2/execute {file, width?, height?, output} ->
// {data: base64}: file is the URL of an HTML page on an allowed origin.
func (s *Server) execute(w http.ResponseWriter, r *http.Request) {
	var req struct {
		File   string `json:"file"`
		Width  int    `json:"width"`
		Height int    `json:"height"`
		Output string `json:"output"`
	}
	if !decode(w, r, &req) {
		return
	}
	switch req.Output {
	case "", "image/png":
	case "image/gif":
		writeError(w, http.StatusBadRequest, string(empplay.CodeUnsupported), `output "image/gif" is not supported; use "image/png"`)
		return
	default:
		writeError(w, http.StatusBadRequest, string(empplay.CodeInvalidField), fmt.Sprintf(`field "output" must be "image/png", got %q`, req.Output))
		return
	}
	if req.File == "" {
		writeError(w, http.StatusBadRequest, string(empplay.CodeMissingField), `field "file" is required`)
		return
	}
	// No fetch on a host that could not render the page.
	if err := s.checkReady(); err != nil {
		s.failure(w, r, "", err)
		return
	}
	page, err := s.fetch.Fetch(r.Context(), req.File)
	if err != nil {
		s.failure(w, r, "", err)
		return
	}
	job := &empplay.Job{
		Type: empplay.TypeJS, HTML: string(page), OutputType: empplay.OutputPNG,
		Width: req.Width, Height: req.Height, Filename: "page.png",
	}
	if job.Width == 0 {
		job.Width = s.cfg.Size
	}
	if job.Height == 0 {
		job.Height = s.cfg.Size
	}
	s.compat(w, r, job)
}

// compat runs job inline under a fresh id and answers {data}.
func (s *Server) compat(w http.ResponseWriter, r *http.Request, job *empplay.Job) {
	job.ID, job.Bucket, job.Prefix, job.Inline = newID(), inlineBucket, "api", true
	raw, err := json.Marshal(job)
	if err != nil {
		s.failure(w, r, "", fmt.Errorf("encode job: %w", err))
		return
	}
	if _, err := empplay.Parse(raw); err != nil {
		s.failure(w, r, "", err)
		return
	}
	if err := s.checkReady(); err != nil {
		s.failure(w, r, "", err)
		return
	}
	id, res, err := s.run(r.Context(), raw, s.cfg.WaitTimeout)
	if err == nil && !res.Success {
		err = resultError(res)
	}
	if err != nil {
		s.failure(w, r, id, err)
		return
	}
	body, err := s.q.Output(r.Context(), id)
	if errors.Is(err, queue.ErrNoResult) {
		// The job succeeded, but its output is gone (expired or evicted
		// from Redis): waiting longer would not bring it back.
		s.logger.WarnContext(r.Context(), "the output of a finished inline job is gone", "path", r.URL.Path, "job_id", id)
		writeJSON(w, http.StatusBadGateway, errorBody{ErrorCode: "output_expired", ID: id,
			Message: "the job finished, but its output is no longer stored; send the request again"})
		return
	}
	if err != nil {
		s.failure(w, r, id, fmt.Errorf("read the output of job %s: %w", id, err))
		return
	}
	writeJSON(w, http.StatusOK, dataBody{Data: base64.StdEncoding.EncodeToString(body)})
}

// decode reads the JSON request body into v, answering 400 (or 413, 408)
// when it is not one.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	err := json.NewDecoder(r.Body).Decode(v)
	if err == nil {
		return true
	}
	bodyError(w, err, "the request body is not the expected JSON: "+err.Error())
	return false
}

// bodyError answers a request whose body could not be read or decoded:
// 413 over the size limit, 408 when it did not all arrive within the HTTP
// server's ReadTimeout, else 400 invalid_json with msg.
func bodyError(w http.ResponseWriter, err error, msg string) {
	var mb *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &mb):
		writeError(w, http.StatusRequestEntityTooLarge, string(empplay.CodeCodeTooLarge), fmt.Sprintf("the request body is over %d bytes", mb.Limit))
	case errors.As(err, &ne) && ne.Timeout():
		writeError(w, http.StatusRequestTimeout, "request_timeout", "the request body did not arrive in time")
	default:
		writeError(w, http.StatusBadRequest, string(empplay.CodeInvalidJSON), msg)
	}
}

// newID is a fresh job id: every compatible call renders, even when its
// body repeats an earlier one (the output is kept only briefly).
func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "api-" + hex.EncodeToString(b)
}
