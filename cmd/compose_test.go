package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/testenv"
	"github.com/empplay/empplay/queue"
	"github.com/empplay/empplay/supervisor"
)

// composeFile is the part of compose.yaml the checks read.
type composeFile struct {
	Services map[string]struct {
		Image string `yaml:"image"`
		Build *struct {
			Context    string `yaml:"context"`
			Dockerfile string `yaml:"dockerfile"`
		} `yaml:"build"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Ports       []string          `yaml:"ports"`
		DependsOn   map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
		Healthcheck *struct {
			Test    []string `yaml:"test"`
			Disable bool     `yaml:"disable"`
		} `yaml:"healthcheck"`
	} `yaml:"services"`
}

// dockerfile is the final stage of the Dockerfile, as the checks need it.
type dockerfile struct {
	env         map[string]string
	entrypoint  []string
	cmd         []string
	healthcheck []string // the exec form after HEALTHCHECK [options] CMD
	copies      []string // COPY lines of the final stage
}

func readCompose(t *testing.T, root string) composeFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	dec := yaml.NewDecoder(strings.NewReader(interpolate(t, string(b))))
	dec.KnownFields(false)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return c
}

// composeVars stand for what an operator puts in .env.
var composeVars = map[string]string{"REDIS_PASSWORD": "redis-secret", "API_TOKEN": "api-secret"}

// interpolate substitutes ${VAR}, ${VAR:-default} and ${VAR:?message} as
// compose does, with [composeVars] for the environment; a required
// variable the test does not know fails it.
func interpolate(t *testing.T, s string) string {
	t.Helper()
	re := regexp.MustCompile(`\$\{([A-Z0-9_]+)(?:(:-|:\?)([^}]*))?\}`)
	return re.ReplaceAllStringFunc(s, func(m string) string {
		p := re.FindStringSubmatch(m)
		if v := composeVars[p[1]]; v != "" {
			return v
		}
		switch p[2] {
		case ":-":
			return p[3]
		case ":?":
			t.Fatalf("compose.yaml requires %s (%s); add it to composeVars", p[1], p[3])
		}
		return ""
	})
}

func readDockerfile(t *testing.T, path string) dockerfile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	var d dockerfile
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instr, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		execForm := func(s string) []string {
			var v []string
			if err := json.Unmarshal([]byte(s), &v); err != nil {
				t.Fatalf("Dockerfile: %s %s: want the exec (JSON) form: %v", instr, s, err)
			}
			return v
		}
		switch strings.ToUpper(instr) {
		case "FROM": // only the last stage is the image
			d = dockerfile{env: map[string]string{}}
		case "ENV":
			for _, kv := range strings.Fields(rest) {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					t.Fatalf("Dockerfile: ENV %q: want KEY=VALUE", kv)
				}
				d.env[k] = v
			}
		case "ENTRYPOINT":
			d.entrypoint = execForm(rest)
		case "CMD":
			d.cmd = execForm(rest)
		case "COPY":
			d.copies = append(d.copies, rest)
		case "HEALTHCHECK":
			_, form, ok := strings.Cut(rest, " CMD ")
			if !ok {
				t.Fatalf("Dockerfile: HEALTHCHECK %s: want [options] CMD [...]", rest)
			}
			d.healthcheck = execForm(strings.TrimSpace(form))
		}
	}
	return d
}

// readmeEnv returns the variables of the README's configuration table.
func readmeEnv(t *testing.T, root string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([A-Z0-9_]+)` \\| `--[a-z0-9-]+` \\|")
	out := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		out[m[1]] = true
	}
	if len(out) < 20 {
		t.Fatalf("found %d rows in the README's configuration table; has its format changed?", len(out))
	}
	return out
}

// flagEnv returns every environment variable a flag of the command line
// reads, and the flag of each.
func flagEnv(root *cobra.Command) map[string]*pflag.Flag {
	out := map[string]*pflag.Flag{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		visit := func(f *pflag.Flag) {
			for _, e := range f.Annotations[envAnnotation] {
				out[e] = f
			}
		}
		c.Flags().VisitAll(visit)
		c.PersistentFlags().VisitAll(visit)
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	return out
}

// hostPort splits the port mapping "ip:host:container" of compose.
func hostPort(t *testing.T, mapping string) (ip, host, container string) {
	t.Helper()
	parts := strings.Split(mapping, ":")
	if len(parts) != 3 {
		t.Fatalf("port %q: want IP:HOST:CONTAINER so it is published on one address only", mapping)
	}
	return parts[0], parts[1], parts[2]
}

// TestComposeMatchesBinary checks compose.yaml against the Dockerfile, the
// README and the binary (there is no container engine to run it here):
// services and health checks, that every variable it sets is one the
// binary reads and the README documents, loopback-only ports that match
// HTTP_ADDR, and that the image's command is a real subcommand.
func TestComposeMatchesBinary(t *testing.T) {
	root := testenv.RepoRoot(t)
	c := readCompose(t, root)
	cli := newRoot(&Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }})
	flags := flagEnv(cli)
	documented := readmeEnv(t, root)

	for _, name := range []string{"redis", "azurite", "empplay"} {
		s, ok := c.Services[name]
		if !ok {
			t.Fatalf("compose.yaml has no service %q", name)
		}
		if s.Healthcheck == nil || s.Healthcheck.Disable || len(s.Healthcheck.Test) < 2 {
			t.Errorf("service %s has no health check", name)
		}
		for _, p := range s.Ports {
			if ip, _, _ := hostPort(t, p); net.ParseIP(ip) == nil || !net.ParseIP(ip).IsLoopback() {
				t.Errorf("service %s publishes %q beyond loopback", name, p)
			}
		}
	}
	app := c.Services["empplay"]
	for _, dep := range []string{"redis", "azurite"} {
		if got := app.DependsOn[dep].Condition; got != "service_healthy" {
			t.Errorf("empplay depends_on %s with condition %q; want service_healthy", dep, got)
		}
	}
	if app.Build == nil || app.Build.Dockerfile == "" {
		t.Fatal("service empplay is not built from the Dockerfile")
	}
	df := readDockerfile(t, filepath.Join(root, app.Build.Context, app.Build.Dockerfile))

	t.Run("every variable is read by the binary and documented", func(t *testing.T) {
		vars := map[string]string{}
		for k := range df.env {
			vars[k] = "Dockerfile ENV"
		}
		for k := range app.Environment {
			vars[k] = "compose.yaml"
		}
		for k, where := range vars {
			if flags[k] == nil {
				t.Errorf("%s sets %s, which no flag of empplay reads", where, k)
			}
			if !documented[k] {
				t.Errorf("%s sets %s, which the README's configuration table does not list", where, k)
			}
		}
	})

	t.Run("URLs name the services and their ports", func(t *testing.T) {
		published := func(svc string) []string {
			var ports []string
			for _, p := range c.Services[svc].Ports {
				_, _, cp := hostPort(t, p)
				ports = append(ports, cp)
			}
			return ports
		}
		for _, raw := range []string{
			app.Environment["REDIS_URL"],
			app.Environment["CDN_URI"],
			regexp.MustCompile(`BlobEndpoint=([^;]+)`).FindStringSubmatch(app.Environment["AZURE_STORAGE_CONNECTION_STRING"])[1],
		} {
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatalf("%q: %v", raw, err)
			}
			if _, ok := c.Services[u.Hostname()]; !ok {
				t.Errorf("%s: host %q is not a service", raw, u.Hostname())
				continue
			}
			if !slices.Contains(published(u.Hostname()), u.Port()) {
				t.Errorf("%s: port %s is not the port service %s listens on %v", raw, u.Port(), u.Hostname(), published(u.Hostname()))
			}
		}
		if _, err := queue.Options(app.Environment["REDIS_URL"]); err != nil {
			t.Errorf("REDIS_URL: %v", err)
		}
	})

	t.Run("the published port is HTTP_ADDR's", func(t *testing.T) {
		sup, _, err := cli.Find([]string{"supervise"})
		if err != nil {
			t.Fatal(err)
		}
		_, defPort, err := net.SplitHostPort(sup.Flags().Lookup("http-addr").DefValue)
		if err != nil {
			t.Fatal(err)
		}
		addr := app.Environment["HTTP_ADDR"]
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatalf("HTTP_ADDR %q: %v", addr, err)
		}
		if port != defPort {
			t.Errorf("HTTP_ADDR port %s; want the default %s that operators and dashboards expect", port, defPort)
		}
		if len(app.Ports) != 1 {
			t.Fatalf("empplay publishes %v; want one port", app.Ports)
		}
		_, hp, cp := hostPort(t, app.Ports[0])
		if cp != port || hp != port {
			t.Errorf("empplay publishes %s; want %s:%s (HTTP_ADDR %s)", app.Ports[0], port, port, addr)
		}
		if net.ParseIP(host) == nil {
			t.Errorf("HTTP_ADDR %s: want an IP address to listen on", addr)
		}
		if !isLoopback(addr) && app.Environment["API_TOKEN"] == "" {
			t.Errorf("HTTP_ADDR %s beyond loopback without API_TOKEN: supervise would exit 78", addr)
		}
	})

	t.Run("the image runs real subcommands", func(t *testing.T) {
		if len(df.entrypoint) == 0 || df.entrypoint[len(df.entrypoint)-1] != "/usr/local/bin/empplay" {
			t.Fatalf("ENTRYPOINT %v does not end in /usr/local/bin/empplay", df.entrypoint)
		}
		if !slices.ContainsFunc(df.copies, func(c string) bool { return strings.HasSuffix(c, " /usr/local/bin/empplay") }) {
			t.Errorf("the final stage copies no binary to /usr/local/bin/empplay: %v", df.copies)
		}
		for where, args := range map[string][]string{"Dockerfile CMD": df.cmd, "compose command": app.Command} {
			if len(args) == 0 {
				t.Errorf("%s is empty", where)
				continue
			}
			sub, rest, err := cli.Find(args)
			if err != nil || sub == cli || !sub.Runnable() {
				t.Errorf("%s %v: not an empplay subcommand (%v)", where, args, err)
				continue
			}
			if err := sub.ParseFlags(rest); err != nil {
				t.Errorf("%s %v: %v", where, args, err)
			}
		}
	})

	t.Run("the health checks ask /readyz of the running server", func(t *testing.T) {
		checks := map[string][]string{"Dockerfile HEALTHCHECK": df.healthcheck}
		if hc := app.Healthcheck; hc != nil && len(hc.Test) > 1 {
			checks["compose healthcheck"] = hc.Test[1:] // after "CMD"
		}
		addr := serveForTest(t)
		for where, argv := range checks {
			if len(argv) < 2 || argv[0] != "/usr/local/bin/empplay" || argv[1] != "healthcheck" {
				t.Errorf("%s %v: want /usr/local/bin/empplay healthcheck", where, argv)
				continue
			}
			// As in the container: compose's environment, HTTP_ADDR pointed
			// at the live server. No worker is ready, so it must say 503.
			env := map[string]string{}
			for k, v := range app.Environment {
				env[k] = v
			}
			env["HTTP_ADDR"] = addr
			var out bytes.Buffer
			cli := newRoot(&Env{Stdout: &out, Stderr: &out, Getenv: func(k string) string { return env[k] }})
			cli.SetArgs(argv[1:])
			err := cli.ExecuteContext(testenv.Context(t, 30*time.Second))
			if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "workersReady") {
				t.Errorf("%s against a supervisor with no ready worker: %v; want a 503 from /readyz", where, err)
			}
			if empplay.ExitCode(err) != empplay.ExitFailure {
				t.Errorf("%s: exit code %d; want %d", where, empplay.ExitCode(err), empplay.ExitFailure)
			}
		}
	})
}

// serveForTest runs the supervisor's HTTP server (not its workers) on a
// free loopback port against a real Redis and returns its address.
func serveForTest(t *testing.T) string {
	t.Helper()
	rc := testRedis(t)
	logger := slog.New(slog.DiscardHandler)
	sup := supervisor.New(supervisor.Config{Slots: 1, Logger: logger})
	a := &apiFlags{maxWaiting: 1, waitTimeout: time.Second, size: 64}
	apiSrv, err := a.server(rc, "compose-test", sup, nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	srv, err := serveHTTP(addr, sup, newMetrics(), &redisCheck{c: rc}, apiSrv, nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	return addr
}

func TestHealthcheck(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		want   int
	}{
		{"ready", http.StatusOK, empplay.ExitOK},
		{"not ready", http.StatusServiceUnavailable, empplay.ExitFailure},
		{"no such path", http.StatusNotFound, empplay.ExitFailure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != readyPath {
					http.NotFound(w, r)
					return
				}
				w.WriteHeader(tc.status)
			}))
			defer srv.Close()
			var out bytes.Buffer
			cli := newRoot(&Env{Stdout: &out, Stderr: &out, Getenv: func(k string) string {
				if k == "HTTP_ADDR" {
					return strings.TrimPrefix(srv.URL, "http://")
				}
				return ""
			}})
			cli.SetArgs([]string{"healthcheck"})
			err := cli.ExecuteContext(testenv.Context(t, 10*time.Second))
			if code := empplay.ExitCode(err); code != tc.want {
				t.Errorf("exit %d (%v); want %d\n%s", code, err, tc.want, out.String())
			}
		})
	}
	for addr, want := range map[string]string{
		"0.0.0.0:9464":   "http://127.0.0.1:9464/readyz",
		"[::]:9464":      "http://[::1]:9464/readyz",
		":9464":          "http://127.0.0.1:9464/readyz",
		"10.0.0.5:80":    "http://10.0.0.5:80/readyz",
		"127.0.0.1:9464": "http://127.0.0.1:9464/readyz",
	} {
		if got, err := readyURL(addr); err != nil || got != want {
			t.Errorf("readyURL(%q) = %q, %v; want %q", addr, got, err, want)
		}
	}
}
