package fetcher

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Origins is the set of origins files may be fetched from. The zero value
// allows nothing.
type Origins struct {
	set map[string]bool
}

// NewOrigins returns the set of the origins of urls (each a URL or a bare
// origin such as https://cdn.example.com). Empty entries are skipped.
func NewOrigins(urls ...string) (Origins, error) {
	o := Origins{set: make(map[string]bool)}
	for _, u := range urls {
		if strings.TrimSpace(u) == "" {
			continue
		}
		n, err := Origin(u)
		if err != nil {
			return Origins{}, fmt.Errorf("allowed origin: %w", err)
		}
		o.set[n] = true
	}
	return o, nil
}

// ParseList splits a comma- or space-separated list such as ASSET_ORIGINS.
func ParseList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}

// Allows reports whether u is an http(s) URL on one of the origins.
func (o Origins) Allows(u string) bool {
	n, err := Origin(u)
	return err == nil && o.set[n]
}

// Check returns an error naming u when it may not be fetched.
func (o Origins) Check(u string) error {
	n, err := Origin(u)
	if err != nil {
		return err
	}
	if !o.set[n] {
		return fmt.Errorf("%s is not on an allowed origin (%s is not among %s)", Redact(u), n, o)
	}
	return nil
}

// String lists the origins, sorted, for messages.
func (o Origins) String() string {
	if len(o.set) == 0 {
		return "none"
	}
	list := make([]string, 0, len(o.set))
	for k := range o.set {
		list = append(list, k)
	}
	slices.Sort(list)
	return strings.Join(list, ", ")
}

// Origin returns the origin of u (scheme://host[:port], lower case,
// without a default port), or an error when u is not an absolute http(s)
// URL.
func Origin(u string) (string, error) {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.User != nil {
		return "", fmt.Errorf("%q is not an http(s) URL", Redact(u))
	}
	host := strings.ToLower(p.Hostname())
	port := p.Port()
	if (p.Scheme == "http" && port == "80") || (p.Scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return strings.ToLower(p.Scheme) + "://" + host, nil
}

// Redact drops a URL's query (SAS tokens live there) and user info, for
// messages and logs.
func Redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		if i := strings.IndexAny(u, "?#"); i >= 0 {
			return u[:i]
		}
		return u
	}
	p.User = nil
	if p.RawQuery != "" {
		p.RawQuery = "..."
	}
	p.Fragment = ""
	return p.String()
}
