package cmd

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/api"
	"github.com/empplay/empplay/queue"
)

// pendingQueue is an api.Queue whose jobs never finish: a wait lasts
// until its context ends.
type pendingQueue struct{ waiting chan string }

func (pendingQueue) Submit(context.Context, []byte) (string, error) { return "job-1", nil }
func (q pendingQueue) Wait(ctx context.Context, id string) (*empplay.Result, error) {
	q.waiting <- id
	<-ctx.Done()
	return nil, fmt.Errorf("wait for job %s: %w", id, queue.ErrNoResult)
}
func (pendingQueue) Result(context.Context, string) (*empplay.Result, error) {
	return nil, queue.ErrNoResult
}
func (pendingQueue) Progress(context.Context, string) (*queue.Progress, error) { return nil, nil }
func (pendingQueue) Output(context.Context, string) ([]byte, error)            { return nil, queue.ErrNoResult }
func (pendingQueue) Owns(string) bool                                          { return false }

// The supervisor's HTTP server cuts off a body that does not arrive and a
// connection left idle, and its Shutdown answers the API requests still
// waiting for a result instead of resetting them.
func TestHTTPServerLimits(t *testing.T) {
	q := pendingQueue{waiting: make(chan string, 1)}
	apiSrv, err := api.New(api.Config{WaitTimeout: time.Minute}, q, nil, http.DefaultClient, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	apiSrv.Register(mux)
	srv := newHTTPServer(mux, apiSrv, httpLimits{ReadHeader: 200 * time.Millisecond, Read: 200 * time.Millisecond, Idle: 300 * time.Millisecond})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	addr := ln.Addr().String()
	dial := func(t *testing.T) net.Conn {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		t.Cleanup(func() { conn.Close() })
		return conn
	}

	t.Run("stalled body", func(t *testing.T) {
		conn := dial(t)
		fmt.Fprintf(conn, "POST /v1/jobs HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"type\":", addr)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer to a body that stalls: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Errorf("a body that stalls: %d; want 408", resp.StatusCode)
		}
	})
	t.Run("idle connection", func(t *testing.T) {
		conn := dial(t)
		br := bufio.NewReader(conn)
		fmt.Fprintf(conn, "GET /openapi.json HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		start := time.Now()
		if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
			t.Fatalf("an idle keep-alive connection: %v after %v; want it closed (EOF)", err, time.Since(start))
		}
	})
	t.Run("shutdown answers the waiting", func(t *testing.T) {
		type answer struct {
			status int
			body   string
			err    error
		}
		done := make(chan answer, 1)
		go func() {
			c := &http.Client{Timeout: 10 * time.Second}
			resp, err := c.Post("http://"+addr+"/api/screenshot", "application/json", strings.NewReader(`{"code":"function setup(){}"}`))
			if err != nil {
				done <- answer{err: err}
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			done <- answer{status: resp.StatusCode, body: string(b)}
		}()
		<-q.waiting
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown with a request waiting: %v; want it answered in time", err)
		}
		a := <-done
		var e struct{ ErrorCode string }
		_ = json.Unmarshal([]byte(a.body), &e)
		if a.err != nil || a.status != http.StatusServiceUnavailable || e.ErrorCode != "shutting_down" {
			t.Errorf("the waiting request on Shutdown: %d %s %v; want 503 shutting_down", a.status, a.body, a.err)
		}
	})
}
