package broker

import (
	"math/rand/v2"
	"time"
)

// Backoff returns the delay before reconnect attempt n (n ≥ 1) for a bus
// broker: base·2^(n-1), capped at max, minus up to 50 % random jitter so
// that nodes cut off together do not reconnect in lockstep. The result is
// in [d/2, d] for that capped delay d. A max below base is treated as base;
// an n below 1 is treated as 1.
func Backoff(n int, base, max time.Duration) time.Duration {
	if max < base {
		max = base
	}
	if n < 1 {
		n = 1
	}
	d := max
	if n < 32 {
		if e := base << (n - 1); e > 0 && e < d {
			d = e
		}
	}
	if d <= 0 {
		return 0
	}
	return d - time.Duration(rand.Int64N(int64(d)/2+1))
}
