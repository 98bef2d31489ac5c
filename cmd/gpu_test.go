package cmd

import (
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/gpu"
	"github.com/empplay/empplay/supervisor"
)

func TestGPUSharePlan(t *testing.T) {
	t.Parallel()
	l4 := gpuChoice{Backend: gpu.NVIDIA, Detected: gpu.Info{NVIDIA: []gpu.Device{{Name: "NVIDIA L4", MemoryTotal: 24 << 30, MemoryFree: 24 << 30}}}}
	pools := []supervisor.Pool{{Name: supervisor.PoolComfyUI, Count: 2}, {Name: supervisor.PoolPlaywright, Count: 6}}
	for _, tc := range []struct {
		name  string
		flags gpuShareFlags
		c     gpuChoice
		mode  string
		slots int
		err   string
	}{
		// 24 GiB - 2 x 8 GiB - 2.4 GiB headroom = 5.6 GiB; 1.5 GiB a slot.
		{"defaults", gpuShareFlags{comfyMemory: "8GiB", complexity: "high", maxSlots: -1}, l4, "auto", 3, ""},
		{"smaller comfyui", gpuShareFlags{comfyMemory: "4GiB", complexity: "high", maxSlots: -1}, l4, "auto", 6, ""},
		{"low jobs", gpuShareFlags{comfyMemory: "8GiB", complexity: "low", maxSlots: -1}, l4, "auto", 6, ""},
		{"explicit slot memory", gpuShareFlags{comfyMemory: "8GiB", slotMemory: "2800MiB", complexity: "high", maxSlots: -1}, l4, "auto", 2, ""},
		{"capped", gpuShareFlags{comfyMemory: "8GiB", complexity: "high", maxSlots: 1}, l4, "auto", 1, ""},
		{"cpu host", gpuShareFlags{comfyMemory: "8GiB", complexity: "high", maxSlots: -1}, gpuChoice{Backend: gpu.CPU}, "auto", 0, ""},
		{"bad complexity", gpuShareFlags{comfyMemory: "8GiB", complexity: "extreme", maxSlots: -1}, l4, "auto", 0, "GPU_PLAN_COMPLEXITY"},
		{"bad comfyui memory", gpuShareFlags{comfyMemory: "much", complexity: "high", maxSlots: -1}, l4, "auto", 0, "COMFYUI_GPU_MEMORY"},
		{"zero slot memory", gpuShareFlags{comfyMemory: "8GiB", slotMemory: "0", complexity: "high", maxSlots: -1}, l4, "auto", 0, "GPU_SLOT_MEMORY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := tc.flags.plan(tc.c, pools, tc.mode)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || empplay.ExitCode(err) != empplay.ExitConfig {
					t.Fatalf("plan error %v; want a configuration error naming %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.GPUSlots != tc.slots {
				t.Errorf("plan %+v; want %d GPU slots", p, tc.slots)
			}
		})
	}
}

func TestMetricsGPU(t *testing.T) {
	t.Parallel()
	m := newMetrics()
	sw := "ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)"
	m.observe(0, empplay.Report{State: "idle", Backend: "nvidia", Lane: "cpu", Renderer: sw, GPUDegraded: "software", GPUMemory: 5, GPUMemoryLimit: 9,
		Done: &empplay.JobEvent{Type: "p5", Outcome: "success", Renderer: sw}}, 0)
	m.observe(1, empplay.Report{State: "idle", Backend: "cpu", Lane: "cpu", Done: &empplay.JobEvent{Type: "p5", Outcome: "success"}}, 0)
	if v := value(t, m.jobsByRenderer.WithLabelValues("p5", "success", "software", sw)); v != 1 {
		t.Errorf("software jobs %v; want 1", v)
	}
	if v := value(t, m.jobsByRenderer.WithLabelValues("p5", "success", "none", "")); v != 1 {
		t.Errorf("2D jobs %v; want 1", v)
	}
	if v := value(t, m.gpuDegraded.WithLabelValues("0")); v != 1 {
		t.Errorf("slot 0 degraded %v; want 1", v)
	}
	if v := value(t, m.gpuMemory.WithLabelValues("0")); v != 5 {
		t.Errorf("slot 0 GPU memory %v; want 5", v)
	}
	// A changed renderer replaces the slot's info series.
	m.observe(0, empplay.Report{State: "idle", Backend: "nvidia", Lane: "gpu", Renderer: "ANGLE (NVIDIA)"}, 0)
	if n := count(m.workerGPU); n != 2 {
		t.Errorf("%d info series; want one per slot", n)
	}
	if got := rendererKind("ANGLE (NVIDIA Corporation, NVIDIA L4/PCIe/SSE2, OpenGL ES 3.2)"); got != "gpu" {
		t.Errorf("rendererKind(NVIDIA) = %s", got)
	}
}

// value reads the one metric of c.
func value(t *testing.T, c prometheus.Collector) float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 1)
	c.Collect(ch)
	close(ch)
	var d dto.Metric
	if err := (<-ch).Write(&d); err != nil {
		t.Fatal(err)
	}
	switch {
	case d.Counter != nil:
		return d.Counter.GetValue()
	case d.Gauge != nil:
		return d.Gauge.GetValue()
	}
	t.Fatalf("metric %v is no counter or gauge", &d)
	return 0
}

// count returns how many series c has.
func count(c prometheus.Collector) int {
	ch := make(chan prometheus.Metric, 100)
	c.Collect(ch)
	close(ch)
	return len(ch)
}

// The GPU series pass promtool's lint, as the rest of /metrics does.
func TestMetricsGPUPromtool(t *testing.T) {
	t.Parallel()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (Debian package prometheus)")
	}
	m := newMetrics()
	m.observePlan(gpuChoice{Detected: gpu.Info{NVIDIA: []gpu.Device{{Name: "NVIDIA L4", MemoryTotal: 24 << 30, MemoryFree: 20 << 30}}}},
		gpu.Plan{GPUSlots: 1})
	m.observe(0, empplay.Report{State: "idle", Backend: "nvidia", Lane: "gpu", Renderer: "ANGLE (NVIDIA)", GPUMemory: 5, GPUMemoryLimit: 9,
		Done: &empplay.JobEvent{Type: "p5", Outcome: "success", Renderer: "ANGLE (NVIDIA)"}}, 0)
	m.queueDepth.WithLabelValues("gpu_lane").Set(2)
	m.gpuWorkers.Set(1)
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	check := exec.Command(promtool, "check", "metrics")
	check.Stdin = rec.Body
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

func TestWorkerArgs(t *testing.T) {
	t.Parallel()
	plan := gpu.Plan{GPUSlots: 1, Share: 3 << 30}
	gpuSlot := workerArgs(supervisor.Slot{WorkerID: "w0", ProfileDir: "/p0", GPU: true}, gpu.NVIDIA, plan)
	cpuSlot := workerArgs(supervisor.Slot{Index: 1, WorkerID: "w1", ProfileDir: "/p1"}, gpu.NVIDIA, plan)
	if got := strings.Join(gpuSlot, " "); got != "worker --worker-id w0 --profile-dir /p0 --renderer-cpu 0 --gpu-backend nvidia --gpu-memory-limit 3072MiB" {
		t.Errorf("GPU slot args: %s", got)
	}
	if got := strings.Join(cpuSlot, " "); got != "worker --worker-id w1 --profile-dir /p1 --renderer-cpu 1 --gpu-backend cpu" {
		t.Errorf("CPU slot args: %s", got)
	}
	// The worker parses the limit it is given.
	if n, err := gpu.ParseSize("3072MiB"); err != nil || n != 3<<30 {
		t.Errorf("gpu.ParseSize(3072MiB) = %d, %v", n, err)
	}
}
