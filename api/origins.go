package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/empplay/empplay"
)

// pageFetcher fetches the HTML pages of /api/v2/execute, only from the
// allowed origins, so the API cannot be turned into a proxy to anywhere.
type pageFetcher struct {
	origins map[string]bool
	client  *http.Client
}

func newPageFetcher(origins []string, client *http.Client) (*pageFetcher, error) {
	f := &pageFetcher{origins: map[string]bool{}}
	// A redirect must stay on an allowed origin too.
	c := *client
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return fmt.Errorf("%w: too many redirects", errBadRedirect)
		}
		if o, err := Origin(req.URL.String()); err != nil || !f.origins[o] {
			return fmt.Errorf("%w: redirect to %s: origin not allowed", errBadRedirect, req.URL.Redacted())
		}
		return nil
	}
	f.client = &c
	for _, o := range origins {
		if o == "" {
			continue
		}
		n, err := Origin(o)
		if err != nil {
			return nil, err
		}
		f.origins[n] = true
	}
	return f, nil
}

// errBadRedirect is a redirect the page's URL may not follow: the
// request's fault, not the server's.
var errBadRedirect = errors.New("refused redirect")

// Origin returns the origin (scheme://host[:port], lowercase) of URL u.
func Origin(u string) (string, error) {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return "", fmt.Errorf("%q is not an http(s) URL", u)
	}
	return strings.ToLower(p.Scheme + "://" + p.Host), nil
}

// Fetch returns the page at u, at most MaxCodeBytes of it. A page the
// origin refuses (4xx) or may not serve is the request's fault
// (invalid_field, 400); an origin that does not answer, in time or at all,
// or fails (5xx) is the infrastructure's (cdn_error, 502, retryable), and
// its cause goes to the log only.
func (f *pageFetcher) Fetch(ctx context.Context, u string) ([]byte, error) {
	o, err := Origin(u)
	if err != nil {
		return nil, empplay.Errorf(empplay.CodeInvalidField, "field \"file\": %v", err)
	}
	if !f.origins[o] {
		return nil, empplay.Errorf(empplay.CodeInvalidField, "field \"file\": origin %s is not allowed (CDN_URI, the storage endpoint and ASSET_ORIGINS are)", o)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, empplay.Errorf(empplay.CodeInvalidField, "field \"file\": %v", err)
	}
	resp, err := f.client.Do(req)
	if errors.Is(err, errBadRedirect) {
		return nil, empplay.Errorf(empplay.CodeInvalidField, "field \"file\": fetch %s: %v", u, errors.Unwrap(err))
	}
	if err != nil {
		return nil, unavailable(u, "did not answer", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return nil, unavailable(u, "answered "+resp.Status, nil)
	case resp.StatusCode != http.StatusOK:
		return nil, empplay.Errorf(empplay.CodeInvalidField, "field \"file\": %s answered %s", u, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, empplay.MaxCodeBytes+1))
	if err != nil {
		return nil, unavailable(u, "broke off its answer", err)
	}
	if len(body) > empplay.MaxCodeBytes {
		return nil, empplay.Errorf(empplay.CodeCodeTooLarge, "field \"file\": the page is over %d bytes", empplay.MaxCodeBytes)
	}
	return body, nil
}

// unavailable is the retryable failure of an origin that did not serve
// the page u: what says so to the client, and cause for the log.
func unavailable(u, what string, cause error) error {
	return &empplay.Error{Code: empplay.CodeCDNError, Retryable: true, Err: cause,
		Msg: fmt.Sprintf("field \"file\": %s %s; try again later", u, what)}
}
