package cdn

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/empplay/empplay"
)

// script is an origin whose n-th request is answered by steps[n] (the last
// step repeats). It records each request and counts new connections.
type script struct {
	mu    sync.Mutex
	steps []http.HandlerFunc
	n     int
	log   []string
	times []time.Time
	conns int
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	step := s.steps[min(s.n, len(s.steps)-1)]
	s.n++
	entry := r.Method
	if rg := r.Header.Get("Range"); rg != "" {
		entry += " " + rg
	}
	s.log = append(s.log, entry)
	s.times = append(s.times, time.Now())
	s.mu.Unlock()
	step(w, r)
}

func (s *script) start(t *testing.T) *httptest.Server {
	srv := httptest.NewUnstartedServer(s)
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.mu.Lock()
			s.conns++
			s.mu.Unlock()
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// file serves size bytes of type ct the way Azure and CDNs do: HEAD with
// Content-Length, GET honouring Range.
func file(size int, ct string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ct)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(make([]byte, size)))
	}
}

func status(code int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, strings.Repeat("error page ", 100), code)
	}
}

// noHEAD answers HEAD with code and passes other methods to next.
func noHEAD(code int, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w.WriteHeader(code)
			return
		}
		next(w, r)
	}
}

// headWithoutLength answers HEAD 200 with no Content-Length.
func headWithoutLength(ct string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w.Header().Set("Content-Type", ct)
			w.WriteHeader(http.StatusOK)
			return
		}
		next(w, r)
	}
}

// untyped answers HEAD 200 with a Content-Length and no Content-Type.
func untyped(size int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(size))
		w.WriteHeader(http.StatusOK)
	}
}

// ignoreRange sends the whole body chunked, without Content-Length.
func ignoreRange(size int, ct string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush() // commit to chunked encoding
		_, _ = w.Write(make([]byte, size))
	}
}

func slow(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(10 * time.Second):
	}
	w.WriteHeader(http.StatusOK)
}

// newVerifier polls srv quickly, with srv's own client: the shared default
// transport's idle pool is evicted by other parallel tests, which would
// spoil the connection counts.
func newVerifier(t *testing.T, srv *httptest.Server, base string, timeout time.Duration) *Verifier {
	t.Helper()
	v, err := New(Config{BaseURL: base, Timeout: timeout, InitialBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}, srv.Client(), nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return v
}

func TestVerify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		steps       []http.HandlerFunc
		size        int64
		contentType string
		timeout     time.Duration // default 5s; 1s where the error must name an answer
		wantIns     []string      // in the error; none means success
		wantLog     []string      // requests seen, when checked
		wantConns   int           // connections opened, when checked
	}{
		{
			name:  "404, 404, then served",
			steps: []http.HandlerFunc{status(404), status(404), file(1234, "image/png")},
			size:  1234, contentType: "image/png",
			wantLog:   []string{"HEAD", "HEAD", "HEAD"},
			wantConns: 1, // error bodies drained, so the connection is reused
		},
		{
			name:  "403 and 5xx are polled too",
			steps: []http.HandlerFunc{status(403), status(502), status(503), file(10, "video/mp4")},
			size:  10, contentType: "video/mp4",
			wantLog: []string{"HEAD", "HEAD", "HEAD", "HEAD"},
		},
		// This case and the others that fail on what the origin answers
		// have 1s, not less: the error names the last answer, so one must
		// come back before the deadline even on a slow, busy host.
		{
			name:  "wrong length until the deadline",
			steps: []http.HandlerFunc{file(1234, "image/png")},
			size:  5678, contentType: "image/png", timeout: time.Second,
			wantIns: []string{"HEAD 200: served 1234 bytes, want 5678", "not served as expected within"},
		},
		{
			name:  "stale length then the new one",
			steps: []http.HandlerFunc{file(1234, "image/png"), file(5678, "image/png")},
			size:  5678, contentType: "image/png",
		},
		{
			name:  "wrong content type",
			steps: []http.HandlerFunc{file(10, "text/plain; charset=utf-8")},
			size:  10, contentType: "image/png", timeout: time.Second,
			wantIns: []string{`served Content-Type "text/plain; charset=utf-8", want image/png`},
		},
		{
			name:  "missing content type",
			steps: []http.HandlerFunc{untyped(10)},
			size:  10, contentType: "image/png", timeout: time.Second,
			wantIns: []string{`HEAD 200: served Content-Type "", want image/png`},
		},
		{
			name:  "content type parameters and case ignored",
			steps: []http.HandlerFunc{file(10, "Text/HTML; charset=utf-8")},
			size:  10, contentType: "text/html; charset=UTF-8",
		},
		{
			name:  "empty content type accepts any",
			steps: []http.HandlerFunc{file(10, "application/x-whatever")},
			size:  10,
		},
		{
			name:  "HEAD 405 falls back to ranged GET",
			steps: []http.HandlerFunc{noHEAD(405, file(5678, "image/png"))},
			size:  5678, contentType: "image/png",
			wantLog: []string{"HEAD", "GET bytes=0-0"},
		},
		{
			name:  "HEAD 501 is not asked again",
			steps: []http.HandlerFunc{noHEAD(501, nil), status(404), file(5678, "image/png")},
			size:  5678, contentType: "image/png",
			wantLog:   []string{"HEAD", "GET bytes=0-0", "GET bytes=0-0"},
			wantConns: 1,
		},
		{
			name:  "ranged GET with the wrong total",
			steps: []http.HandlerFunc{noHEAD(405, file(1234, "image/png"))},
			size:  5678, contentType: "image/png", timeout: time.Second,
			wantIns: []string{"GET 206: served 1234 bytes, want 5678"},
		},
		{
			name:  "HEAD without Content-Length uses ranged GET",
			steps: []http.HandlerFunc{headWithoutLength("image/png", file(77, "image/png"))},
			size:  77, contentType: "image/png",
			wantLog: []string{"HEAD", "GET bytes=0-0"},
		},
		{
			name:  "GET ignoring Range counts the body",
			steps: []http.HandlerFunc{noHEAD(405, ignoreRange(3000, "image/png"))},
			size:  3000, contentType: "image/png",
		},
		{
			name:  "GET ignoring Range with a short body",
			steps: []http.HandlerFunc{noHEAD(405, ignoreRange(2999, "image/png"))},
			size:  3000, contentType: "image/png", timeout: time.Second,
			wantIns: []string{"GET 200: served 2999 bytes, want 3000"},
		},
		{
			name:  "GET ignoring Range with a long body stops reading at the limit",
			steps: []http.HandlerFunc{noHEAD(405, ignoreRange(1<<20, "image/png"))},
			size:  3000, contentType: "image/png", timeout: time.Second,
			wantIns: []string{"GET 200: served 3001 bytes, want 3000"},
		},
		{
			name:  "empty file: 416 with a total of 0",
			steps: []http.HandlerFunc{noHEAD(405, file(0, "text/plain"))},
			size:  0, contentType: "text/plain",
			wantLog: []string{"HEAD", "GET bytes=0-0"},
		},
		{
			name:    "slow server hits the deadline",
			steps:   []http.HandlerFunc{slow},
			size:    1,
			timeout: 300 * time.Millisecond, // the deadline is the point: no answer comes
			wantIns: []string{"not served as expected within", "last: HEAD", "context deadline exceeded"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := &script{steps: tc.steps}
			srv := s.start(t)
			timeout := tc.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			v := newVerifier(t, srv, srv.URL+"/", timeout)

			start := time.Now()
			got, err := v.Verify(t.Context(), "box", "dir/out.png", tc.size, tc.contentType)
			elapsed := time.Since(start)
			wantURL := srv.URL + "/box/dir/out.png"

			if len(tc.wantIns) == 0 {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if got != wantURL {
					t.Errorf("Verify returned %q, want %q", got, wantURL)
				}
			} else {
				if err == nil {
					t.Fatalf("Verify succeeded, want an error containing %q", tc.wantIns)
				}
				msg := err.Error()
				for _, w := range append(tc.wantIns, "verify "+wantURL+": ") {
					if !strings.Contains(msg, w) {
						t.Errorf("error %q does not contain %q", msg, w)
					}
				}
				if !errors.Is(err, ErrNotPropagated) {
					t.Errorf("error %v does not wrap ErrNotPropagated", err)
				}
				if !empplay.IsRetryable(err) || empplay.ErrorCode(err) != empplay.CodeCDNError {
					t.Errorf("error %v: want a retryable cdn_error", err)
				}
				if elapsed < timeout || elapsed > timeout+2*time.Second {
					t.Errorf("gave up after %v, want about the %v timeout", elapsed, timeout)
				}
			}

			s.mu.Lock()
			defer s.mu.Unlock()
			if tc.wantLog != nil && strings.Join(s.log, ",") != strings.Join(tc.wantLog, ",") {
				t.Errorf("requests %q, want %q", s.log, tc.wantLog)
			}
			if tc.wantConns != 0 && s.conns != tc.wantConns {
				t.Errorf("%d connections for %d requests, want %d (bodies not drained?)", s.conns, len(s.log), tc.wantConns)
			}
		})
	}
}

func TestVerifyCancelReturnsPromptly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		step http.HandlerFunc
	}{
		{name: "between polls", step: status(404)},
		{name: "during a stalled request", step: slow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := (&script{steps: []http.HandlerFunc{tc.step}}).start(t)
			v := newVerifier(t, srv, srv.URL, 30*time.Second)
			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(100*time.Millisecond, cancel)

			start := time.Now()
			_, err := v.Verify(ctx, "box", "a.png", 1, "image/png")
			if d := time.Since(start); d > time.Second {
				t.Errorf("Verify took %v to return after cancel at 100ms", d)
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("error %v does not wrap context.Canceled", err)
			}
			if errors.Is(err, ErrNotPropagated) {
				t.Errorf("a cancelled Verify reports ErrNotPropagated: %v", err)
			}
			if empplay.ErrorCode(err) != empplay.CodeCDNError {
				t.Errorf("code %q, want cdn_error", empplay.ErrorCode(err))
			}
		})
	}
}

func TestVerifyParentDeadlineShorterThanTimeout(t *testing.T) {
	t.Parallel()
	srv := (&script{steps: []http.HandlerFunc{status(404)}}).start(t)
	v := newVerifier(t, srv, srv.URL, 30*time.Second)
	// Long enough for a 404 to come back on a slow, busy host (the error
	// must name it); far below the Verifier's own 30s timeout.
	const deadline = time.Second
	ctx, cancel := context.WithTimeout(t.Context(), deadline)
	defer cancel()
	start := time.Now()
	_, err := v.Verify(ctx, "box", "a.png", 1, "")
	if d := time.Since(start); d > deadline+3*time.Second {
		t.Errorf("Verify ran %v with a %v parent deadline; want it to end soon after", d, deadline)
	}
	if !errors.Is(err, ErrNotPropagated) || !strings.Contains(err.Error(), "last: HEAD 404 Not Found") {
		t.Errorf("error %v: want ErrNotPropagated with the last 404", err)
	}
}

func TestVerifyNetworkError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close() // nothing listens there now
	v := newVerifier(t, srv, base, 200*time.Millisecond)
	_, err := v.Verify(t.Context(), "box", "a.png", 1, "")
	var opErr *net.OpError
	if !errors.Is(err, ErrNotPropagated) || !errors.As(err, &opErr) {
		t.Fatalf("error %v: want ErrNotPropagated with the *net.OpError", err)
	}
	if !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("error %q does not say the connection was refused", err)
	}
}

func TestVerifyBackoff(t *testing.T) {
	t.Parallel()
	// Twelve misses before the file. Uncapped, the jittered waits (each
	// between InitialBackoff and a ceiling that doubles, over a second
	// from the seventh on) would all but never fit in the bound below, nor
	// mostly in Verify's 10s; with six misses, as before, an uncapped
	// backoff passed even a tight bound most of the time.
	const misses = 12
	var steps []http.HandlerFunc
	for range misses {
		steps = append(steps, status(404))
	}
	s := &script{steps: append(steps, file(1, ""))}
	srv := s.start(t)
	const initial, max = 30 * time.Millisecond, 60 * time.Millisecond
	v, err := New(Config{BaseURL: srv.URL, Timeout: 10 * time.Second, InitialBackoff: initial, MaxBackoff: max}, srv.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := v.Verify(t.Context(), "b", "n", 1, ""); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.times) != misses+1 {
		t.Fatalf("%d requests, want %d", len(s.times), misses+1)
	}
	for i := 1; i < len(s.times); i++ {
		if gap := s.times[i].Sub(s.times[i-1]); gap < initial {
			t.Errorf("gap %d = %v, below InitialBackoff %v", i, gap, initial)
		}
	}
	// Twelve waits, each at most MaxBackoff, plus 3s of slack for a busy
	// host: uncapped, they take longer in all but about one run in four
	// million.
	if total := time.Since(start); total > misses*max+3*time.Second {
		t.Errorf("%d waits took %v; MaxBackoff %v not applied", misses, total, max)
	}
}

func TestURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		base, bucket, name, want string
	}{
		{"https://cdn.example.com", "renders", "p5/abc.png", "https://cdn.example.com/renders/p5/abc.png"},
		{"https://cdn.example.com/", "renders", "p5/abc.png", "https://cdn.example.com/renders/p5/abc.png"},
		{"http://127.0.0.1:10000/devstoreaccount1", "box", "a b/ü 画 🎨.png", "http://127.0.0.1:10000/devstoreaccount1/box/a%20b/%C3%BC%20%E7%94%BB%20%F0%9F%8E%A8.png"},
		{"https://cdn.example.com", "box", "odd/50% #1?.png", "https://cdn.example.com/box/odd/50%25%20%231%3F.png"},
		{"https://cdn.example.com", "box", "a+b=c&d.png", "https://cdn.example.com/box/a+b=c&d.png"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := New(Config{BaseURL: tc.base}, nil, nil)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if got := v.URL(tc.bucket, tc.name); got != tc.want {
				t.Errorf("URL(%q, %q) = %q, want %q", tc.bucket, tc.name, got, tc.want)
			}
		})
	}
}

// TestVerifyEscapedNameReachesServer checks the escaped URL round-trips:
// the origin sees the decoded name it stored.
func TestVerifyEscapedNameReachesServer(t *testing.T) {
	t.Parallel()
	const name = "dir with space/ünï 画像 50%#?.png"
	var seen string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = r.URL.Path
		mu.Unlock()
		file(3, "image/png")(w, r)
	}))
	t.Cleanup(srv.Close)
	v := newVerifier(t, srv, srv.URL, 5*time.Second)
	if _, err := v.Verify(t.Context(), "box", name, 3, "image/png"); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := "/box/" + name; seen != want {
		t.Errorf("server saw path %q, want %q", seen, want)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		cfg    Config
		wantIn string // "" means valid
	}{
		{name: "missing", cfg: Config{}, wantIn: "CDN_URI is required"},
		{name: "no scheme", cfg: Config{BaseURL: "cdn.example.com"}, wantIn: "CDN_URI"},
		{name: "ftp", cfg: Config{BaseURL: "ftp://cdn.example.com"}, wantIn: "absolute http or https"},
		{name: "query", cfg: Config{BaseURL: "https://cdn.example.com/?sig=x"}, wantIn: "without query"},
		{name: "password", cfg: Config{BaseURL: "https://u:hunter2@cdn.example.com/"}, wantIn: "without a user or password"},
		{name: "user", cfg: Config{BaseURL: "https://u@cdn.example.com/"}, wantIn: "without a user or password"},
		{name: "not a URL", cfg: Config{BaseURL: "https://u:hunter2@cdn example.com:x/"}, wantIn: "not a URL"},
		{name: "negative timeout", cfg: Config{BaseURL: "https://c", Timeout: -1}, wantIn: "timeout"},
		{name: "max below initial", cfg: Config{BaseURL: "https://c", InitialBackoff: time.Second, MaxBackoff: time.Millisecond}, wantIn: "max backoff"},
		{name: "defaults", cfg: Config{BaseURL: "https://cdn.example.com/path/"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := New(tc.cfg, nil, slog.New(slog.DiscardHandler))
			if tc.wantIn != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantIn) {
					t.Fatalf("New error %v, want one containing %q", err, tc.wantIn)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("New error %v quotes the password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			want := Config{BaseURL: tc.cfg.BaseURL, Timeout: 30 * time.Second, InitialBackoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second, RequestTimeout: 10 * time.Second}
			if v.cfg != want {
				t.Errorf("config %+v, want defaults %+v", v.cfg, want)
			}
			if v.base != "https://cdn.example.com/path" {
				t.Errorf("base %q, want the trailing slash trimmed", v.base)
			}
		})
	}
}

func TestRangeTotal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"bytes 0-0/5678", 5678, true},
		{"bytes */0", 0, true},
		{"bytes 0-0/*", 0, false},
		{"items 0-0/5", 0, false},
		{"", 0, false},
		{"bytes 0-0/-3", 0, false},
	} {
		t.Run(strconv.Quote(tc.in), func(t *testing.T) {
			t.Parallel()
			got, ok := rangeTotal(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("rangeTotal(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}
