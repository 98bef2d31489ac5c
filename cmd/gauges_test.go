package cmd

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/empplay/empplay/gpu"
	"github.com/empplay/empplay/internal/testenv"
	"github.com/empplay/empplay/queue"
	"github.com/empplay/empplay/supervisor"
)

type fakeStats struct {
	st  *queue.Stats
	err error
}

func (f fakeStats) Stats(context.Context) (*queue.Stats, error) { return f.st, f.err }

type fakeSlots []supervisor.SlotStatus

func (f fakeSlots) Status() []supervisor.SlotStatus { return f }

type fakeRedis bool

func (r fakeRedis) Healthy(context.Context) bool { return bool(r) }

func TestQueueGauges(t *testing.T) {
	t.Parallel()
	st := &queue.Stats{Pending: 4, Retrying: 3, Dead: 2, GPULane: 1, GPUWorkers: 5, OldestPendingAgeMs: 1500}
	for _, tc := range []struct {
		name    string
		redis   bool
		err     error
		redisUp float64
		pending float64
		oldest  float64
	}{
		{name: "redis up", redis: true, redisUp: 1, pending: 4, oldest: 1.5},
		{name: "redis down: depths untouched", redis: false, redisUp: 0},
		{name: "stats fail: depths untouched", redis: true, err: errors.New("timeout"), redisUp: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := newMetrics()
			q := &queueGauges{stats: fakeStats{st, tc.err}, sup: fakeSlots{{Ready: true}, {}, {Ready: true}}, redis: fakeRedis(tc.redis), m: m}
			q.refresh(context.Background())
			if v := value(t, m.ready); v != 2 {
				t.Errorf("ready %v; want 2", v)
			}
			if v := value(t, m.redisUp); v != tc.redisUp {
				t.Errorf("redis up %v; want %v", v, tc.redisUp)
			}
			if v := value(t, m.queueDepth.WithLabelValues("pending")); v != tc.pending {
				t.Errorf("pending %v; want %v", v, tc.pending)
			}
			if v := value(t, m.oldestAge); v != tc.oldest {
				t.Errorf("oldest age %v; want %v", v, tc.oldest)
			}
		})
	}
}

type fakeDevices []gpu.Device

func (f fakeDevices) Devices() ([]gpu.Device, error) { return f, nil }

func TestGPUGauges(t *testing.T) {
	t.Parallel()
	m := newMetrics()
	g := &gpuGauges{nv: fakeDevices{{Index: 0, Name: "H200", MemoryTotal: 100, MemoryFree: 40}}, m: m, every: time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { g.Run(ctx); close(done) }()
	testenv.Eventually(t, 10*time.Second, time.Millisecond, func() bool { return value(t, m.gpuFree.WithLabelValues("0", "H200")) == 40 },
		"the GPU gauges were never refreshed")
	cancel()
	<-done
	if v := value(t, m.gpuTotal.WithLabelValues("0", "H200")); v != 100 {
		t.Errorf("total %v; want 100", v)
	}
}
