package empplay

import (
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Limits of the assets field.
const (
	MaxAssets       = 256  // entries in "assets"
	maxAssetNameLen = 1024 // bytes of one name
	maxAssetURLLen  = 4096 // bytes of one source URL
)

// checkAssets checks the syntax of the assets field. Whether a source is on
// an allowed origin is the worker's setting, checked by the worker before
// any fetch (see package fetcher).
func (j *Job) checkAssets() error {
	if len(j.Assets) > MaxAssets {
		return Errorf(CodeInvalidField, "field \"assets\" has %d entries; the limit is %d", len(j.Assets), MaxAssets)
	}
	names := make([]string, 0, len(j.Assets))
	for name := range j.Assets {
		names = append(names, name)
	}
	slices.Sort(names) // the same job gives the same message
	for _, name := range names {
		src := j.Assets[name]
		switch {
		case strings.Trim(name, " ") == "" || len(name) > maxAssetNameLen || strings.ContainsFunc(name, isControl):
			return Errorf(CodeInvalidField, "field \"assets\": %q is not a usable name (1-%d bytes, not only spaces, no control characters)", shorten(name), maxAssetNameLen)
		case schemePrefix.MatchString(name) && !isHTTPURL(name):
			return Errorf(CodeInvalidField, "field \"assets\": name %q must be a path or an http(s) URL", shorten(name))
		case len(src) > maxAssetURLLen || !isHTTPURL(src):
			return Errorf(CodeInvalidField, "field \"assets\": the source of %q must be an http(s) URL, got %q", shorten(name), shorten(src))
		}
	}
	// The components' nodeResponse.src are the platform's, passed through
	// as given: the worker checks them against its allowed origins.
	return nil
}

// ComponentSources returns the nodeResponse.src of every component in the
// job's context (the URLs getComponentOutput hands out), in order.
func (j *Job) ComponentSources() []string {
	if j.Context == nil || len(j.Context.Components) == 0 {
		return nil
	}
	var list []struct {
		NodeResponse struct {
			Src any `json:"src"`
		} `json:"nodeResponse"`
	}
	if json.Unmarshal(j.Context.Components, &list) != nil {
		return nil
	}
	var out []string
	for _, c := range list {
		if s, ok := c.NodeResponse.Src.(string); ok && s != "" {
			out = append(out, s)
		}
	}
	return out
}

// SourceURLs returns every URL the job is entitled to have fetched: the
// component outputs and the sources of its assets, sorted, without
// duplicates.
func (j *Job) SourceURLs() []string {
	out := j.ComponentSources()
	for _, src := range j.Assets {
		out = append(out, src)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil
}

// schemePrefix matches a name that starts with a URL scheme ("data:",
// "javascript:", "https:"): such a name must be an http(s) URL.
var schemePrefix = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// shorten keeps messages readable when a field is huge.
func shorten(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}
