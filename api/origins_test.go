package api

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// /api/v2/execute answers a page its origin refuses (4xx) or may not
// serve as the request's fault (400), and an origin that fails (5xx) or
// does not answer as the infrastructure's (502), without the cause.
func TestExecuteFetchFailures(t *testing.T) {
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/busy.html":
			http.Error(w, "upstream overloaded", http.StatusServiceUnavailable)
		case "/gone.html":
			http.NotFound(w, r)
		case "/private.html":
			http.Error(w, "forbidden", http.StatusForbidden)
		case "/away.html":
			http.Redirect(w, r, "http://elsewhere.example/x.html", http.StatusFound)
		}
	}))
	defer cdn.Close()
	// An allowed origin where nothing listens.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()

	var log bytes.Buffer
	s, err := New(Config{Origins: []string{cdn.URL, down}}, fakeQueue{}, nil, cdn.Client(), slog.New(slog.NewTextHandler(&log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file string
		status     int
		code       string
	}{
		{"5xx", cdn.URL + "/busy.html", http.StatusBadGateway, "cdn_error"},
		{"no answer", down + "/page.html", http.StatusBadGateway, "cdn_error"},
		{"404", cdn.URL + "/gone.html", http.StatusBadRequest, "invalid_field"},
		{"403", cdn.URL + "/private.html", http.StatusBadRequest, "invalid_field"},
		{"redirect away", cdn.URL + "/away.html", http.StatusBadRequest, "invalid_field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]string{"file": tc.file, "output": "image/png"})
			rec := serve(t, s, "POST", "/api/v2/execute", body)
			var e errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || rec.Code != tc.status || e.ErrorCode != tc.code {
				t.Fatalf("%s: %d %s; want %d %s", tc.file, rec.Code, rec.Body, tc.status, tc.code)
			}
			if strings.Contains(e.Message, "dial tcp") || strings.Contains(e.Message, "connection refused") {
				t.Errorf("the answer %q gives the transport's error away", e.Message)
			}
		})
	}
	if !strings.Contains(log.String(), "connection refused") {
		t.Errorf("the log does not have the transport's error: %s", log.String())
	}
}

// TestExecuteNotReadyFetchesNothing: on a host where no worker is ready,
// execute answers 503 before it fetches the page.
func TestExecuteNotReadyFetchesNothing(t *testing.T) {
	var hits atomic.Int32
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte("<canvas></canvas>"))
	}))
	defer cdn.Close()
	s, err := New(Config{Origins: []string{cdn.URL}}, fakeQueue{}, func() bool { return false }, cdn.Client(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"file": cdn.URL + "/page.html", "output": "image/png"})
	rec := serve(t, s, "POST", "/api/v2/execute", body)
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("not ready: %d %s; want 503", rec.Code, rec.Body)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the page was fetched %d times by a host that cannot render it", n)
	}
}
