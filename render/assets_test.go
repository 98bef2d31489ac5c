package render

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
)

func TestAssetServer(t *testing.T) {
	t.Parallel()
	s, err := startAssets(func(major string) ([]byte, error) {
		if major == "1" || major == "2" {
			return []byte("/* p5 " + major + " */"), nil
		}
		return nil, errors.New("no such p5")
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	base := fmt.Sprintf("http://%s:%d", assetHost, s.port())
	for _, tc := range []struct {
		pageURL, want string
	}{
		{p5URL("1"), base + "/p5@1.min.js"},
		{p5URL("2"), base + "/p5@2.min.js"},
		{"https://j0123456789abcdef.invalid" + sketchPath, ""},
		{"https://example.com/p5@1.min.js", ""},
	} {
		if got := s.url(tc.pageURL); got != tc.want {
			t.Errorf("url(%q) = %q, want %q", tc.pageURL, got, tc.want)
		}
	}
	// Over loopback (the browser reaches it through its resolver rule).
	local := fmt.Sprintf("http://127.0.0.1:%d", s.port())
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/p5@1.min.js", 200, "/* p5 1 */"},
		{"/p5@2.min.js", 200, "/* p5 2 */"},
		{"/p5@3.min.js", 404, ""},
		{"/sketch.js", 404, ""},
		{"/", 404, ""},
	} {
		resp, err := http.Get(local + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || (tc.body != "" && string(b) != tc.body) {
			t.Errorf("GET %s: %d %q, want %d %q", tc.path, resp.StatusCode, b, tc.status, tc.body)
		}
	}
	if r := s.resolverRule(); r != fmt.Sprintf("MAP %s 127.0.0.1:%d", assetHost, s.port()) {
		t.Errorf("resolverRule = %q", r)
	}
}
