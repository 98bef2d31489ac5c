package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/empplay/empplay"
)

// failingQueue is fakeQueue with the errors a real queue may return
// instead of its answers.
type failingQueue struct {
	fakeQueue
	submit, wait, result error
}

func (q failingQueue) Submit(ctx context.Context, raw []byte) (string, error) {
	if q.submit != nil {
		return "", q.submit
	}
	return q.fakeQueue.Submit(ctx, raw)
}

func (q failingQueue) Wait(ctx context.Context, id string) (*empplay.Result, error) {
	if q.wait != nil {
		return nil, q.wait
	}
	return q.fakeQueue.Wait(ctx, id)
}

func (q failingQueue) Result(ctx context.Context, id string) (*empplay.Result, error) {
	if q.result != nil {
		return nil, q.result
	}
	return q.fakeQueue.Result(ctx, id)
}

// When the queue cannot be reached, the client is told so (503, to try
// again) without the cause, which names Redis's address and the queue's
// keys; the cause goes to the log.
func TestQueueFailureHidesCause(t *testing.T) {
	dial := errors.New("dial tcp 10.0.0.5:6379: connect: connection refused")
	keyed := fmt.Errorf("BLPOP {playwright-jobs}:done:x: %w", dial)
	job := []byte(`{"type":"p5","code":"function setup(){}","width":64,"height":64,"bucket":"renders","filename":"x.png"}`)
	for _, tc := range []struct {
		name         string
		q            failingQueue
		method, path string
		body         []byte
	}{
		{"submit", failingQueue{submit: dial}, "POST", "/v1/jobs", job},
		{"submit and wait", failingQueue{submit: dial}, "POST", "/v1/jobs?wait=5s", job},
		{"wait", failingQueue{wait: keyed}, "POST", "/v1/jobs?wait=5s", job},
		{"screenshot", failingQueue{wait: keyed}, "POST", "/api/screenshot", []byte(`{"code":"function setup(){}"}`)},
		{"result", failingQueue{result: keyed}, "GET", "/v1/jobs/x", nil},
		{"output", failingQueue{result: keyed}, "GET", "/v1/jobs/x/output", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log bytes.Buffer
			s, err := New(Config{}, tc.q, nil, http.DefaultClient, slog.New(slog.NewTextHandler(&log, nil)))
			if err != nil {
				t.Fatal(err)
			}
			rec := serve(t, s, tc.method, tc.path, tc.body)
			var e errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || rec.Code != http.StatusServiceUnavailable ||
				e.ErrorCode != "queue_unavailable" || !strings.Contains(e.Message, "queue") {
				t.Errorf("%s %s: %d %s; want 503 queue_unavailable saying the queue failed", tc.method, tc.path, rec.Code, rec.Body)
			}
			for _, secret := range []string{"10.0.0.5", "6379", "playwright-jobs", "dial tcp"} {
				if strings.Contains(rec.Body.String(), secret) {
					t.Errorf("the answer %s gives away %q", rec.Body, secret)
				}
			}
			if !strings.Contains(log.String(), "10.0.0.5:6379") {
				t.Errorf("the log does not have the cause: %s", log.String())
			}
		})
	}
}

// A job that succeeded but whose inline output is gone is answered 502,
// saying so, not 504 as if the job were still queued.
func TestCompatOutputGone(t *testing.T) {
	// fakeQueue's jobs succeed and have no output.
	s, err := New(Config{}, fakeQueue{}, nil, http.DefaultClient, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, body string }{
		{"/api/screenshot", `{"code":"function setup(){}"}`},
		{"/api/video", `{"code":"function setup(){}","duration":1000}`},
	} {
		rec := serve(t, s, "POST", tc.path, []byte(tc.body))
		var e errorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || rec.Code != http.StatusBadGateway ||
			e.ErrorCode != "output_expired" || !strings.Contains(e.Message, "finished") ||
			!strings.Contains(e.Message, "no longer stored") || e.ID == "" {
			t.Errorf("POST %s: %d %s; want 502 output_expired with the id, saying the job finished and its output is no longer stored", tc.path, rec.Code, rec.Body)
		}
	}
}
