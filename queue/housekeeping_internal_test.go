package queue

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/empplay/empplay/internal/testenv"
)

// fakeMaintenance counts the duties a Housekeeper runs.
type fakeMaintenance struct {
	mu                              sync.Mutex
	promotes, drains, marks, sweeps int
	seenTTL, lockTTL                time.Duration
	err                             error
	// unbounded counts the calls whose context had no deadline.
	unbounded int
}

func (f *fakeMaintenance) bounded(ctx context.Context) {
	if _, ok := ctx.Deadline(); !ok {
		f.unbounded++
	}
}

func (f *fakeMaintenance) Promote(ctx context.Context) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bounded(ctx)
	f.promotes++
	return 0, f.err
}

func (f *fakeMaintenance) DrainGPU(ctx context.Context) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bounded(ctx)
	f.drains++
	return 1, f.err
}

func (f *fakeMaintenance) MarkSeen(ctx context.Context, ttl time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bounded(ctx)
	f.marks++
	f.seenTTL = ttl
	return f.err
}

func (f *fakeMaintenance) Sweep(ctx context.Context, lock time.Duration) (SweepResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bounded(ctx)
	f.sweeps++
	f.lockTTL = lock
	return SweepResult{Elected: true, Workers: 1, Recovered: 2}, f.err
}

func (f *fakeMaintenance) counts() (promotes, drains, marks, sweeps int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.promotes, f.drains, f.marks, f.sweeps
}

// waitUntil polls cond until it holds or the test has waited too long.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, 10*time.Second, time.Millisecond, cond, "timed out waiting for %s", what)
}

func TestHousekeeperRunsEachDutyOnItsSchedule(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"duties succeed", nil},
		{"failures are retried at the next tick", errors.New("redis down")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeMaintenance{err: tc.err}
			h := newHousekeeper(f, HousekeepingConfig{PromoteEvery: 2 * time.Millisecond, SweepEvery: 20 * time.Millisecond, SeenTTL: time.Minute},
				slog.New(slog.DiscardHandler))
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { h.Run(ctx); close(done) }()
			waitUntil(t, "two sweeps", func() bool { _, _, _, s := f.counts(); return s >= 2 })
			cancel()
			<-done
			p, d, m, s := f.counts()
			if p < s || d != p || m != p {
				t.Errorf("%d promotions, %d drains, %d marks for %d sweeps; want promotions, drains and marks together, at least as often as sweeps", p, d, m, s)
			}
			if f.seenTTL != time.Minute || f.lockTTL != 4*time.Second {
				t.Errorf("seen TTL %v, lock TTL %v; want 1m and the default 4s", f.seenTTL, f.lockTTL)
			}
			if f.unbounded != 0 {
				t.Errorf("%d duty calls without a deadline", f.unbounded)
			}
			// Stopped means stopped: nothing to wait for, so give a duty
			// that outlived Run a few of its 2ms ticks to show itself.
			time.Sleep(30 * time.Millisecond)
			if p2, _, _, s2 := f.counts(); p2 != p || s2 != s {
				t.Errorf("duties ran after Run returned")
			}
		})
	}
}

func TestHousekeepingDefaults(t *testing.T) {
	t.Parallel()
	h := newHousekeeper(&fakeMaintenance{}, HousekeepingConfig{}, slog.New(slog.DiscardHandler))
	want := HousekeepingConfig{PromoteEvery: time.Second, SweepEvery: 5 * time.Second, SweepLock: 4 * time.Second, SeenTTL: 7 * 24 * time.Hour}
	if h.cfg != want {
		t.Errorf("defaults %+v; want %+v", h.cfg, want)
	}
}

// fakeBeats answers heartbeats from a script of errors, then nil.
type fakeBeats struct {
	mu    sync.Mutex
	beats int
	errs  []error
}

func (f *fakeBeats) Heartbeat(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		return errors.New("heartbeat without a deadline")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.beats++
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return err
	}
	return nil
}

func (f *fakeBeats) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.beats
}

func TestHeartbeatRun(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.DiscardHandler)
	t.Run("fenced stops at once", func(t *testing.T) {
		t.Parallel()
		f := &fakeBeats{errs: []error{errors.New("timeout"), nil, ErrFenced}}
		err := newHeartbeat(f, time.Millisecond, time.Second, logger).Run(context.Background())
		if !errors.Is(err, ErrFenced) || f.count() != 3 {
			t.Errorf("Run = %v after %d beats; want ErrFenced after 3", err, f.count())
		}
	})
	t.Run("beats until cancelled", func(t *testing.T) {
		t.Parallel()
		f := &fakeBeats{}
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- newHeartbeat(f, time.Millisecond, time.Second, logger).Run(ctx) }()
		waitUntil(t, "three beats", func() bool { return f.count() >= 3 })
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Run after cancel = %v; want nil", err)
		}
	})
	t.Run("defaults", func(t *testing.T) {
		t.Parallel()
		h := newHeartbeat(&fakeBeats{}, 0, 0, logger)
		if h.every != 5*time.Second || h.timeout != 4*time.Second {
			t.Errorf("every %v, timeout %v; want 5s, 4s", h.every, h.timeout)
		}
	})
}
