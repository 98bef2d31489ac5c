package worker

import (
	"testing"
	"time"
)

func TestBackoffIsCappedFullJitter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		attempt int
		max     time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {10, 30 * time.Second}, {60, 30 * time.Second}} {
		var seenLow, seenHigh bool
		for range 2000 {
			d := Backoff(tc.attempt, time.Second, 30*time.Second)
			if d < 0 || d > tc.max {
				t.Fatalf("Backoff(%d) = %v; want within [0, %v]", tc.attempt, d, tc.max)
			}
			seenLow = seenLow || d < tc.max/4
			seenHigh = seenHigh || d > tc.max*3/4
		}
		if !seenLow || !seenHigh {
			t.Errorf("Backoff(%d) does not spread over [0, %v] (full jitter)", tc.attempt, tc.max)
		}
	}
}
