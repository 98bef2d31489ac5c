package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/queue"
)

// blockingQueue is fakeQueue whose Wait has no result until its context
// ends, or until delay has passed when that is set.
type blockingQueue struct {
	fakeQueue
	delay   time.Duration
	waiting chan string // each id whose wait starts
	submits *atomic.Int32
}

func (q blockingQueue) Submit(ctx context.Context, raw []byte) (string, error) {
	if q.submits != nil {
		q.submits.Add(1)
	}
	return q.fakeQueue.Submit(ctx, raw)
}

func (q blockingQueue) Wait(ctx context.Context, id string) (*empplay.Result, error) {
	if q.waiting != nil {
		q.waiting <- id
	}
	var after <-chan time.Time
	if q.delay > 0 {
		after = time.After(q.delay)
	}
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for job %s: %w", id, queue.ErrNoResult)
	case <-after:
		return q.fakeQueue.Wait(ctx, id)
	}
}

// Stop answers the requests waiting for a result at once (the jobs stay
// queued), so that the HTTP server's Shutdown does not reset them, and
// later ones without submitting anything.
func TestStopAnswersWaiting(t *testing.T) {
	newServer := func() (*Server, blockingQueue) {
		q := blockingQueue{waiting: make(chan string, 1), submits: new(atomic.Int32)}
		s, err := New(Config{WaitTimeout: time.Minute}, q, nil, http.DefaultClient, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return s, q
	}
	job := `{"type":"p5","code":"function setup(){}","width":64,"height":64,"bucket":"renders","filename":"x.png"}`
	type answer struct {
		status int
		body   errorBody
		raw    string
	}
	for _, tc := range []struct {
		path, body string
		status     int
		code       string
	}{
		{"/api/screenshot", `{"code":"function setup(){}"}`, http.StatusServiceUnavailable, "shutting_down"},
		{"/v1/jobs?wait=60s", job, http.StatusAccepted, ""},
	} {
		s, q := newServer()
		done := make(chan answer, 1)
		go func() {
			rec := serve(t, s, "POST", tc.path, []byte(tc.body))
			var a answer
			a.status, a.raw = rec.Code, rec.Body.String()
			_ = json.Unmarshal(rec.Body.Bytes(), &a.body)
			done <- a
		}()
		id := <-q.waiting
		select {
		case a := <-done:
			t.Fatalf("POST %s answered before Stop: %d %s", tc.path, a.status, a.raw)
		case <-time.After(50 * time.Millisecond):
		}
		s.Stop()
		select {
		case a := <-done:
			if a.status != tc.status || a.body.ErrorCode != tc.code || (a.body.ID != id && !strings.Contains(a.raw, id)) {
				t.Errorf("POST %s on Stop: %d %s; want %d %s with id %s", tc.path, a.status, a.raw, tc.status, tc.code, id)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("POST %s still waits 5 s after Stop", tc.path)
		}
	}
	s, q := newServer()
	s.Stop()
	for _, path := range []string{"/api/screenshot", "/v1/jobs?wait=60s"} {
		body := job
		if path == "/api/screenshot" {
			body = `{"code":"function setup(){}"}`
		}
		rec := serve(t, s, "POST", path, []byte(body))
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "shutting_down") {
			t.Errorf("POST %s after Stop: %d %s; want 503 shutting_down", path, rec.Code, rec.Body)
		}
	}
	if n := q.submits.Load(); n != 0 {
		t.Errorf("%d jobs submitted after Stop; want none", n)
	}
}

// Under an HTTP server with a ReadTimeout, a body that does not all
// arrive in time is answered 408, while a wait for the result may last
// longer than the ReadTimeout.
func TestBodyReadTimeout(t *testing.T) {
	s, err := New(Config{}, blockingQueue{delay: 600 * time.Millisecond}, nil, http.DefaultClient, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	s.Register(mux)
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ReadTimeout = 200 * time.Millisecond
	srv.Start()
	defer srv.Close()

	for _, path := range []string{"/v1/jobs", "/api/screenshot"} {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"code\":", path, srv.Listener.Addr())
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("POST %s with a stalled body: %v; want an answer", path, err)
		}
		var e errorBody
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || resp.StatusCode != http.StatusRequestTimeout || e.ErrorCode != "request_timeout" {
			t.Errorf("POST %s with a stalled body: %d %+v (%v); want 408 request_timeout", path, resp.StatusCode, e, err)
		}
		conn.Close()
	}

	job := `{"type":"p5","code":"function setup(){}","width":64,"height":64,"bucket":"renders","filename":"x.png"}`
	resp, err := http.Post(srv.URL+"/v1/jobs?wait=5s", "application/json", strings.NewReader(job))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("a wait of 600 ms under a ReadTimeout of 200 ms: %d; want 200 with the result", resp.StatusCode)
	}
}
