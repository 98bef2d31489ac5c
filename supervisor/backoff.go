package supervisor

import "time"

// restartDelay returns how long a slot waits before its next start, given
// failures, the number of failed runs in a row including the one that just
// ended (1 for the first). The first restart is immediate, so that a single
// crash costs no capacity; then the ceiling doubles from base up to max and
// the delay is drawn from [0, ceiling] (full jitter), so that slots that
// failed together do not come back together. A degraded slot waits between
// max/2 and max: it is retried at the cap, never given up on.
//
// jitter(n) returns a uniform value in [0, n).
func restartDelay(failures int, base, max time.Duration, degraded bool, jitter func(n int64) int64) time.Duration {
	if max <= 0 {
		return 0
	}
	if degraded {
		half := max / 2
		return half + time.Duration(jitter(int64(max-half)+1))
	}
	if failures <= 1 || base <= 0 {
		return 0
	}
	ceiling := min(base, max)
	for i := 2; i < failures && ceiling < max; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, max)
	return time.Duration(jitter(int64(ceiling) + 1))
}
