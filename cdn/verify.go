package cdn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/empplay/empplay"
)

// ErrNotPropagated is in the chain of the error [Verifier.Verify] returns
// when the deadline passes before the URL serves the expected file.
var ErrNotPropagated = errors.New("not served as expected")

// Config tunes a [Verifier]. Zero durations take their defaults.
type Config struct {
	// BaseURL is the public base URL (CDN_URI) that bucket/name is appended
	// to, e.g. https://cdn.example.com, or for Azurite
	// http://127.0.0.1:10000/devstoreaccount1. Required.
	BaseURL string

	// Timeout bounds one Verify call, all attempts together. Default 30s.
	Timeout time.Duration

	// InitialBackoff is the shortest wait between attempts. Default 100ms.
	InitialBackoff time.Duration

	// MaxBackoff caps the wait between attempts. Default 2s.
	MaxBackoff time.Duration

	// RequestTimeout bounds each HEAD or GET, so one stalled edge
	// connection does not use up the whole Timeout. Default 10s.
	RequestTimeout time.Duration
}

// Verifier polls public URLs until they serve what was uploaded. It is safe
// for concurrent use.
type Verifier struct {
	base   string
	cfg    Config
	client *http.Client
	logger *slog.Logger
}

// New returns a [Verifier] for cfg. A nil client means a new
// [http.Client] with the default transport; a nil logger discards.
func New(cfg Config, client *http.Client, logger *slog.Logger) (*Verifier, error) {
	if cfg.BaseURL == "" {
		return nil, errors.New("CDN_URI is required; set it to the public base URL files are served from, e.g. https://cdn.example.com")
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, errors.New("CDN_URI is not a URL: want an absolute http or https URL, e.g. https://cdn.example.com")
	}
	if u.User != nil {
		// Every result's src starts with it: a password here would be
		// handed to every producer and artist.
		return nil, fmt.Errorf("CDN_URI %q: want the public base URL, without a user or password", u.Redacted())
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("CDN_URI %q: want an absolute http or https URL without query or fragment", cfg.BaseURL)
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"timeout", &cfg.Timeout, 30 * time.Second},
		{"initial backoff", &cfg.InitialBackoff, 100 * time.Millisecond},
		{"max backoff", &cfg.MaxBackoff, 2 * time.Second},
		{"request timeout", &cfg.RequestTimeout, 10 * time.Second},
	} {
		switch {
		case *d.v < 0:
			return nil, fmt.Errorf("cdn %s %v is negative", d.name, *d.v)
		case *d.v == 0:
			*d.v = d.def
		}
	}
	if cfg.MaxBackoff < cfg.InitialBackoff {
		return nil, fmt.Errorf("cdn max backoff %v is below initial backoff %v", cfg.MaxBackoff, cfg.InitialBackoff)
	}
	if client == nil {
		client = &http.Client{}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Verifier{
		base:   strings.TrimRight(cfg.BaseURL, "/"),
		cfg:    cfg,
		client: client,
		logger: logger.With("component", "cdn"),
	}, nil
}

// URL returns BaseURL/bucket/name with each path segment escaped and the
// '/' between segments kept.
func (v *Verifier) URL(bucket, name string) string {
	segs := strings.Split(name, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return v.base + "/" + url.PathEscape(bucket) + "/" + strings.Join(segs, "/")
}

// Verify polls [Verifier.URL](bucket, name) until it answers 200 with a
// length of size bytes and, unless contentType is empty, the same media
// type (parameters such as charset are ignored). It returns the URL.
//
// Missing, forbidden, failing or wrong answers are polled again, with
// exponential backoff and jitter, until [Config.Timeout] or ctx's deadline;
// then the error is a retryable [empplay.CodeCDNError] wrapping
// [ErrNotPropagated] that names the URL and what was last served. When ctx
// is cancelled, Verify returns promptly with an error wrapping ctx's.
func (v *Verifier) Verify(ctx context.Context, bucket, name string, size int64, contentType string) (string, error) {
	u := v.URL(bucket, name)
	if size < 0 {
		return "", empplay.Errorf(empplay.CodeInternal, "verify %s: negative size %d", u, size)
	}
	want := ""
	if contentType != "" {
		mt, _, err := mime.ParseMediaType(contentType)
		if err != nil {
			return "", empplay.Errorf(empplay.CodeInternal, "verify %s: content type %q: %w", u, contentType, err)
		}
		want = mt
	}

	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, v.cfg.Timeout)
	defer cancel()
	p := &probe{v: v, url: u, size: size, wantType: want, head: true}
	start := time.Now()
	backoff := v.cfg.InitialBackoff
	var last error // what was wrong, for the final error
	for attempt := 1; ; attempt++ {
		err := p.check(ctx)
		if err == nil {
			v.logger.DebugContext(ctx, "cdn serves file", "url", u, "attempts", attempt, "duration_ms", time.Since(start).Milliseconds())
			return u, nil
		}
		// An attempt the deadline cut short says less than the one before.
		if last == nil || ctx.Err() == nil {
			last = err
		}
		v.logger.DebugContext(ctx, "cdn not serving yet", "url", u, "attempt", attempt, "err", err)

		wait := v.cfg.InitialBackoff + rand.N(backoff-v.cfg.InitialBackoff+1)
		backoff = min(2*backoff, v.cfg.MaxBackoff)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
			continue
		case <-ctx.Done():
			t.Stop()
		}
		if err := parent.Err(); errors.Is(err, context.Canceled) {
			return "", empplay.Transient(empplay.CodeCDNError,
				fmt.Errorf("verify %s: %w after %d attempts; last: %v", u, err, attempt, last))
		}
		return "", empplay.Transient(empplay.CodeCDNError,
			fmt.Errorf("verify %s: %w within %v (%d attempts); last: %w",
				u, ErrNotPropagated, time.Since(start).Round(time.Millisecond), attempt, last))
	}
}

// probe is one Verify call's state: the expectation, and whether HEAD is
// still worth trying.
type probe struct {
	v        *Verifier
	url      string
	size     int64
	wantType string // media type, "" for any
	head     bool
}

// answer is what one request learnt; the body is already drained and closed.
type answer struct {
	status       int
	length       int64 // Content-Length, -1 when absent
	contentType  string
	contentRange string
	bodyBytes    int64 // bytes read from a GET body, up to its limit
}

// check makes one attempt and returns nil when the URL serves the
// expected file, else what was wrong.
func (p *probe) check(ctx context.Context) error {
	if p.head {
		a, err := p.do(ctx, http.MethodHead, -1)
		if err != nil {
			return err
		}
		switch {
		case a.status == http.StatusMethodNotAllowed || a.status == http.StatusNotImplemented:
			p.head = false // this server never will; stop asking
		case a.status != http.StatusOK:
			return statusError(http.MethodHead, a.status)
		case a.length >= 0:
			return p.compare("HEAD 200", a.length, a.contentType)
		}
		// No Content-Length on HEAD: the ranged GET below can tell.
	}

	a, err := p.do(ctx, http.MethodGet, p.size+1)
	if err != nil {
		return err
	}
	switch a.status {
	case http.StatusPartialContent:
		total, ok := rangeTotal(a.contentRange)
		if !ok {
			return fmt.Errorf("GET 206: Content-Range %q has no total length", a.contentRange)
		}
		return p.compare("GET 206", total, a.contentType)
	case http.StatusRequestedRangeNotSatisfiable:
		// What a server answers bytes=0-0 of an empty file with: "bytes */0".
		total, ok := rangeTotal(a.contentRange)
		if !ok {
			return statusError(http.MethodGet, a.status)
		}
		return p.compare("GET 416", total, a.contentType)
	case http.StatusOK:
		// Range ignored: the length is in the header or the body.
		n := a.length
		if n < 0 {
			n = a.bodyBytes
		}
		return p.compare("GET 200", n, a.contentType)
	}
	return statusError(http.MethodGet, a.status)
}

func (p *probe) compare(what string, length int64, contentType string) error {
	if length != p.size {
		return fmt.Errorf("%s: served %d bytes, want %d", what, length, p.size)
	}
	if p.wantType == "" {
		return nil
	}
	got, _, err := mime.ParseMediaType(contentType)
	if err != nil || !strings.EqualFold(got, p.wantType) {
		return fmt.Errorf("%s: served Content-Type %q, want %s", what, contentType, p.wantType)
	}
	return nil
}

// do sends one request. For GET it asks for the first byte only and, in
// case the server sends the whole file instead, counts at most limit body
// bytes. The body is always drained (within its limit) and closed.
func (p *probe) do(ctx context.Context, method string, limit int64) (answer, error) {
	ctx, cancel := context.WithTimeout(ctx, p.v.cfg.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, p.url, nil)
	if err != nil {
		return answer{}, fmt.Errorf("%s: %w", method, err)
	}
	if method == http.MethodGet {
		req.Header.Set("Range", "bytes=0-0")
	}
	req.Header.Set("User-Agent", "empplay-cdn-verify")
	resp, err := p.v.client.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("%s: %w", method, err)
	}
	defer resp.Body.Close()
	a := answer{
		status:       resp.StatusCode,
		length:       resp.ContentLength,
		contentType:  resp.Header.Get("Content-Type"),
		contentRange: resp.Header.Get("Content-Range"),
	}
	// Error pages and 206 bodies are small; a full 200 body is read only
	// when its length is not in the header.
	drain := int64(64 << 10)
	if method == http.MethodGet && resp.StatusCode == http.StatusOK && resp.ContentLength < 0 {
		drain = limit
	}
	a.bodyBytes, err = io.Copy(io.Discard, io.LimitReader(resp.Body, drain))
	if err != nil && resp.StatusCode == http.StatusOK && resp.ContentLength < 0 {
		return answer{}, fmt.Errorf("%s 200: read body: %w", method, err)
	}
	return a, nil
}

func statusError(method string, status int) error {
	return fmt.Errorf("%s %d %s", method, status, http.StatusText(status))
}

// rangeTotal returns the complete length from a Content-Range such as
// "bytes 0-0/5678" or "bytes */0".
func rangeTotal(cr string) (int64, bool) {
	unit, rest, ok := strings.Cut(cr, " ")
	if !ok || unit != "bytes" {
		return 0, false
	}
	_, total, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(total, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}
