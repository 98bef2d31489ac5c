package cmd

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/empplay/empplay"
)

// readyPath is the supervisor's readiness endpoint (see serveHTTP).
const readyPath = "/readyz"

func newHealthcheckCmd(env *Env) *cobra.Command {
	var addr string
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "healthcheck [URL]",
		Short: "Exit 0 when the supervisor on this host is ready (for container health checks)",
		Long: `healthcheck GETs URL, by default /readyz of the supervisor listening on
--http-addr (HTTP_ADDR; an unspecified host such as 0.0.0.0 is reached on
loopback), and exits 0 on a 2xx answer, 1 otherwise. It is the image's
HEALTHCHECK: the image has no curl, and a supervisor that is alive but has no
ready worker or no Redis answers 503.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			url := ""
			if len(args) == 1 {
				url = args[0]
			} else {
				u, err := readyURL(addr)
				if err != nil {
					return empplay.ConfigError(fmt.Errorf("--http-addr (HTTP_ADDR): %w", err))
				}
				url = u
			}
			ctx, cancel := context.WithTimeout(c.Context(), timeout)
			defer cancel()
			return healthcheck(ctx, url, c.OutOrStdout())
		},
	}
	fs := c.Flags()
	fs.StringVar(&addr, "http-addr", "127.0.0.1:9464", "address the supervisor serves /readyz on")
	fs.DurationVar(&timeout, "timeout", 3*time.Second, "how long to wait for the answer")
	bindEnv(fs, "http-addr", "HTTP_ADDR")
	return c
}

// readyURL is the /readyz URL of a supervisor listening on addr.
func readyURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	return "http://" + net.JoinHostPort(host, port) + readyPath, nil
}

// healthcheck GETs url and fails unless the answer is 2xx.
func healthcheck(ctx context.Context, url string, out io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return empplay.ConfigError(fmt.Errorf("healthcheck: %w", err))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("healthcheck: %s answered %s: %s", url, resp.Status, body)
	}
	fmt.Fprintf(out, "%s %s\n", url, resp.Status)
	return nil
}
