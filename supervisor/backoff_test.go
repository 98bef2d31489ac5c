package supervisor

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestRestartDelay(t *testing.T) {
	t.Parallel()
	const base, capDelay = 250 * time.Millisecond, 30 * time.Second
	top := func(n int64) int64 { return n - 1 } // the largest value jitter may return
	for _, tc := range []struct {
		failures int
		degraded bool
		want     time.Duration // with top
	}{
		{failures: 0, want: 0},
		{failures: 1, want: 0},
		{failures: 2, want: base},
		{failures: 3, want: 2 * base},
		{failures: 4, want: 4 * base},
		{failures: 8, want: 64 * base},
		{failures: 9, want: capDelay},
		{failures: 1000, want: capDelay},
		{failures: 1, degraded: true, want: capDelay},
		{failures: 7, degraded: true, want: capDelay},
	} {
		if got := restartDelay(tc.failures, base, capDelay, tc.degraded, top); got != tc.want {
			t.Errorf("restartDelay(%d, degraded=%v) = %v; want %v", tc.failures, tc.degraded, got, tc.want)
		}
	}

	// Full jitter stays within [0, ceiling]; degraded within [cap/2, cap].
	rnd := rand.New(rand.NewPCG(1, 2))
	for failures := 1; failures < 20; failures++ {
		ceiling := restartDelay(failures, base, capDelay, false, top)
		for range 100 {
			if d := restartDelay(failures, base, capDelay, false, rnd.Int64N); d < 0 || d > ceiling {
				t.Fatalf("restartDelay(%d) = %v; want within [0, %v]", failures, d, ceiling)
			}
			if d := restartDelay(failures, base, capDelay, true, rnd.Int64N); d < capDelay/2 || d > capDelay {
				t.Fatalf("degraded restartDelay(%d) = %v; want within [%v, %v]", failures, d, capDelay/2, capDelay)
			}
		}
	}
	if got := restartDelay(1, base, capDelay, false, func(int64) int64 { panic("jitter for an immediate restart") }); got != 0 {
		t.Fatalf("first restart delay = %v; want 0", got)
	}
}
