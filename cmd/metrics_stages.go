package cmd

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/supervisor"
)

// stageBuckets span a warm tab's millisecond hand-over to a browser start
// or a CDN that takes seconds to serve an upload.
var stageBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

func newStageHistogram() *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "empplay_job_stage_duration_seconds",
		Help:    "Time of each measured stage of a job (browser_acquire, page_load, ready, capture, encode, upload, verify), by job type and outcome. Queue wait is not measured: payloads carry no enqueue time.",
		Buckets: stageBuckets,
	}, []string{"stage", "type", "outcome"})
}

// knownStages keeps the stage label to the stages empplay defines,
// whatever a worker reports.
var knownStages = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range empplay.Stages {
		m[string(s)] = true
	}
	return m
}()

// observeStages adds a finished job's stages to the histogram.
func (m *metrics) observeStages(d *empplay.JobEvent) {
	for stage, sec := range d.Stages {
		if knownStages[stage] {
			m.stageSeconds.WithLabelValues(stage, d.Type, d.Outcome).Observe(sec)
		}
	}
}

// workerRestartReason turns why a worker ended into one of a few label
// values: the reasons themselves carry durations and error text.
func workerRestartReason(e supervisor.Exit) string {
	r := e.Reason
	switch {
	case r == "exited" && e.Signal != "":
		return "signaled" // killed from outside: the OOM killer, kill -9
	case r == "exited" && e.ExitCode == empplay.ExitConfig:
		return "config_error"
	case r == "exited", r == "stopped":
		return r
	case strings.HasPrefix(r, "stopped: rolling restart"):
		return "rolling_restart"
	case strings.HasPrefix(r, "killed: no report"):
		return "no_report"
	case strings.HasPrefix(r, "killed: wedged consumer"):
		return "wedged_consumer"
	case strings.HasPrefix(r, "killed: job overran"):
		return "job_overran"
	case strings.HasPrefix(r, "killed: still running"):
		return "stop_timeout"
	case strings.HasPrefix(r, "killed: forced stop"):
		return "forced_stop"
	case strings.HasPrefix(r, "start failed"):
		return "start_failed"
	}
	return "other"
}

// browserRestartReason is the label value of a worker's report of a
// Chromium restart.
func browserRestartReason(r string) string {
	switch r {
	case "recycled", "killed":
		return r
	case "connection lost":
		return "connection_lost"
	}
	return "other"
}
