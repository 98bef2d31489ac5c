package cmd

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/empplay/empplay"
)

// The asset cache's hits and misses reach /metrics from the workers' job
// reports.
func TestMetricsCountAssetFiles(t *testing.T) {
	t.Parallel()
	m := newMetrics()
	m.observe(0, empplay.Report{Done: &empplay.JobEvent{Type: "p5", Outcome: "success", AssetHits: 2, AssetMisses: 1}}, 0)
	m.observe(1, empplay.Report{Done: &empplay.JobEvent{Type: "p5", Outcome: "failed", AssetMisses: 1}}, 0)
	m.observe(1, empplay.Report{}, 0) // no job: nothing counted
	if hit, miss := testutil.ToFloat64(m.assets.WithLabelValues("hit")), testutil.ToFloat64(m.assets.WithLabelValues("miss")); hit != 2 || miss != 2 {
		t.Fatalf("hit %v miss %v; want 2 and 2", hit, miss)
	}
}
