package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/rueidis"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/api"
	"github.com/empplay/empplay/gpu"
	"github.com/empplay/empplay/internal/sdnotify"
	"github.com/empplay/empplay/queue"
	"github.com/empplay/empplay/supervisor"
)

type superviseFlags struct {
	redis       redisFlags
	storage     storageFlags
	browser     browserFlags
	gpu         gpuFlags
	gpuShare    gpuShareFlags
	api         apiFlags
	workers     string
	httpAddr    string
	stopGrace   time.Duration
	drain       time.Duration
	maxAttempts int
	serviceID   string
	adminToken  string
	// printLimits prints the unit's memory limits and exits.
	printLimits bool
	// childEnv is the workers' environment, set when the command runs.
	childEnv []string
}

func newSuperviseCmd(env *Env, g *globalFlags) *cobra.Command {
	f := &superviseFlags{}
	c := &cobra.Command{
		Use:   "supervise",
		Short: "Run and watch this host's worker processes (the systemd service)",
		Long: `supervise starts one "empplay worker" child per playwright slot in WORKERS, each
in its own process group with its own Chromium profile, and keeps them
running: a child that dies is cleaned up (its process group and anything
holding its profile), its in-flight jobs are requeued at once, and it is
restarted with backoff. Children that stop reporting, whose consumer loop is
wedged, or whose job overran its deadline are killed and restarted.

HTTP on --http-addr: / (the status page: workers, queue, finished jobs, dead
letters, which --admin-token lets it requeue), /healthz (alive), /readyz
(Redis reachable and a worker ready), /metrics (Prometheus), and the HTTP API (/api/screenshot, /api/video,
/api/v2/execute, /v1/jobs, /openapi.json; API_TOKEN required beyond
loopback). Under systemd (Type=notify) it sends READY,
STATUS, WATCHDOG (only while healthy) and STOPPING.

GPU: with GPU_ACCELERATION auto or on and a usable GPU, the first slots
render on it, as many as its memory allows after COMFYUI_GPU_MEMORY for each
comfyui entry of WORKERS (see "empplay gpu"); the others render on the CPU.
WebGL jobs go to the GPU slots while one is alive.

Host check: at start it measures what a page fault costs the host
(empplay_host_page_fault_seconds) and warns above 5 µs, where every job's
new renderer process costs several times its usual CPU.

Memory: --print-systemd-limits prints the unit's MemoryHigh and MemoryMax for
WORKERS, BROWSER_RECYCLE_MEMORY_MB, BROWSER_JOB_MEMORY_MB and VIDEO_MAX_MB as a drop-in.

SIGTERM/SIGINT: workers stop fetching, finish or requeue their jobs within
--drain-timeout, then the supervisor exits 0. A second signal kills at once.
SIGHUP: restart the workers one at a time, no job lost.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			logger, err := g.logger(env.Stderr)
			if err != nil {
				return err
			}
			worker, _, err := c.Root().Find([]string{"worker"})
			if err != nil {
				return fmt.Errorf("find the worker command: %w", err)
			}
			f.childEnv = childEnv(os.Environ(), c.Flags(), worker.Flags(), g.logLevel)
			return runSupervise(c.Context(), f, g, env, logger)
		},
	}
	fs := c.Flags()
	f.redis.register(fs)
	f.storage.register(fs)
	f.browser.register(fs)
	f.gpu.register(fs)
	f.gpuShare.register(fs)
	f.api.register(fs)
	fs.StringVar(&f.workers, "workers", "playwright:1", `pools on this host, e.g. "comfyui:2,playwright:4"; empplay starts the playwright workers`)
	fs.StringVar(&f.httpAddr, "http-addr", "127.0.0.1:9464", "address of the /healthz, /readyz and /metrics endpoints (empty: none)")
	fs.DurationVar(&f.drain, "drain-timeout", 30*time.Second, "on stop, how long a worker's job in hand may still run")
	fs.DurationVar(&f.stopGrace, "stop-grace", 10*time.Second, "after the drain timeout, how long before a worker's process group is killed")
	fs.IntVar(&f.maxAttempts, "max-attempts", 3, "claims of one job before it is dead-lettered")
	fs.StringVar(&f.serviceID, "service-id", "", "name of this deployment, part of the worker ids")
	fs.StringVar(&f.adminToken, "admin-token", "", "token that lets the status page (/) requeue dead letters; empty: the page is read-only")
	bindEnv(fs, "workers", "WORKERS")
	bindEnv(fs, "http-addr", "HTTP_ADDR")
	bindEnv(fs, "drain-timeout", "DRAIN_TIMEOUT")
	bindEnv(fs, "stop-grace", "STOP_GRACE")
	bindEnv(fs, "max-attempts", "MAX_ATTEMPTS")
	bindEnv(fs, "service-id", "SERVICE_ID")
	bindEnv(fs, "admin-token", "ADMIN_TOKEN")
	fs.BoolVar(&f.printLimits, "print-systemd-limits", false, "print a systemd drop-in with MemoryHigh and MemoryMax for WORKERS, BROWSER_RECYCLE_MEMORY_MB, BROWSER_JOB_MEMORY_MB and VIDEO_MAX_MB, and exit")
	return c
}

// perSlotFlags are the worker flags the supervisor sets for each slot on
// the worker's command line (workerArgs), or resolves into one of them
// (gpu-acceleration into --gpu-backend), rather than passing them on.
var perSlotFlags = map[string]bool{"profile-dir": true, "renderer-cpu": true, "gpu-acceleration": true}

// childEnv is the environment of the supervisor's workers: its own, plus
// the supervisor's resolved value of every setting the worker command has
// too (by the variable the worker reads it from), whether it came from a
// flag or the environment, so a flag given to supervise reaches the
// workers as well.
func childEnv(base []string, sup, worker *pflag.FlagSet, logLevel string) []string {
	env := append([]string(nil), base...)
	sup.VisitAll(func(f *pflag.Flag) {
		names := f.Annotations[envAnnotation]
		if len(names) == 0 || perSlotFlags[f.Name] || worker.Lookup(f.Name) == nil {
			return
		}
		if v := f.Value.String(); v != "" {
			env = append(env, names[0]+"="+v)
		}
	})
	if logLevel != "" {
		env = append(env, "LOG_LEVEL="+logLevel)
	}
	// Children always log JSON: the supervisor re-emits each record in its
	// own format with the slot and pid.
	return append(env, "LOG_FORMAT=json")
}

func runSupervise(ctx context.Context, f *superviseFlags, g *globalFlags, env *Env, logger *slog.Logger) error {
	// SIGHUP asks for a rolling restart once the workers run (below). Until
	// then it must not end the process, which is Go's default for it.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	pools, err := supervisor.ParseWorkers(f.workers)
	if err != nil {
		return empplay.ConfigError(fmt.Errorf("--workers (WORKERS): %w", err))
	}
	slots := 0
	for _, p := range pools {
		if p.Name == supervisor.PoolPlaywright {
			slots = p.Count
		}
	}
	if f.printLimits {
		return writeSystemdLimits(env.Stdout, f.workers, slots,
			slotMemory{recycleMiB: f.browser.recycleMiB, jobMiB: f.browser.jobMemoryMiB, videoMiB: f.browser.videoMaxMiB})
	}
	if err := f.browser.check(); err != nil {
		return err
	}
	blob, _, err := f.storage.build(logger)
	if err != nil {
		return err
	}
	if err := f.api.check(f.httpAddr); err != nil {
		return err
	}
	if f.maxAttempts < 1 {
		return empplay.ConfigError(fmt.Errorf("--max-attempts (MAX_ATTEMPTS) must be at least 1, got %d", f.maxAttempts))
	}
	choice, err := f.gpu.choose(ctx, gpu.NewDetector(gpu.NewSystemNVML()))
	if err != nil {
		return err
	}
	if choice.Warning != "" {
		logger.Warn("GPU acceleration", "backend", choice.Backend, "warning", choice.Warning)
	}
	plan, err := f.gpuShare.plan(choice, pools, f.gpu.mode)
	if err != nil {
		return err
	}
	logger.Info("GPU plan", "backend", choice.Backend, "gpu_slots", plan.GPUSlots, "share", plan.Share, "reason", plan.Reason)
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	rc, err := f.redis.client(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()

	host, _ := os.Hostname()
	me := joinNonEmpty(f.serviceID, host) + ":supervisor:" + strconv.Itoa(os.Getpid())
	maint := queue.NewMaintainer(rc, f.redis.queue, me)
	m := newMetrics()
	m.observePlan(choice, plan)
	var sup *supervisor.Supervisor
	var status *statusPage
	sup = supervisor.New(supervisor.Config{
		Slots:       slots,
		GPUSlots:    plan.GPUSlots,
		IDPrefix:    joinNonEmpty(f.serviceID, host),
		ProfileRoot: f.browser.profileDir,
		StopGrace:   f.drain + f.stopGrace,
		Command: func(s supervisor.Slot) *exec.Cmd {
			cmd := exec.Command(exe, workerArgs(s, choice.Backend, plan)...)
			cmd.Env = f.childEnv
			return cmd
		},
		OnExit: func(ctx context.Context, e supervisor.Exit) {
			n, err := maint.Recover(ctx, e.Slot.WorkerID, true)
			switch {
			case err != nil:
				logger.Error("could not requeue a dead worker's jobs; the sweep will", "worker", e.Slot.WorkerID, "err", err)
			case n > 0:
				logger.Warn("requeued the jobs of a worker that ended", "worker", e.Slot.WorkerID, "jobs", n, "reason", e.Reason)
			}
			m.restarts.WithLabelValues(strconv.Itoa(e.Slot.Index), workerRestartReason(e)).Inc()
		},
		OnReport: func(slot int, r empplay.Report) {
			m.observe(slot, r, time.Now().UnixMilli())
			status.observe(slot, r)
		},
		Logger: logger,
	})

	redisOK := &redisCheck{c: rc}
	status = newStatusPage(sup, queue.NewAdmin(rc, f.redis.queue), redisOK, f.adminToken, logger)
	hctx, stopHousekeeping := context.WithCancel(ctx)
	var wg sync.WaitGroup
	// On every way out, the housekeeping goroutines below are told to stop
	// before they are waited for.
	defer func() {
		stopHousekeeping()
		wg.Wait()
	}()
	// Beside the workers' start, which it would otherwise delay on a slow host.
	wg.Go(func() { checkHost(logger, m) })
	wg.Go(func() { queue.NewHousekeeper(maint, queue.HousekeepingConfig{}, logger).Run(hctx) })
	gauges := &queueGauges{stats: queue.NewAdmin(rc, f.redis.queue), sup: sup, redis: redisOK, m: m, every: 5 * time.Second}
	wg.Go(func() { gauges.Run(hctx) })
	if choice.Backend == gpu.NVIDIA {
		wg.Go(func() { watchGPUs(hctx, m, logger) })
	}

	if f.httpAddr != "" {
		apiSrv, err := f.api.server(rc, f.redis.queue, sup, []string{f.storage.cdnURI, blob.Endpoint()}, logger)
		if err != nil {
			return err
		}
		srv, err := serveHTTP(f.httpAddr, sup, m, redisOK, apiSrv, status, logger)
		if err != nil {
			return empplay.ConfigError(fmt.Errorf("--http-addr (HTTP_ADDR): %w", err))
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		}()
	}

	notify := sdnotify.New(env.Getenv, os.Getpid())
	wg.Go(func() { supervisor.NewSystemd(notify, sup, redisOK, slots, logger).Run(hctx) })

	select {
	case <-hup:
		logger.Info("SIGHUP before the workers started; they start with the current settings anyway")
	default:
	}
	go func() {
		for {
			select {
			case <-hctx.Done():
				return
			case <-hup:
				logger.Info("SIGHUP: rolling restart of the workers")
				if err := sup.RollingRestart(hctx); err != nil && hctx.Err() == nil {
					logger.Error("rolling restart stopped", "err", err)
				}
			}
		}
	}()
	// A second stop signal comes after the first has cancelled ctx (and
	// hctx): wait for it until the supervisor has returned.
	returned := make(chan struct{})
	defer close(returned)
	go func() {
		select {
		case <-env.force:
			sup.Force()
		case <-returned:
		}
	}()
	go func() {
		<-ctx.Done()
		_ = notify.Notify("STOPPING=1")
	}()

	logger.Info("supervising", "workers", slots, "pools", f.workers, "http", f.httpAddr)
	err = sup.Run(ctx)
	stopHousekeeping()
	return err
}

// workerArgs are the command-line arguments of slot s's worker: GPU slots
// render on backend with the plan's memory share, the others on the CPU.
func workerArgs(s supervisor.Slot, backend gpu.Backend, plan gpu.Plan) []string {
	// Each slot's renderers get a CPU of their own (see render.Options.RendererCPU).
	args := []string{"worker", "--worker-id", s.WorkerID, "--profile-dir", s.ProfileDir, "--renderer-cpu", strconv.Itoa(s.Index)}
	if !s.GPU {
		return append(args, "--gpu-backend", string(gpu.CPU))
	}
	args = append(args, "--gpu-backend", string(backend))
	if plan.Share > 0 {
		args = append(args, "--gpu-memory-limit", strconv.FormatUint(plan.Share>>20, 10)+"MiB")
	}
	return args
}

// redisCheck remembers whether Redis answered recently.
type redisCheck struct {
	c  rueidis.Client
	mu sync.Mutex
	ok bool
	at time.Time
}

func (r *redisCheck) Healthy(ctx context.Context) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(r.at) < 2*time.Second {
		return r.ok
	}
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	r.ok = r.c.Do(pctx, r.c.B().Ping().Build()).Error() == nil
	r.at = time.Now()
	return r.ok
}

// httpLimits are the supervisor's HTTP server's limits. A request's body
// (at most MaxJobBytes) must arrive within Read, headers included; an idle
// keep-alive connection is closed after Idle. There is no write timeout:
// an API request waits up to API_WAIT_TIMEOUT for its result.
type httpLimits struct {
	ReadHeader, Read, Idle time.Duration
}

// defaultHTTPLimits is what the supervisor serves with.
func defaultHTTPLimits() httpLimits {
	return httpLimits{ReadHeader: 5 * time.Second, Read: time.Minute, Idle: 2 * time.Minute}
}

// newHTTPServer is the supervisor's HTTP server over h. Its Shutdown
// answers the API requests still waiting for a result (apiSrv's Stop)
// rather than waiting for results no stopping worker will render.
func newHTTPServer(h http.Handler, apiSrv *api.Server, lim httpLimits) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: lim.ReadHeader,
		ReadTimeout:       lim.Read,
		IdleTimeout:       lim.Idle,
	}
	srv.RegisterOnShutdown(apiSrv.Stop)
	return srv
}

func serveHTTP(addr string, sup *supervisor.Supervisor, m *metrics, redis *redisCheck, apiSrv *api.Server, status *statusPage, logger *slog.Logger) (*http.Server, error) {
	mux := http.NewServeMux()
	apiSrv.Register(mux)
	if status != nil {
		status.register(mux)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		status := sup.Status()
		ready := 0
		for _, s := range status {
			if s.Ready {
				ready++
			}
		}
		redisUp := redis.Healthy(r.Context())
		body := map[string]any{"redis": redisUp, "workersReady": ready, "workers": len(status), "slots": status}
		w.Header().Set("Content-Type", "application/json")
		if !redisUp || ready == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(body)
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := newHTTPServer(mux, apiSrv, defaultHTTPLimits())
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("health endpoint stopped", "err", err)
		}
	}()
	logger.Info("health endpoints listening", "addr", ln.Addr().String())
	return srv, nil
}
