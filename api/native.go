package api

// This file serves the native job API: the queue's wire format over HTTP.

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/queue"
)

// accepted is the answer to a job that is queued or still running.
type accepted struct {
	ID       string          `json:"id"`
	Status   string          `json:"status"` // "pending"
	Progress *queue.Progress `json:"progress,omitempty"`
}

// submitJob is POST /v1/jobs: the body is a job exactly as producers push
// it. With ?wait=DURATION it answers the result when it comes within that
// (bounded by the server's wait limit), else 202 with the id.
func (s *Server) submitJob(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		bodyError(w, err, "the request body could not be read")
		return
	}
	j, err := empplay.Parse(raw)
	if err != nil {
		s.failure(w, r, "", err)
		return
	}
	if j.ReplyTo != "" && s.q.Owns(j.ReplyTo) {
		s.failure(w, r, "", empplay.Errorf(empplay.CodeInvalidField, "field \"replyTo\" names one of the queue's own keys (%q); name a list of your own", j.ReplyTo))
		return
	}
	var wait time.Duration
	if v := r.URL.Query().Get("wait"); v != "" {
		if wait, err = time.ParseDuration(v); err != nil || wait < 0 {
			writeError(w, http.StatusBadRequest, string(empplay.CodeInvalidField), fmt.Sprintf("query parameter \"wait\" must be a duration such as 30s, got %q", v))
			return
		}
	}
	if wait == 0 {
		id, err := s.q.Submit(r.Context(), raw)
		if err != nil {
			s.failure(w, r, "", err)
			return
		}
		w.Header().Set("Location", "/v1/jobs/"+id)
		writeJSON(w, http.StatusAccepted, accepted{ID: id, Status: "pending"})
		return
	}
	id, res, err := s.run(r.Context(), raw, wait)
	switch {
	case errors.Is(err, queue.ErrNoResult):
		w.Header().Set("Location", "/v1/jobs/"+id)
		writeJSON(w, http.StatusAccepted, accepted{ID: id, Status: "pending"})
	case err != nil:
		s.failure(w, r, id, err)
	default:
		writeJSON(w, http.StatusOK, res)
	}
}

// getJob is GET /v1/jobs/{id}: the result (200), or 202 with the progress
// while there is none yet.
func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	res, err := s.q.Result(r.Context(), id)
	if err == nil {
		writeJSON(w, http.StatusOK, res)
		return
	}
	if !errors.Is(err, queue.ErrNoResult) {
		s.failure(w, r, id, err)
		return
	}
	p, err := s.q.Progress(r.Context(), id)
	if err != nil {
		s.failure(w, r, id, err)
		return
	}
	writeJSON(w, http.StatusAccepted, accepted{ID: id, Status: "pending", Progress: p})
}

// getOutput is GET /v1/jobs/{id}/output: the bytes of an inline job's
// output while they are kept (404 otherwise).
func (s *Server) getOutput(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	res, err := s.q.Result(r.Context(), id)
	if errors.Is(err, queue.ErrNoResult) {
		writeError(w, http.StatusNotFound, "not_found", "job "+id+" has no result (yet)")
		return
	}
	if err != nil {
		s.failure(w, r, id, err)
		return
	}
	if !res.Inline {
		writeError(w, http.StatusNotFound, "not_found", "job "+id+" has no inline output; its output is at src")
		return
	}
	body, err := s.q.Output(r.Context(), id)
	if errors.Is(err, queue.ErrNoResult) {
		writeError(w, http.StatusNotFound, "not_found", "the output of job "+id+" has expired")
		return
	}
	if err != nil {
		s.failure(w, r, id, err)
		return
	}
	w.Header().Set("Content-Type", res.MimeType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}
