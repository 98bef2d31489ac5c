package worker

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/empplay/empplay/gpu"
	"github.com/empplay/empplay/internal/testenv"
)

type fakeNVML struct {
	procs []gpu.ProcessMemory
	err   error
}

func (f fakeNVML) Processes() ([]gpu.ProcessMemory, error) { return f.procs, f.err }

// fakeBrowser is a browser of process group 10 that records recycles.
type fakeBrowser struct {
	mu       sync.Mutex
	recycled []string
}

func (b *fakeBrowser) PID() int { return 10 }

func (b *fakeBrowser) Recycle(_ context.Context, reason string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.recycled = append(b.recycled, reason)
	return nil
}

func (b *fakeBrowser) recycles() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.recycled)
}

// newTestWatch returns a watch whose pgrpOf puts pids 11 and 12 in the
// browser's group, 10, and 99 in another.
func newTestWatch(nv fakeNVML, br *fakeBrowser, cfg GPUWatchConfig) *GPUWatch {
	g := NewGPUWatch(nv, br, cfg, slog.New(slog.DiscardHandler))
	g.pgrpOf = func(pid int) (int, bool) { return map[int]int{11: 10, 12: 10, 99: 98}[pid], true }
	return g
}

func TestGPUWatchCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		limit    uint64
		procs    []gpu.ProcessMemory
		err      error
		used     int64
		recycled bool
	}{
		{"under the limit", 1000, []gpu.ProcessMemory{{PID: 11, Bytes: 600}, {PID: 99, Bytes: 5000}}, nil, 600, false},
		{"over the limit", 1000, []gpu.ProcessMemory{{PID: 11, Bytes: 600}, {PID: 12, Bytes: 600}}, nil, 0, true},
		{"no limit", 0, []gpu.ProcessMemory{{PID: 11, Bytes: 6000}}, nil, 6000, false},
		{"NVML error", 1000, nil, errors.New("gone"), 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			br := &fakeBrowser{}
			g := newTestWatch(fakeNVML{tc.procs, tc.err}, br, GPUWatchConfig{Limit: tc.limit})
			g.check(context.Background(), br.PID())
			if g.Used() != tc.used || (br.recycles() > 0) != tc.recycled {
				t.Errorf("used %d, recycled %v; want %d, %v", g.Used(), br.recycled, tc.used, tc.recycled)
			}
		})
	}
}

func TestGPUWatchRun(t *testing.T) {
	t.Parallel()
	br := &fakeBrowser{}
	g := newTestWatch(fakeNVML{procs: []gpu.ProcessMemory{{PID: 11, Bytes: 2000}}}, br, GPUWatchConfig{Limit: 1000, Every: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { g.Run(ctx); close(done) }()
	testenv.Eventually(t, 10*time.Second, time.Millisecond, func() bool { return br.recycles() >= 2 },
		"the watch never recycled an over-limit browser twice")
	cancel()
	<-done
	if br.recycled[0] != "gpu memory" {
		t.Errorf("recycle reason %q", br.recycled[0])
	}
	var none *GPUWatch
	if none.Used() != 0 {
		t.Error("a nil watch reports memory")
	}
	if d := NewGPUWatch(fakeNVML{}, br, GPUWatchConfig{}, slog.New(slog.DiscardHandler)); d.cfg.Every != 5*time.Second {
		t.Errorf("default interval %v; want 5s", d.cfg.Every)
	}
}
