package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/testenv"
	"github.com/empplay/empplay/supervisor"
)

// exported returns every metric name the supervisor registers, with its
// variable labels.
func exported(t *testing.T) map[string]map[string]bool {
	t.Helper()
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	vl := regexp.MustCompile(`variableLabels: \{([^}]*)\}`)
	out := map[string]map[string]bool{}
	for _, c := range newMetrics().collectors {
		ch := make(chan *prometheus.Desc, 256)
		c.Describe(ch)
		close(ch)
		for d := range ch {
			s := d.String()
			m := fq.FindStringSubmatch(s)
			if m == nil {
				t.Fatalf("cannot read the name of %s", s)
			}
			labels := map[string]bool{}
			if l := vl.FindStringSubmatch(s); l != nil {
				for _, name := range strings.Split(l[1], ",") {
					if name = strings.TrimSpace(name); name != "" {
						labels[name] = true
					}
				}
			}
			out[m[1]] = labels
		}
	}
	return out
}

// queries returns every PromQL expression of a Grafana dashboard: the
// panels' targets and the variables' queries.
func queries(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && (k == "expr" || k == "definition") {
				out = append(out, s)
				continue
			}
			out = append(out, queries(e)...)
		}
	case []any:
		for _, e := range x {
			out = append(out, queries(e)...)
		}
	}
	return out
}

// TestDashboardQueriesExportedMetrics: every metric the Grafana dashboard
// queries, and every label it selects or groups by, is one the supervisor
// exports, so a renamed metric cannot leave a panel silently empty.
func TestDashboardQueriesExportedMetrics(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "deploy", "grafana", "empplay.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash map[string]any
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("deploy/grafana/empplay.json: %v", err)
	}
	metrics := exported(t)
	exprs := queries(dash)
	if len(exprs) < 15 {
		t.Fatalf("found %d queries in the dashboard; has its format changed?", len(exprs))
	}
	name := regexp.MustCompile(`\b(?:empplay|go|process)_[a-z0-9_]+\b`)
	selector := regexp.MustCompile(`\b([a-z_][a-z0-9_]*)\{([^}]*)\}`)
	matcher := regexp.MustCompile(`([a-z_][a-z0-9_]*)\s*(?:=~|!~|!=|=)`)
	grouping := regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
	// Labels Prometheus adds on scrape, and a histogram's bucket label.
	scrape := map[string]bool{"instance": true, "job": true}
	used := map[string]bool{}
	for _, e := range exprs {
		labels := map[string]bool{}
		for k := range scrape {
			labels[k] = true
		}
		for _, n := range name.FindAllString(e, -1) {
			base := n
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if _, ok := metrics[n]; !ok && strings.HasSuffix(n, suffix) {
					base = strings.TrimSuffix(n, suffix)
					if suffix == "_bucket" {
						labels["le"] = true
					}
				}
			}
			l, ok := metrics[base]
			if !ok {
				t.Errorf("the dashboard queries %s, which the supervisor does not export: %s", n, e)
				continue
			}
			used[base] = true
			for k := range l {
				labels[k] = true
			}
		}
		for _, sel := range selector.FindAllStringSubmatch(e, -1) {
			for _, m := range matcher.FindAllStringSubmatch(sel[2], -1) {
				if !labels[m[1]] {
					t.Errorf("the dashboard selects on label %q, which %s does not have: %s", m[1], sel[1], e)
				}
			}
		}
		for _, g := range grouping.FindAllStringSubmatch(e, -1) {
			for _, l := range strings.Split(g[1], ",") {
				if l = strings.TrimSpace(l); l != "" && !labels[l] {
					t.Errorf("the dashboard groups by %q, which none of its metrics has: %s", l, e)
				}
			}
		}
	}
	for _, want := range []string{"empplay_job_stage_duration_seconds", "empplay_jobs_total", "empplay_worker_restarts_total", "empplay_browser_restarts_total"} {
		if !used[want] {
			t.Errorf("the dashboard has no panel on %s", want)
		}
	}
}

func TestStageMetrics(t *testing.T) {
	m := newMetrics()
	m.observe(0, empplay.Report{Done: &empplay.JobEvent{Type: "p5", Outcome: "success", Seconds: 0.5,
		Stages: map[string]float64{"ready": 0.2, "upload": 0.01, "bogus": 1}}}, 0)
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	for _, f := range fams {
		if f.GetName() != "empplay_job_stage_duration_seconds" {
			continue
		}
		for _, s := range f.GetMetric() {
			l := map[string]string{}
			for _, p := range s.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			if l["type"] != "p5" || l["outcome"] != "success" {
				t.Errorf("labels %v; want type p5, outcome success", l)
			}
			got[l["stage"]] = s.GetHistogram().GetSampleCount()
		}
	}
	if len(got) != 2 || got["ready"] != 1 || got["upload"] != 1 {
		t.Errorf("stage samples %v; want one ready and one upload (and no unknown stage)", got)
	}
}

func TestRestartReasons(t *testing.T) {
	for _, tc := range []struct {
		exit supervisor.Exit
		want string
	}{
		{supervisor.Exit{Reason: "exited", ExitCode: 1}, "exited"},
		{supervisor.Exit{Reason: "exited", ExitCode: -1, Signal: "SIGKILL"}, "signaled"},
		{supervisor.Exit{Reason: "exited", ExitCode: empplay.ExitConfig}, "config_error"},
		{supervisor.Exit{Reason: "stopped"}, "stopped"},
		{supervisor.Exit{Reason: "stopped: rolling restart"}, "rolling_restart"},
		{supervisor.Exit{Reason: "killed: no report for 15s"}, "no_report"},
		{supervisor.Exit{Reason: "killed: wedged consumer"}, "wedged_consumer"},
		{supervisor.Exit{Reason: "killed: job overran its deadline"}, "job_overran"},
		{supervisor.Exit{Reason: "killed: still running 40s after SIGTERM"}, "stop_timeout"},
		{supervisor.Exit{Reason: "killed: forced stop"}, "forced_stop"},
		{supervisor.Exit{Reason: "start failed: fork/exec /x: no such file"}, "start_failed"},
		{supervisor.Exit{Reason: "something new"}, "other"},
	} {
		if got := workerRestartReason(tc.exit); got != tc.want {
			t.Errorf("workerRestartReason(%+v) = %q; want %q", tc.exit, got, tc.want)
		}
	}
	for in, want := range map[string]string{"recycled": "recycled", "killed": "killed", "connection lost": "connection_lost", "gpu memory": "other"} {
		if got := browserRestartReason(in); got != want {
			t.Errorf("browserRestartReason(%q) = %q; want %q", in, got, want)
		}
	}
}
