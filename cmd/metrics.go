package cmd

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/empplay/empplay"
)

// metrics are the supervisor's Prometheus series, aggregated over its
// workers from their reports.
type metrics struct {
	reg             *prometheus.Registry
	jobs            *prometheus.CounterVec
	jobSeconds      *prometheus.HistogramVec
	restarts        *prometheus.CounterVec
	browserRestarts *prometheus.CounterVec
	memory          *prometheus.GaugeVec
	lastFetchAge    *prometheus.GaugeVec
	ready           prometheus.Gauge
	queueDepth      *prometheus.GaugeVec
	oldestAge       prometheus.Gauge
	redisUp         prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "empplay_jobs_total", Help: "Jobs finished by the workers, by job type and outcome (success, failed, retry, requeued).",
		}, []string{"type", "outcome", "error_code"}),
		jobSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "empplay_job_duration_seconds", Help: "Time from pickup to result, by job type and outcome.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300},
		}, []string{"type", "outcome"}),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "empplay_worker_restarts_total", Help: "Worker processes restarted, by slot and reason.",
		}, []string{"slot", "reason"}),
		browserRestarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "empplay_browser_restarts_total", Help: "Chromium restarts inside workers, by slot and reason.",
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
	}
	m.reg.MustRegister(m.jobs, m.jobSeconds, m.restarts, m.browserRestarts, m.memory, m.lastFetchAge,
		m.ready, m.queueDepth, m.oldestAge, m.redisUp,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
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
	}
	if r.BrowserRestart != "" {
		m.browserRestarts.WithLabelValues(s, r.BrowserRestart).Inc()
	}
}
