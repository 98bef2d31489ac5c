package worker

import (
	"math/rand/v2"
	"time"
)

// Backoff returns the delay before retry number attempt (1-based): capped
// exponential with full jitter, so a burst of failures does not come back
// as a burst.
func Backoff(attempt int, base, max time.Duration) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return time.Duration(rand.Int64N(int64(d) + 1))
}
