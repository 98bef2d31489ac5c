package fetcher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/empplay/empplay"
)

// origin is a loopback HTTP server that counts the requests it answers.
type origin struct {
	*httptest.Server
	gets atomic.Int64
}

func newOrigin(t testing.TB, h http.HandlerFunc) *origin {
	t.Helper()
	o := &origin{}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.gets.Add(1)
		h(w, r)
	}))
	t.Cleanup(o.Close)
	return o
}

var png = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 100)...)

func files(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/tile.png":
		w.Write(png) // no Content-Type: sniffed
	case "/shader.frag":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("void main(){}"))
	case "/private.json":
		w.Header().Set("Cache-Control", "private, no-store")
		w.Write([]byte(`{"a":1}`))
	case "/big":
		w.Write(make([]byte, 2000))
	case "/big-chunked":
		w.(http.Flusher).Flush() // no Content-Length
		w.Write(make([]byte, 2000))
	case "/flaky":
		http.Error(w, "busy", http.StatusServiceUnavailable)
	case "/slow":
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	case "/to-tile":
		http.Redirect(w, r, "/tile.png", http.StatusFound)
	case "/loop":
		http.Redirect(w, r, "/loop", http.StatusFound)
	case "/busy":
		http.Error(w, "slow down", http.StatusTooManyRequests)
	default:
		http.NotFound(w, r)
	}
}

// newFetcher returns a fetcher of files up to 1000 bytes from the allowed
// origins, each fetch bounded by fileTimeout.
func newFetcher(t *testing.T, cache bool, fileTimeout time.Duration, allowed ...string) *Fetcher {
	t.Helper()
	o, err := NewOrigins(allowed...)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Origins: o, FileTimeout: fileTimeout, MaxFile: 1000}
	if cache {
		c, err := OpenCache(t.TempDir(), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Cache = c
	}
	return New(cfg)
}

// answerTimeout bounds fetches the origin answers: generous, so a slow,
// busy host does not turn an answer into a timeout.
const answerTimeout = 5 * time.Second

func TestGet(t *testing.T) {
	t.Parallel()
	src := newOrigin(t, files)
	foreign := newOrigin(t, files)
	redirector := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, foreign.URL+"/tile.png", http.StatusFound)
	})
	f := newFetcher(t, false, answerTimeout, src.URL, redirector.URL)
	// For the case whose origin never answers (within 5 s): there the
	// file's timeout is what is tested.
	short := newFetcher(t, false, 300*time.Millisecond, src.URL)
	for _, tc := range []struct {
		name      string
		url       string
		wantType  string
		wantCode  empplay.Code
		retryable bool
		inMsg     string
		short     bool // fetched with the short file timeout
	}{
		{"sniffed type", src.URL + "/tile.png", "image/png", "", false, "", false},
		{"type the source sent", src.URL + "/shader.frag", "text/plain; charset=utf-8", "", false, "", false},
		{"redirect on the same origin", src.URL + "/to-tile", "image/png", "", false, "", false},
		{"404", src.URL + "/missing.png", "", empplay.CodeAssetUnavailable, false, "404", false},
		{"5xx is retryable", src.URL + "/flaky", "", empplay.CodeAssetUnavailable, true, "503", false},
		{"429 is retryable", src.URL + "/busy", "", empplay.CodeAssetUnavailable, true, "429", false},
		{"a redirect loop is not", src.URL + "/loop", "", empplay.CodeAssetUnavailable, false, "more than 5 redirects", false},
		{"timeout is retryable", src.URL + "/slow", "", empplay.CodeAssetUnavailable, true, "in time", true},
		{"too large by Content-Length", src.URL + "/big", "", empplay.CodeAssetUnavailable, false, "2000 bytes, over the limit of 1000", false},
		{"too large while reading", src.URL + "/big-chunked", "", empplay.CodeAssetUnavailable, false, "more than 1000 bytes", false},
		{"redirect to a foreign origin", redirector.URL + "/x", "", empplay.CodeAssetUnavailable, false, "not on an allowed origin", false},
		{"origin not allowed", foreign.URL + "/tile.png", "", empplay.CodeNetworkBlocked, false, "not on an allowed origin", false},
		{"not http", "file:///etc/passwd", "", empplay.CodeNetworkBlocked, false, "not an http(s) URL", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := f
			if tc.short {
				g = short
			}
			file, err := g.Get(context.Background(), tc.url)
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
				if file.ContentType != tc.wantType || len(file.Body) == 0 {
					t.Fatalf("got %d bytes of %q, want %q", len(file.Body), file.ContentType, tc.wantType)
				}
				return
			}
			var e *empplay.Error
			if !errors.As(err, &e) {
				t.Fatalf("Get = %v, want a %s error", err, tc.wantCode)
			}
			if e.Code != tc.wantCode || e.Retryable != tc.retryable || !strings.Contains(e.Msg, tc.inMsg) {
				t.Fatalf("got %s retryable=%v %q, want %s retryable=%v containing %q", e.Code, e.Retryable, e.Msg, tc.wantCode, tc.retryable, tc.inMsg)
			}
		})
	}
	if n := foreign.gets.Load(); n != 0 {
		t.Fatalf("the foreign origin got %d requests, want none", n)
	}
}

func TestGetThroughCache(t *testing.T) {
	t.Parallel()
	src := newOrigin(t, files)
	f := newFetcher(t, true, answerTimeout, src.URL)
	ctx := context.Background()
	for i, want := range []bool{false, true, true} {
		file, err := f.Get(ctx, src.URL+"/tile.png")
		if err != nil {
			t.Fatal(err)
		}
		if file.Cached != want || !bytes.Equal(file.Body, png) || file.ContentType != "image/png" {
			t.Fatalf("get %d: cached=%v type %q, want cached=%v and the same bytes", i, file.Cached, file.ContentType, want)
		}
	}
	if n := src.gets.Load(); n != 1 {
		t.Fatalf("the source got %d GETs, want 1", n)
	}
	// no-store is fetched every time.
	for range 2 {
		if _, err := f.Get(ctx, src.URL+"/private.json"); err != nil {
			t.Fatal(err)
		}
	}
	if n := src.gets.Load(); n != 3 {
		t.Fatalf("the source got %d GETs, want 3 (no-store is never cached)", n)
	}
	if h, m := f.Stats(); h != 2 || m != 3 {
		t.Fatalf("stats: %d hits %d misses, want 2 and 3", h, m)
	}
}

func TestBudget(t *testing.T) {
	t.Parallel()
	src := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, 600))
	})
	f := newFetcher(t, false, answerTimeout, src.URL)
	// The job's timeout is not what is tested here: generous too.
	b := f.Budget(1000, 10*time.Second)
	ctx := context.Background()
	if _, err := b.Get(ctx, src.URL+"/a"); err != nil {
		t.Fatal(err)
	}
	// The same file again is not fetched or counted twice.
	if _, err := b.Get(ctx, src.URL+"/a"); err != nil {
		t.Fatal(err)
	}
	_, err := b.Get(ctx, src.URL+"/b")
	if empplay.ErrorCode(err) != empplay.CodeAssetUnavailable || !strings.Contains(err.Error(), "1000 bytes in total") {
		t.Fatalf("second file: %v, want the job's total cap", err)
	}
	if n := src.gets.Load(); n != 2 {
		t.Fatalf("%d GETs, want 2", n)
	}
	if h, m, n := b.Stats(); h != 0 || m != 1 || n != 600 {
		t.Fatalf("stats %d %d %d, want 0 hits, 1 miss, 600 bytes", h, m, n)
	}
}

// Files fetched at the same time share the job's budget: ten files of 300
// bytes against a budget of 1000 can never all be held, however they
// arrive. The server answers only once all ten requests are in flight,
// with and without a declared length.
func TestBudgetConcurrent(t *testing.T) {
	t.Parallel()
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			const files = 10
			var arrived sync.WaitGroup
			arrived.Add(files)
			all := make(chan struct{})
			go func() { arrived.Wait(); close(all) }()
			src := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				arrived.Done()
				select {
				case <-all:
				case <-time.After(5 * time.Second):
				}
				for range 3 {
					w.Write(make([]byte, 100))
					if chunked {
						w.(http.Flusher).Flush()
					}
				}
			})
			o, err := NewOrigins(src.URL)
			if err != nil {
				t.Fatal(err)
			}
			f := New(Config{Origins: o, FileTimeout: 10 * time.Second, MaxFile: 1000})
			b := f.Budget(1000, 10*time.Second)
			var wg sync.WaitGroup
			var got, over atomic.Int64
			for i := range files {
				wg.Go(func() {
					file, err := b.Get(context.Background(), fmt.Sprintf("%s/f%d", src.URL, i))
					switch {
					case err == nil:
						got.Add(int64(len(file.Body)))
					case strings.Contains(err.Error(), "1000 bytes in total"):
						over.Add(1)
					default:
						t.Errorf("file %d: %v", i, err)
					}
				})
			}
			wg.Wait()
			if got.Load() > 1000 || got.Load() < 300 {
				t.Errorf("the job holds %d bytes of files; want at least one file and at most its budget of 1000", got.Load())
			}
			if n := got.Load()/300 + over.Load(); n != files {
				t.Errorf("%d files held and %d refused; want all %d accounted for", got.Load()/300, over.Load(), files)
			}
			if _, _, used := b.Stats(); used != got.Load() {
				t.Errorf("the budget counts %d bytes; the job holds %d", used, got.Load())
			}
		})
	}
}

func TestOrigins(t *testing.T) {
	t.Parallel()
	o, err := NewOrigins("https://CDN.example.com/base/", "http://127.0.0.1:10000/devstoreaccount1", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		url  string
		want bool
	}{
		{"https://cdn.example.com/a.png", true},
		{"https://cdn.example.com:443/a.png", true},
		{"http://cdn.example.com/a.png", false},
		{"https://cdn.example.com.evil.com/a.png", false},
		{"https://user@cdn.example.com/a.png", false},
		{"http://127.0.0.1:10000/devstoreaccount1/c/x.png?sv=1&sig=abc", true},
		{"http://127.0.0.1:10001/x.png", false},
		{"data:image/png;base64,AAAA", false},
		{"/relative.png", false},
	} {
		if got := o.Allows(tc.url); got != tc.want {
			t.Errorf("Allows(%q) = %v, want %v", tc.url, got, tc.want)
		}
	}
	if _, err := NewOrigins("ftp://x"); err == nil {
		t.Fatal("NewOrigins accepted ftp://x")
	}
	if err := o.Check("https://evil.example/x.png?sig=SECRET"); err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("Check = %v, want an error without the query", err)
	}
}

// TestGetTransportFailures: a failure another attempt would meet again (a
// certificate the host does not trust, a name that does not exist) is
// permanent; a connection that broke is retryable.
func TestGetTransportFailures(t *testing.T) {
	t.Parallel()
	tlsOrigin := httptest.NewTLSServer(http.HandlerFunc(files))
	t.Cleanup(tlsOrigin.Close)
	dialing := func(err error) *http.Client {
		return &http.Client{Transport: &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) {
			return nil, err
		}}}
	}
	for _, tc := range []struct {
		name      string
		url       string
		client    *http.Client
		retryable bool
		inMsg     string
	}{
		{"untrusted certificate", tlsOrigin.URL + "/tile.png", nil, false, "certificate"},
		{"no such host", "http://cdn.example/tile.png", dialing(&net.DNSError{Err: "no such host", Name: "cdn.example", IsNotFound: true}), false, "no such host"},
		{"connection refused", "http://cdn.example/tile.png", dialing(errors.New("connect: connection refused")), true, "connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o, err := NewOrigins(tlsOrigin.URL, "http://cdn.example")
			if err != nil {
				t.Fatal(err)
			}
			f := New(Config{Origins: o, FileTimeout: 5 * time.Second, Client: tc.client})
			_, err = f.Get(context.Background(), tc.url)
			var e *empplay.Error
			if !errors.As(err, &e) || e.Code != empplay.CodeAssetUnavailable || e.Retryable != tc.retryable || !strings.Contains(e.Msg, tc.inMsg) {
				t.Fatalf("Get = %v; want asset_unavailable, retryable=%v, saying %q", err, tc.retryable, tc.inMsg)
			}
		})
	}
}
