package render

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// assetHost is the name Chromium's host resolver maps to the asset server
// (and nothing else: every other name maps to nothing). Pages never see
// it: the Fetch interception continues their requests for p5.js to it.
const assetHost = "assets.empplay.invalid"

// assetServer serves the p5.js builds to the browser over loopback HTTP.
// Fulfilling a request through the DevTools protocol sends the body as
// base64 in a JSON message, which for a 1 MB script costs the browser more
// than parsing it; a continued request costs a URL.
type assetServer struct {
	ln  net.Listener
	srv *http.Server
}

// startAssets serves body(major) at /p5@<major>.min.js on a free loopback
// port.
func startAssets(body func(major string) ([]byte, error)) (*assetServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("render: asset server: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{file}", func(w http.ResponseWriter, r *http.Request) {
		major, ok := strings.CutPrefix(r.PathValue("file"), "p5@")
		major, ok2 := strings.CutSuffix(major, ".min.js")
		if !ok || !ok2 {
			http.NotFound(w, r)
			return
		}
		b, err := body(major)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		// Pages load p5 with CORS (see p5Tag), from their own origins.
		w.Header().Set("Access-Control-Allow-Origin", "*")
		_, _ = w.Write(b)
	})
	s := &assetServer{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// port is the server's loopback port.
func (s *assetServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// url is where the browser gets the asset a page knows as pageURL (one of
// the page's p5URL), "" for any other URL.
func (s *assetServer) url(pageURL string) string {
	if s == nil || !strings.HasPrefix(pageURL, assetOrigin+"/p5@") {
		return ""
	}
	return fmt.Sprintf("http://%s:%d%s", assetHost, s.port(), strings.TrimPrefix(pageURL, assetOrigin))
}

// resolverRule maps assetHost to the server, ahead of the rule that maps
// every other name to nothing.
func (s *assetServer) resolverRule() string {
	return fmt.Sprintf("MAP %s 127.0.0.1:%d", assetHost, s.port())
}

func (s *assetServer) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
