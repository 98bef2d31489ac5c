package cmd

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/redis/rueidis"
	"github.com/spf13/pflag"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/api"
	"github.com/empplay/empplay/queue"
	"github.com/empplay/empplay/supervisor"
)

// apiFlags configure the HTTP API the supervisor serves on --http-addr.
type apiFlags struct {
	token       string
	maxWaiting  int
	waitTimeout time.Duration
	size        int
	origins     string
}

func (a *apiFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&a.token, "api-token", "", "bearer token the HTTP API requires; mandatory when --http-addr is not loopback (prefer the environment variable)")
	fs.IntVar(&a.maxWaiting, "api-max-waiting", 64, "requests that may wait for a result at once; more get 429")
	fs.DurationVar(&a.waitTimeout, "api-wait-timeout", 2*time.Minute, "longest an API request waits for its result (504 after)")
	fs.IntVar(&a.size, "api-size", 1024, "viewport of /api/screenshot and /api/video, which send no size (the picture is the sketch's canvas)")
	fs.StringVar(&a.origins, "api-origins", "", "comma-separated origins /api/v2/execute may fetch pages from, besides CDN_URI's and the storage endpoint's")
	bindEnv(fs, "api-token", "API_TOKEN")
	bindEnv(fs, "api-max-waiting", "API_MAX_WAITING")
	bindEnv(fs, "api-wait-timeout", "API_WAIT_TIMEOUT")
	bindEnv(fs, "api-size", "API_SIZE")
	bindEnv(fs, "api-origins", "ASSET_ORIGINS")
}

// check refuses to serve the API beyond loopback without a token.
func (a *apiFlags) check(addr string) error {
	if addr == "" || a.token != "" || isLoopback(addr) {
		return nil
	}
	return empplay.ConfigError(fmt.Errorf("--http-addr (HTTP_ADDR) %s is not loopback: set --api-token (API_TOKEN) so the HTTP API is not open to anyone", addr))
}

// isLoopback reports whether addr (host:port) listens on loopback only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// server builds the API over the queue; origins are the storage's own
// (CDN_URI, the blob endpoint) to which ASSET_ORIGINS are added.
func (a *apiFlags) server(rc rueidis.Client, queueName string, sup *supervisor.Supervisor, origins []string, logger *slog.Logger) (*api.Server, error) {
	for _, o := range strings.Split(a.origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			origins = append(origins, o)
		}
	}
	ready := func() bool {
		for _, s := range sup.Status() {
			if s.Ready {
				return true
			}
		}
		return false
	}
	srv, err := api.New(api.Config{
		Token: a.token, MaxWaiting: a.maxWaiting, WaitTimeout: a.waitTimeout, Size: a.size, Origins: origins,
	}, queue.NewClient(rc, queueName), ready, &http.Client{Timeout: 15 * time.Second}, logger)
	if err != nil {
		return nil, empplay.ConfigError(fmt.Errorf("--api-origins (ASSET_ORIGINS): %w", err))
	}
	return srv, nil
}
