// This file is what one job's page may load besides its own files: the
// assets the job declared and the outputs of earlier workflow steps, each
// fetched by the worker (package fetcher), never by the page.

package render

import (
	"context"
	"encoding/base64"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/fetcher"
)

// AssetLimits bound what one job's assets may cost. Zero values take the
// fetcher's defaults (100 MiB and 30 s per job).
type AssetLimits struct {
	// JobBytes caps the bytes of all of a job's files together.
	JobBytes int64
	// JobTimeout bounds the fetches of one job together.
	JobTimeout time.Duration
}

// pageAssets maps the URLs a page may request to the sources the worker
// fetches them from. A nil *pageAssets allows nothing.
type pageAssets struct {
	// byPath holds names that live at the page's own origin, keyed by
	// path and query ("/data/tile.png"); byURL holds full URLs.
	byPath map[string]string
	byURL  map[string]string
	budget *fetcher.Budget

	// served counts the bytes handed to the page, every request of the
	// same file again: the budget charges a file once, but each answer is
	// a copy in the browser process, which no job's memory limit watches.
	served, maxServed, jobBytes int64

	mu     sync.Mutex
	failed error                   // the first file that could not be fetched
	used   map[string]fetcher.File // by source URL, for the HTML export
}

// servedFactor is how many times the job's byte budget its page may be
// handed in all, files asked for again included.
const servedFactor = 2

// newPageAssets resolves the job's declared names against the page's path
// (docPath, where every job's document lives) the way the browser resolves
// them, and adds the component outputs under their own URLs. It returns
// nil for a job that may load nothing.
func newPageAssets(job *empplay.Job, f *fetcher.Fetcher, limits AssetLimits) *pageAssets {
	comps := job.ComponentSources()
	if f == nil || (len(job.Assets) == 0 && len(comps) == 0) {
		return nil
	}
	jobBytes := limits.JobBytes
	if jobBytes <= 0 {
		jobBytes = fetcher.DefaultMaxJob
	}
	a := &pageAssets{byPath: map[string]string{}, byURL: map[string]string{}, budget: f.Budget(limits.JobBytes, limits.JobTimeout),
		maxServed: servedFactor * jobBytes, jobBytes: jobBytes}
	base := &url.URL{Scheme: "https", Host: "page.invalid", Path: docPath}
	for name, src := range job.Assets {
		if isAbsoluteURL(name) {
			a.addURL(name, src)
			continue
		}
		ref, err := url.Parse(name)
		if err != nil {
			continue // Validate refused it already
		}
		u := base.ResolveReference(ref)
		if u.Host != base.Host {
			// "//cdn.example/a.png": a URL of another host, in the
			// page's scheme.
			a.addURL(u.String(), src)
			continue
		}
		a.byPath[u.EscapedPath()+query(u)] = src
	}
	for _, src := range comps {
		a.addURL(src, src)
	}
	return a
}

// addURL allows the full URL name. The page is https, so the browser
// upgrades an http image to https before anyone sees the request (mixed
// content): the https form is allowed too.
func (a *pageAssets) addURL(name, src string) {
	u, err := url.Parse(name)
	if err != nil {
		return
	}
	u.Host = strings.ToLower(u.Host)
	u.Fragment = ""
	a.byURL[u.String()] = src
	if u.Scheme == "http" {
		u.Scheme = "https"
		a.byURL[u.String()] = src
	}
}

func isAbsoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && u.Host != ""
}

func query(u *url.URL) string {
	if u.RawQuery == "" {
		return ""
	}
	return "?" + u.RawQuery
}

// source returns the URL to fetch for a request of the page at origin.
func (a *pageAssets) source(origin, reqURL string) (string, bool) {
	if a == nil {
		return "", false
	}
	if i := strings.IndexByte(reqURL, '#'); i >= 0 {
		reqURL = reqURL[:i]
	}
	if rest, ok := strings.CutPrefix(reqURL, origin); ok && strings.HasPrefix(rest, "/") {
		src, ok := a.byPath[rest]
		return src, ok
	}
	src, ok := a.byURL[reqURL]
	return src, ok
}

// get fetches src within the job's budget and remembers the first
// failure, which becomes the job's.
func (a *pageAssets) get(ctx context.Context, src string) (fetcher.File, error) {
	file, err := a.budget.Get(ctx, src)
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case err != nil && a.failed == nil:
		a.failed = err
	case err == nil:
		if a.used == nil {
			a.used = map[string]fetcher.File{}
		}
		a.used[src] = file
	}
	return file, err
}

// charge counts n bytes of src handed to the page (all of it, or the
// range a request asked for) and fails, as the job's failure, once the
// page has been handed more than maxServed in all.
func (a *pageAssets) charge(src string, n int64) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.served += n
	if a.served <= a.maxServed {
		return nil
	}
	err := empplay.Errorf(empplay.CodeAssetUnavailable,
		"asset %s: the page asked for its files again and again, more than %d MiB in all (twice ASSET_MAX_JOB_MB, %d MiB); load each file once and keep it",
		fetcher.Redact(src), a.maxServed>>20, a.jobBytes>>20)
	if a.failed == nil {
		a.failed = err
	}
	return err
}

// err is the first file the page asked for and could not get.
func (a *pageAssets) err() error {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.failed
}

// stats says how many files came from the cache and from the network.
func (a *pageAssets) stats() (hits, misses int) {
	if a == nil {
		return 0, 0
	}
	hits, misses, _ = a.budget.Stats()
	return hits, misses
}

// inline returns the declared names the page loaded, each with its file as
// a data: URL, for a self-contained export (see exportJS).
func (a *pageAssets) inline(job *empplay.Job) map[string]string {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]string{}
	for name, src := range job.Assets {
		if f, ok := a.used[src]; ok {
			out[name] = "data:" + f.ContentType + ";base64," + base64.StdEncoding.EncodeToString(f.Body)
		}
	}
	return out
}
