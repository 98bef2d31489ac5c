package fetcher

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
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
			return fmt.Errorf("more than %d redirects", maxRedirects)
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
	return f.get(ctx, u, f.maxFile, 0)
}

// get fetches u, refusing more than limit bytes; jobMax is the job's total
// cap when limit is what is left of it (for the message), else 0.
func (f *Fetcher) get(ctx context.Context, u string, limit, jobMax int64) (File, error) {
	if err := f.origins.Check(u); err != nil {
		return File{}, empplay.Errorf(empplay.CodeNetworkBlocked, "asset %v", err)
	}
	if f.cache != nil {
		if body, typ, ok := f.cache.Get(u); ok && int64(len(body)) <= limit {
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
		return File{}, tooLarge(u, resp.ContentLength, limit, jobMax)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return File{}, f.transportError(ctx, u, err)
	}
	if int64(len(body)) > limit {
		return File{}, tooLarge(u, -1, limit, jobMax)
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

// transportError turns a failed request into the job's failure: timeouts
// and broken connections are retryable, a refused redirect is not.
func (f *Fetcher) transportError(ctx context.Context, u string, err error) error {
	var netErr net.Error
	var redirect *redirectError
	switch {
	case errors.As(err, &redirect):
		return unavailable(u, false, "%s", redirect)
	case ctx.Err() != nil || errors.As(err, &netErr) && netErr.Timeout():
		return unavailable(u, true, "no answer in time (at most %s per file, and the job's own limit)", f.timeout)
	}
	return unavailable(u, true, "%s", unwrapURLError(err))
}

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
		Msg:       "asset " + redact(u) + " could not be fetched: " + fmt.Sprintf(format, args...),
		Retryable: retryable,
	}
	return e
}

func tooLarge(u string, size, limit, jobMax int64) error {
	got := "more than " + strconv.FormatInt(limit, 10)
	if size > 0 {
		got = strconv.FormatInt(size, 10)
	}
	if jobMax > 0 {
		return unavailable(u, false, "it is %s bytes, and the job's assets would be over their limit of %d bytes in total", got, jobMax)
	}
	return unavailable(u, false, "it is %s bytes, over the limit of %d bytes per file", got, limit)
}
