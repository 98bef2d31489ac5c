package fetcher

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/empplay/empplay"
)

// Defaults of [Config].
const (
	DefaultFileTimeout = 15 * time.Second
	DefaultMaxFile     = 25 << 20  // 25 MiB per file
	DefaultMaxJob      = 100 << 20 // 100 MiB per job
	DefaultJobTimeout  = 30 * time.Second
	maxRedirects       = 5
)

// Config sets up a [Fetcher].
type Config struct {
	// Origins files may come from. Required (the zero value allows none).
	Origins Origins
	// Client makes the requests; nil means a plain http.Client. Its
	// CheckRedirect is replaced (redirects must stay on Origins).
	Client *http.Client
	// Cache keeps fetched files; nil fetches every time.
	Cache *Cache
	// FileTimeout bounds one file's fetch. Default [DefaultFileTimeout].
	FileTimeout time.Duration
	// MaxFile caps one file's size in bytes. Default [DefaultMaxFile].
	MaxFile int64
}

// Fetcher gets files from allowed origins, through its cache. It is safe
// for concurrent use.
type Fetcher struct {
	origins Origins
	client  *http.Client
	cache   *Cache
	timeout time.Duration
	maxFile int64

	hits, misses atomic.Int64
}

// File is one fetched file.
type File struct {
	Body        []byte
	ContentType string
	// Cached is true when the file came from the cache.
	Cached bool
}

// New returns a Fetcher for cfg.
func New(cfg Config) *Fetcher {
	f := &Fetcher{origins: cfg.Origins, cache: cfg.Cache, timeout: cfg.FileTimeout, maxFile: cfg.MaxFile}
	if f.timeout <= 0 {
		f.timeout = DefaultFileTimeout
	}
	if f.maxFile <= 0 {
		f.maxFile = DefaultMaxFile
	}
	c := http.Client{}
	if cfg.Client != nil {
		c = *cfg.Client
	}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return errTooManyRedirects
		}
		if err := f.origins.Check(req.URL.String()); err != nil {
			return &redirectError{err}
		}
		return nil
	}
	f.client = &c
	return f
}

// Origins returns the origins f fetches from, for validating jobs.
func (f *Fetcher) Origins() Origins { return f.origins }

// Stats returns the cache hits and misses since f was made.
func (f *Fetcher) Stats() (hits, misses int64) { return f.hits.Load(), f.misses.Load() }

// Get returns the file at u, from the cache when it holds it. Errors are
// [*empplay.Error]s with [empplay.CodeAssetUnavailable] naming u.
func (f *Fetcher) Get(ctx context.Context, u string) (File, error) {
	return f.get(ctx, u, nil)
}

// meter charges one job's budget for the bytes of its files as they
// arrive, so that files fetched at the same time never hold more than the
// budget between them.
type meter interface {
	// charge adds n bytes and reports true, or adds nothing and reports
	// false when that would pass the job's limit.
	charge(n int64) bool
	refund(n int64)
	limit() int64
}

// readChunk is how much of a body is read (and charged) at a time.
const readChunk = 64 << 10

// get fetches u, refusing more than the per-file limit, and charges its
// bytes to m (nil: no job budget).
func (f *Fetcher) get(ctx context.Context, u string, m meter) (File, error) {
	if err := f.origins.Check(u); err != nil {
		return File{}, empplay.Errorf(empplay.CodeNetworkBlocked, "asset %v", err)
	}
	limit := f.maxFile
	if f.cache != nil {
		if body, typ, ok := f.cache.Get(u); ok && int64(len(body)) <= limit {
			if m != nil && !m.charge(int64(len(body))) {
				return File{}, overJob(u, int64(len(body)), m.limit())
			}
			f.hits.Add(1)
			return File{Body: body, ContentType: typ, Cached: true}, nil
		}
	}
	f.misses.Add(1)
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return File{}, unavailable(u, false, "%v", err)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return File{}, f.transportError(ctx, u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return File{}, unavailable(u, resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests,
			"the server answered %s", resp.Status)
	}
	if resp.ContentLength > limit {
		return File{}, tooLarge(u, resp.ContentLength, limit)
	}
	body, err := f.read(ctx, u, resp, limit, m)
	if err != nil {
		return File{}, err
	}
	typ := resp.Header.Get("Content-Type")
	if typ == "" {
		typ = http.DetectContentType(body)
	}
	if f.cache != nil && cacheable(resp.Header) {
		// A failed store costs a later fetch, never this job.
		_ = f.cache.Put(u, typ, body)
	}
	return File{Body: body, ContentType: typ}, nil
}

// read reads resp's body, at most limit bytes, charging m as it goes: the
// whole declared length at once when the server sent one, else each piece
// as it arrives. On an error nothing stays charged.
func (f *Fetcher) read(ctx context.Context, u string, resp *http.Response, limit int64, m meter) ([]byte, error) {
	var charged int64
	fail := func(err error) ([]byte, error) {
		if m != nil {
			m.refund(charged)
		}
		return nil, err
	}
	var body []byte
	if resp.ContentLength > 0 {
		if m != nil && !m.charge(resp.ContentLength) {
			return nil, overJob(u, resp.ContentLength, m.limit())
		}
		charged = resp.ContentLength
		body = make([]byte, 0, resp.ContentLength)
	}
	for {
		if len(body) == cap(body) {
			body = slices.Grow(body, readChunk)
		}
		n, err := resp.Body.Read(body[len(body):min(cap(body), len(body)+readChunk)])
		body = body[:len(body)+n]
		if int64(len(body)) > limit {
			return fail(tooLarge(u, -1, limit))
		}
		if m != nil && int64(len(body)) > charged {
			if !m.charge(int64(len(body)) - charged) {
				return fail(overJob(u, -int64(len(body)), m.limit()))
			}
			charged = int64(len(body))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(f.transportError(ctx, u, err))
		}
	}
	if m != nil && charged > int64(len(body)) {
		m.refund(charged - int64(len(body)))
	}
	return body, nil
}

// transportError turns a failed request into the job's failure: timeouts
// and broken connections are retryable; what another attempt would meet
// again is not: a refused redirect, a redirect loop, a certificate the
// host does not trust, a host name that does not exist.
func (f *Fetcher) transportError(ctx context.Context, u string, err error) error {
	var (
		netErr   net.Error
		redirect *redirectError
		dnsErr   *net.DNSError
		certErr  *tls.CertificateVerificationError // what a failed verification is, whatever the reason
	)
	switch {
	case errors.As(err, &redirect):
		return unavailable(u, false, "%s", redirect)
	case errors.Is(err, errTooManyRedirects):
		return unavailable(u, false, "%s", errTooManyRedirects)
	case ctx.Err() != nil || errors.As(err, &netErr) && netErr.Timeout():
		return unavailable(u, true, "no answer in time (at most %s per file, and the job's own limit)", f.timeout)
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound,
		errors.As(err, &certErr):
		return unavailable(u, false, "%s", unwrapURLError(err))
	}
	return unavailable(u, true, "%s", unwrapURLError(err))
}

// errTooManyRedirects ends a chain of more than maxRedirects redirects.
var errTooManyRedirects = fmt.Errorf("more than %d redirects", maxRedirects)

// redirectError is a redirect off the allowed origins.
type redirectError struct{ err error }

func (e *redirectError) Error() string { return "redirected to " + e.err.Error() }

// unwrapURLError drops net/url's "Get \"URL\": " prefix, which would
// repeat the URL with its query.
func unwrapURLError(err error) string {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner.Error()
		}
	}
	return err.Error()
}

// cacheable reports whether a response may be stored: not when the
// source says no-store.
func cacheable(h http.Header) bool {
	for _, v := range h.Values("Cache-Control") {
		for _, d := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(d), "no-store") {
				return false
			}
		}
	}
	return true
}

func unavailable(u string, retryable bool, format string, args ...any) error {
	e := &empplay.Error{
		Code:      empplay.CodeAssetUnavailable,
		Msg:       "asset " + Redact(u) + " could not be fetched: " + fmt.Sprintf(format, args...),
		Retryable: retryable,
	}
	return e
}

func tooLarge(u string, size, limit int64) error {
	got := "more than " + strconv.FormatInt(limit, 10)
	if size > 0 {
		got = strconv.FormatInt(size, 10)
	}
	return unavailable(u, false, "it is %s bytes, over the limit of %d bytes per file", got, limit)
}

// overJob is the failure of a file that would take the job's assets over
// their limit: size is its length, or minus what had arrived of it when
// the server sent none.
func overJob(u string, size, jobMax int64) error {
	got := strconv.FormatInt(size, 10)
	if size <= 0 {
		got = "more than " + strconv.FormatInt(-size, 10)
	}
	return unavailable(u, false, "it is %s bytes, and the job's assets would be over their limit of %d bytes in total", got, jobMax)
}
