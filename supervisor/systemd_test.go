package supervisor

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/testenv"
)

type fakeNotifier struct {
	enabled  bool
	watchdog time.Duration
	mu       sync.Mutex
	sent     []string
}

func (f *fakeNotifier) Enabled() bool                   { return f.enabled }
func (f *fakeNotifier) WatchdogInterval() time.Duration { return f.watchdog }
func (f *fakeNotifier) Notify(state string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, state)
	return nil
}

func (f *fakeNotifier) states() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sent)
}

type fakeStatus struct {
	mu    sync.Mutex
	slots []SlotStatus
	calls int // Status calls: one per tick of Systemd.Run
}

func (f *fakeStatus) Status() []SlotStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return slices.Clone(f.slots)
}

func (f *fakeStatus) ticks() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *fakeStatus) set(s []SlotStatus) {
	f.mu.Lock()
	f.slots = s
	f.mu.Unlock()
}

type fakeHealth bool

func (h fakeHealth) Healthy(context.Context) bool { return bool(h) }

func TestSystemd(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.DiscardHandler)
	t.Run("not under systemd", func(t *testing.T) {
		t.Parallel()
		n := &fakeNotifier{}
		NewSystemd(n, &fakeStatus{}, fakeHealth(true), 2, logger).Run(context.Background()) // returns at once
		if len(n.states()) != 0 {
			t.Errorf("sent %v without NOTIFY_SOCKET", n.states())
		}
	})
	t.Run("watchdog sets the interval", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			wd, want time.Duration
		}{{0, time.Second}, {5 * time.Second, time.Second}, {200 * time.Millisecond, 200 * time.Millisecond}} {
			if got := NewSystemd(&fakeNotifier{watchdog: tc.wd}, &fakeStatus{}, fakeHealth(true), 1, logger).every; got != tc.want {
				t.Errorf("watchdog %v: every %v; want %v", tc.wd, got, tc.want)
			}
		}
	})
	for _, tc := range []struct {
		name     string
		redis    bool
		slots    []SlotStatus
		want     []string // in order, among what was sent
		notReady bool
	}{
		{name: "ready and healthy", redis: true,
			slots: []SlotStatus{{Ready: true}, {Ready: false}},
			want:  []string{"READY=1", "STATUS=1/2 workers ready, redis up", "WATCHDOG=1"}},
		{name: "redis down: no READY, no watchdog", redis: false,
			slots: []SlotStatus{{Ready: true}, {Ready: true}},
			want:  []string{"STATUS=2/2 workers ready, redis DOWN"}, notReady: true},
		{name: "a GPU slot in software", redis: true,
			slots: []SlotStatus{{Ready: true, LastReport: empplay.Report{GPUDegraded: "SwiftShader"}}, {Ready: true}},
			want:  []string{"READY=1", "STATUS=2/2 workers ready, redis up, 1 GPU slot(s) rendering in software"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := &fakeNotifier{enabled: true, watchdog: 5 * time.Millisecond}
			st := &fakeStatus{}
			st.set(tc.slots)
			s := NewSystemd(n, st, fakeHealth(tc.redis), 2, logger)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { s.Run(ctx); close(done) }()
			// Wait for a few ticks: STATUS is sent once, READY once, and
			// an unhealthy host sends neither READY nor WATCHDOG in any.
			// The 6th tick begins after the 5th has sent all it sends.
			testenv.Eventually(t, 10*time.Second, time.Millisecond, func() bool { return st.ticks() >= 6 }, "Systemd.Run ticked fewer than 6 times")
			cancel()
			<-done
			got := n.states()
			i := 0
			for _, s := range got {
				if i < len(tc.want) && s == tc.want[i] {
					i++
				}
			}
			if i < len(tc.want) {
				t.Errorf("sent %q; want %q in that order", got, tc.want)
			}
			count := map[string]int{}
			for _, s := range got {
				count[s]++
			}
			if count["READY=1"] > 1 || (tc.notReady && (count["READY=1"] > 0 || count["WATCHDOG=1"] > 0)) {
				t.Errorf("sent %q: READY at most once, and neither READY nor WATCHDOG while unhealthy", got)
			}
			for s, c := range count {
				if len(s) > 7 && s[:7] == "STATUS=" && c > 1 {
					t.Errorf("unchanged %q sent %d times", s, c)
				}
			}
		})
	}
}
