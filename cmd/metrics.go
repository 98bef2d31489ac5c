package cmd

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/gpu"
)

// metrics are the supervisor's Prometheus series, aggregated over its
// workers from their reports.
type metrics struct {
	reg             *prometheus.Registry
	jobs            *prometheus.CounterVec
	assets          *prometheus.CounterVec
	jobSeconds      *prometheus.HistogramVec
	restarts        *prometheus.CounterVec
	browserRestarts *prometheus.CounterVec
	memory          *prometheus.GaugeVec
	lastFetchAge    *prometheus.GaugeVec
	ready           prometheus.Gauge
	queueDepth      *prometheus.GaugeVec
	oldestAge       prometheus.Gauge
	redisUp         prometheus.Gauge

	// GPU: which renderer drew each job, each slot's backend, lane,
	// renderer, degradation and GPU memory, the slot plan and the GPU.
	jobsByRenderer *prometheus.CounterVec
	workerGPU      *prometheus.GaugeVec
	gpuDegraded    *prometheus.GaugeVec
	gpuMemory      *prometheus.GaugeVec
	gpuLimit       *prometheus.GaugeVec
	gpuSlots       prometheus.Gauge
	gpuWorkers     prometheus.Gauge
	gpuTotal       *prometheus.GaugeVec
	gpuFree        *prometheus.GaugeVec

	// stageSeconds: where a job's time goes (see [empplay.Stage]).
	stageSeconds *prometheus.HistogramVec

	// hostPageFault: what a page fault cost the host at start (see
	// checkHost); no series until measured.
	hostPageFault *prometheus.GaugeVec

	// collectors are everything reg holds, for checks of what is exported.
	collectors []prometheus.Collector

	mu       sync.Mutex
	slotInfo map[string][3]string // slot -> backend, lane, renderer last set
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		assets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "empplay_asset_files_total", Help: "Files jobs loaded (declared assets, component outputs), by where they came from: hit (the worker's cache) or miss (the network).",
		}, []string{"cache"}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "empplay_jobs_total", Help: "Jobs finished by the workers, by job type and outcome (success, failed, retry, requeued, dropped, unstored).",
		}, []string{"type", "outcome", "error_code"}),
		jobSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "empplay_job_duration_seconds", Help: "Time from pickup to result, by job type and outcome.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300},
		}, []string{"type", "outcome"}),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "empplay_worker_restarts_total", Help: "Worker processes that ended (and were restarted unless stopping), by slot and reason (see workerRestartReason).",
		}, []string{"slot", "reason"}),
		browserRestarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "empplay_browser_restarts_total", Help: "Chromium restarts inside workers, by slot and reason (recycled, connection_lost, killed, other).",
		}, []string{"slot", "reason"}),
		memory: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "empplay_worker_memory_bytes", Help: "Memory of a worker and its Chromium (summed proportional set size), by slot.",
		}, []string{"slot"}),
		lastFetchAge: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "empplay_worker_last_fetch_age_seconds", Help: "Seconds since a worker's fetch from Redis last returned, by slot.",
		}, []string{"slot"}),
		ready: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "empplay_workers_ready", Help: "Workers that reported ready recently.",
		}),
		queueDepth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "empplay_queue_jobs", Help: "Jobs in the queue by state (pending, retrying, dead).",
		}, []string{"state"}),
		oldestAge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "empplay_queue_oldest_pending_age_seconds", Help: "Age of the next job to run.",
		}),
		redisUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "empplay_redis_up", Help: "1 when the last Redis check succeeded.",
		}),
		jobsByRenderer: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "empplay_jobs_by_renderer_total",
			Help: "Jobs finished, by job type, outcome, kind of renderer (gpu, software, none: no WebGL) and the WebGL renderer string.",
		}, []string{"type", "outcome", "renderer_kind", "renderer"}),
		workerGPU: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "empplay_worker_gpu_info",
			Help: "1 for each slot's rendering backend (cpu, nvidia, mesa), queue lane (gpu, cpu) and browser WebGL renderer.",
		}, []string{"slot", "backend", "lane", "renderer"}),
		gpuDegraded: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "empplay_worker_gpu_degraded", Help: "1 when a slot meant for the GPU renders in software (and left the GPU lane).",
		}, []string{"slot"}),
		gpuMemory: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "empplay_worker_gpu_memory_bytes", Help: "GPU memory held by a slot's browser (NVML, per process).",
		}, []string{"slot"}),
		gpuLimit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "empplay_worker_gpu_memory_limit_bytes", Help: "A GPU slot's share of GPU memory; its browser is recycled above it.",
		}, []string{"slot"}),
		gpuSlots: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "empplay_gpu_slots", Help: "Worker slots of this host that render on the GPU.",
		}),
		gpuWorkers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "empplay_queue_gpu_workers", Help: "Live workers of the whole fleet that take the GPU lane.",
		}),
		gpuTotal: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "empplay_gpu_memory_total_bytes", Help: "Memory of each NVIDIA GPU (NVML).",
		}, []string{"gpu", "name"}),
		gpuFree: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "empplay_gpu_memory_free_bytes", Help: "Free memory of each NVIDIA GPU (NVML).",
		}, []string{"gpu", "name"}),
		stageSeconds: newStageHistogram(),
		hostPageFault: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "empplay_host_page_fault_seconds", Help: "What the first touch of a page of fresh memory cost this host when the supervisor started (least of three rounds); every job's renderer is a new process that takes tens of thousands of them.",
		}, nil),
		slotInfo: map[string][3]string{},
	}
	m.collectors = []prometheus.Collector{m.assets, m.jobs, m.jobSeconds, m.restarts, m.browserRestarts, m.memory, m.lastFetchAge,
		m.ready, m.queueDepth, m.oldestAge, m.redisUp,
		m.jobsByRenderer, m.workerGPU, m.gpuDegraded, m.gpuMemory, m.gpuLimit, m.gpuSlots, m.gpuWorkers, m.gpuTotal, m.gpuFree,
		m.stageSeconds, m.hostPageFault,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})}
	m.reg.MustRegister(m.collectors...)
	return m
}

// observe folds one worker report into the series.
func (m *metrics) observe(slot int, r empplay.Report, nowMs int64) {
	s := strconv.Itoa(slot)
	if r.RSS > 0 {
		m.memory.WithLabelValues(s).Set(float64(r.RSS))
	}
	if r.LastFetch > 0 {
		m.lastFetchAge.WithLabelValues(s).Set(float64(max(0, nowMs-r.LastFetch)) / 1000)
	}
	if d := r.Done; d != nil {
		m.jobs.WithLabelValues(d.Type, d.Outcome, string(d.ErrorCode)).Inc()
		m.jobSeconds.WithLabelValues(d.Type, d.Outcome).Observe(d.Seconds)
		m.jobsByRenderer.WithLabelValues(d.Type, d.Outcome, rendererKind(d.Renderer), d.Renderer).Inc()
		m.assets.WithLabelValues("hit").Add(float64(d.AssetHits))
		m.assets.WithLabelValues("miss").Add(float64(d.AssetMisses))
		m.observeStages(d)
	}
	m.observeGPU(s, r)
	if r.BrowserRestart != "" {
		m.browserRestarts.WithLabelValues(s, browserRestartReason(r.BrowserRestart)).Inc()
	}
}

// rendererKind classes a WebGL renderer string: gpu, software, or none for
// a job that drew without WebGL.
func rendererKind(renderer string) string {
	switch {
	case renderer == "":
		return "none"
	case gpu.IsSoftwareRenderer(renderer):
		return "software"
	}
	return "gpu"
}

// observeGPU folds the GPU fields of one report into the series.
func (m *metrics) observeGPU(slot string, r empplay.Report) {
	if r.Backend == "" {
		return // a worker that does not report them (an older binary)
	}
	info := [3]string{r.Backend, r.Lane, r.Renderer}
	m.mu.Lock()
	if m.slotInfo[slot] != info {
		m.workerGPU.DeletePartialMatch(prometheus.Labels{"slot": slot})
		m.workerGPU.WithLabelValues(slot, info[0], info[1], info[2]).Set(1)
		m.slotInfo[slot] = info
	}
	m.mu.Unlock()
	degraded := 0.0
	if r.GPUDegraded != "" {
		degraded = 1
	}
	m.gpuDegraded.WithLabelValues(slot).Set(degraded)
	if r.Backend != string(gpu.CPU) {
		m.gpuMemory.WithLabelValues(slot).Set(float64(r.GPUMemory))
		m.gpuLimit.WithLabelValues(slot).Set(float64(r.GPUMemoryLimit))
	}
}

// observePlan records the slot plan and the GPUs found at start.
func (m *metrics) observePlan(c gpuChoice, p gpu.Plan) {
	m.gpuSlots.Set(float64(p.GPUSlots))
	m.observeDevices(c.Detected.NVIDIA)
}

func (m *metrics) observeDevices(devs []gpu.Device) {
	for _, d := range devs {
		i := strconv.Itoa(d.Index)
		m.gpuTotal.WithLabelValues(i, d.Name).Set(float64(d.MemoryTotal))
		m.gpuFree.WithLabelValues(i, d.Name).Set(float64(d.MemoryFree))
	}
}
