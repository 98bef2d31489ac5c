package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/gpu"
	"github.com/empplay/empplay/queue"
	"github.com/empplay/empplay/supervisor"
	"github.com/empplay/empplay/worker"
)

// Compile-time checks that the implementations fit the worker's needs.
var (
	_ worker.Queue = (*queue.Redis)(nil)
)

type workerFlags struct {
	redis       redisFlags
	storage     storageFlags
	browser     browserFlags
	assets      assetFlags
	gpu         gpuFlags
	gpuShare    gpuWorkerFlags
	oneJob      bool
	oneJobWait  time.Duration
	serviceID   string
	maxAttempts int
	drain       time.Duration
	label       string
	workerID    string
}

func newWorkerCmd(env *Env, g *globalFlags) *cobra.Command {
	f := &workerFlags{}
	c := &cobra.Command{
		Use:   "worker",
		Short: "Take jobs from Redis, render them in Chromium, upload them and store their results",
		Long: `worker runs one render worker: one headless Chromium, one job at a time.

With --once it takes a single job (waiting up to --wait for one; the job it
takes then runs to its end, however long that is), prints its result as JSON
on stdout and exits 0 when the job succeeded, 1 when it failed. An attempt
that does not end the job (a transient failure the queue will retry, a result
the queue did not take) prints nothing on stdout, says why and exits 1.
SIGTERM stops fetching at once, lets the job in hand finish within
--drain-timeout or gives it back to the queue, and exits 0.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			logger, err := g.logger(env.Stderr)
			if err != nil {
				return err
			}
			return runWorker(c.Context(), f, env, logger)
		},
	}
	fs := c.Flags()
	f.redis.register(fs)
	f.storage.register(fs)
	f.browser.register(fs)
	f.assets.register(fs)
	f.gpu.register(fs)
	f.gpuShare.register(fs)
	fs.BoolVar(&f.oneJob, "once", false, "process one job, print its result and exit")
	fs.DurationVar(&f.oneJobWait, "wait", 0, "with --once: how long to wait for a job to arrive (0 = forever); the job taken is not cut short")
	fs.StringVar(&f.serviceID, "service-id", "", "name of this deployment, part of the worker id")
	fs.IntVar(&f.maxAttempts, "max-attempts", 3, "claims of one job before it is dead-lettered")
	fs.DurationVar(&f.drain, "drain-timeout", 30*time.Second, "on SIGTERM, how long the job in hand may still run before it is given back")
	fs.StringVar(&f.label, "label", "", "extra label in the worker id (the supervisor sets the slot)")
	fs.StringVar(&f.workerID, "worker-id", "", "use this worker id instead of a generated one (the supervisor sets a unique one per incarnation)")
	bindEnv(fs, "service-id", "SERVICE_ID")
	bindEnv(fs, "max-attempts", "MAX_ATTEMPTS")
	bindEnv(fs, "drain-timeout", "DRAIN_TIMEOUT")
	return c
}

func runWorker(ctx context.Context, f *workerFlags, env *Env, logger *slog.Logger) error {
	if f.maxAttempts < 1 {
		return empplay.ConfigError(fmt.Errorf("--max-attempts (MAX_ATTEMPTS) must be at least 1, got %d", f.maxAttempts))
	}
	if err := f.browser.check(); err != nil {
		return err
	}
	var gpuLimit uint64
	if f.gpuShare.memoryLimit != "" {
		var err error
		if gpuLimit, err = gpu.ParseSize(f.gpuShare.memoryLimit); err != nil {
			return empplay.ConfigError(fmt.Errorf("--gpu-memory-limit (EMPPLAY_GPU_MEMORY_LIMIT): %w", err))
		}
	}
	backend, err := resolveBackend(ctx, &f.gpuShare, &f.gpu, logger)
	if err != nil {
		return err
	}
	blob, verifier, err := f.storage.build(logger)
	if err != nil {
		return err
	}
	fetch, limits, err := f.assets.build([]string{f.storage.cdnURI, blob.Endpoint()}, f.browser.timeout())
	if err != nil {
		return err
	}
	f.browser.fetcher, f.browser.assetLimits = fetch, limits
	rc, err := f.redis.client(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()

	label := f.serviceID
	if f.label != "" {
		label = joinNonEmpty(label, f.label)
	}
	wid := f.workerID
	if wid == "" {
		wid = queue.NewWorkerID(label)
	}
	logger = logger.With("worker", wid)
	f.browser.deferCleanup = true // the worker calls Cleanup after each result
	browser, err := f.browser.startOn(ctx, backend, logger)
	if err != nil {
		return err
	}
	defer browser.Close()
	// Only Chromium knows whether the GPU flags gave it a GPU: a worker
	// meant for the GPU whose WebGL is software leaves the GPU lane.
	probe, degraded := verifyGPU(ctx, browser, backend, logger)
	lane := queue.LaneCPU
	if backend != gpu.CPU && degraded == nil {
		lane = queue.LaneGPU
	}

	q := queue.New(rc, queue.Config{Name: f.redis.queue, MaxAttempts: f.maxAttempts, Lane: lane}, wid, logger.With("component", "queue"))
	if err := q.Register(ctx); err != nil {
		return err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := q.Deregister(dctx); err != nil {
			logger.Warn("could not deregister", "err", err)
		}
	}()

	// A fenced worker (written off by a peer) must stop at once.
	wctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		if err := queue.NewHeartbeat(q, 0, 0, logger).Run(wctx); err != nil {
			cancel(err)
		}
	}()
	go queue.NewHousekeeper(queue.NewMaintainer(rc, f.redis.queue, wid), queue.HousekeepingConfig{}, logger).Run(wctx)

	w := worker.New(worker.Config{
		ID:            wid,
		RenderTimeout: f.browser.timeout(),
		VerifyTimeout: f.storage.verifyTimeout,
		DrainTimeout:  f.drain,
		MaxAttempts:   f.maxAttempts,
		GPU:           backend != gpu.CPU,
		Sources:       fetch.Origins(),
	}, q, browser, blob, verifier, logger)
	if degraded != nil {
		w.DegradeGPU(ctx, degraded)
	}
	var watch *worker.GPUWatch
	if backend == gpu.NVIDIA {
		var release func()
		if watch, release = newGPUWatch(browser, gpuLimit, logger); watch != nil {
			go func() {
				defer release()
				watch.Run(wctx)
			}()
		}
	}
	gr := &gpuReport{backend: backend, limit: gpuLimit, watch: watch, lane: q.Lane, w: w, renderer: probe.Renderer}

	if out, err := supervisor.ReportFD(env.Getenv(supervisor.ReportFDEnv)); err != nil {
		return err
	} else if out != nil {
		defer out.Close()
		fill := func(r *empplay.Report) {
			gr.fill(r)
			if sb, err := browser.Sandbox(); err == nil {
				r.Sandbox = sb.String() // shown per slot in /readyz
			}
		}
		rep := &supervisor.Reporter{
			Out: out, Worker: wid, Status: jobStatus(w), BrowserPID: browser.PID,
			Events: w.Events(), Restarts: browser.Restarts(), Fill: fill,
		}
		go rep.Run(wctx)
	}

	if !f.oneJob {
		logger.Info("worker ready", "queue", f.redis.queue, "backend", backend, "lane", q.Lane(), "renderer", probe.Renderer)
		if err := w.Run(wctx); err != nil {
			return err
		}
		if cause := context.Cause(wctx); errors.Is(cause, queue.ErrFenced) {
			return cause
		}
		logger.Info("worker stopped")
		return nil
	}

	res, err := w.RunOnce(wctx, f.oneJobWait)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		return fmt.Errorf("print result: %w", err)
	}
	if !res.Success {
		return &empplay.ExitError{Code: empplay.ExitFailure, Err: errSilent}
	}
	return nil
}

func joinNonEmpty(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + ":" + b
}

// jobStatus adapts the worker's status to what its health reports say.
func jobStatus(w *worker.Worker) func() supervisor.JobStatus {
	return func() supervisor.JobStatus {
		st := w.Status()
		return supervisor.JobStatus{Job: st.CurrentJob, Deadline: st.JobDeadline, LastFetch: st.LastFetch}
	}
}
