package ratelimit

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Algorithm is how a policy counts requests.
type Algorithm uint8

// The algorithms. Every one admits Limit requests per Window in the long
// run; they differ at the edges.
const (
	// FixedWindow counts requests in windows aligned to multiples of
	// Window; the count starts again at each window's start, so up to
	// twice Limit may pass around a boundary.
	FixedWindow Algorithm = iota + 1
	// SlidingWindow weighs the previous fixed window's count by how much
	// of it still overlaps the sliding window ending now, plus the
	// current window's count (Cloudflare's approximation): no burst at
	// window boundaries, two counters per key.
	SlidingWindow
	// TokenBucket holds Burst tokens, refilled at Limit per Window; a
	// request takes one.
	TokenBucket
	// GCRA is the generic cell rate algorithm (the leaky bucket as a
	// meter): one theoretical arrival time per key, requests spaced
	// Window/Limit apart with a tolerance of Burst requests.
	GCRA
)

// String returns the algorithm's name.
func (a Algorithm) String() string {
	switch a {
	case FixedWindow:
		return "fixed window"
	case SlidingWindow:
		return "sliding window"
	case TokenBucket:
		return "token bucket"
	case GCRA:
		return "GCRA"
	}
	return "Algorithm(" + strconv.Itoa(int(a)) + ")"
}

// Policy is a quota: Limit requests per Window, counted by Algorithm.
type Policy struct {
	// Name identifies the policy in the RateLimit-Policy and RateLimit
	// fields and namespaces its keys in a shared store ("default" when
	// empty).
	Name string
	// Algorithm counts the requests (FixedWindow when zero).
	Algorithm Algorithm
	// Limit is the quota: requests admitted per Window. Required.
	Limit int
	// Window is the quota's time window, at least a millisecond.
	// Required.
	Window time.Duration
	// Burst is the bucket size of TokenBucket and GCRA: requests admitted
	// at once after a quiet period (Limit when zero). The window
	// algorithms do not take it.
	Burst int
}

// Decision is what a policy decided for one request.
type Decision struct {
	// Allowed reports whether the request is within the quota.
	Allowed bool
	// Limit is the policy's quota (Policy.Limit).
	Limit int
	// Remaining is the quota left after this request.
	Remaining int
	// Reset is the time until the quota is whole again (the window ends,
	// the bucket is full).
	Reset time.Duration
	// RetryAfter is, for a denied request, the time until a request
	// would be allowed.
	RetryAfter time.Duration
}

// check validates p and fills its defaults.
func (p *Policy) check() error {
	if p.Name == "" {
		p.Name = "default"
	}
	for i := range len(p.Name) {
		if c := p.Name[i]; c < 0x20 || c > 0x7e {
			return fmt.Errorf("Policy.Name %q has a character outside printable ASCII; it is sent in the RateLimit fields", p.Name)
		}
	}
	if p.Algorithm == 0 {
		p.Algorithm = FixedWindow
	}
	if p.Algorithm > GCRA {
		return fmt.Errorf("Policy.Algorithm is %v; use FixedWindow, SlidingWindow, TokenBucket or GCRA", p.Algorithm)
	}
	if p.Limit <= 0 {
		return fmt.Errorf("Policy.Limit is %d; give the requests admitted per window (at least 1)", p.Limit)
	}
	if p.Window < time.Millisecond {
		return fmt.Errorf("Policy.Window is %v; give the quota's window, at least 1ms", p.Window)
	}
	win := p.Window.Microseconds()
	switch p.Algorithm {
	case FixedWindow, SlidingWindow:
		if p.Burst != 0 {
			return fmt.Errorf("Policy.Burst is set for a %v, which has no bucket; drop it or use TokenBucket or GCRA", p.Algorithm)
		}
	case TokenBucket, GCRA:
		if p.Burst == 0 {
			p.Burst = p.Limit
		}
		if p.Burst < 0 {
			return fmt.Errorf("Policy.Burst is %d; give the bucket size, or 0 for Limit", p.Burst)
		}
		if p.Algorithm == GCRA && win/int64(p.Limit) < 1 {
			return fmt.Errorf("Policy: %d requests per %v space them less than 1µs apart; use a longer window or a smaller limit", p.Limit, p.Window)
		}
		// The bucket is counted in token-microseconds (TokenBucket) or
		// microseconds (GCRA); both must stay exact in a float64, which
		// is what Redis scripts compute with.
		if float64(p.Burst)*float64(win) > 1<<53 {
			return errors.New("Policy: Burst × Window is too large to count exactly; use a shorter window or a smaller burst")
		}
	}
	return nil
}

// state is a key's counters; what they mean depends on the algorithm:
//
//	FixedWindow    a: window start (µs), b: count
//	SlidingWindow  a: current window start (µs), b: its count, c: the previous window's count
//	TokenBucket    a: tokens × Window in µs (token-microseconds), b: last refill (µs)
//	GCRA           a: theoretical arrival time (µs)
type state struct{ a, b, c int64 }

// take applies one request of cost units at now (µs since the Unix epoch)
// to st, which fresh is false for a key never seen (or expired), and
// returns the decision and the time (µs) after which the key's state is
// the same as a fresh one's and may be dropped. The Redis store's script
// is this function in Lua, step for step.
func (p *Policy) take(st *state, fresh bool, now, cost int64) (d Decision, expires int64) {
	win := p.Window.Microseconds()
	limit := int64(p.Limit)
	d.Limit = p.Limit
	switch p.Algorithm {
	case FixedWindow:
		start := now - now%win
		if fresh || st.a != start {
			st.a, st.b = start, 0
		}
		end := start + win
		if st.b+cost <= limit {
			st.b += cost
			d.Allowed = true
		} else {
			d.RetryAfter = micros(end - now)
		}
		d.Remaining = int(limit - st.b)
		d.Reset = micros(end - now)
		return d, end
	case SlidingWindow:
		start := now - now%win
		if fresh {
			st.a, st.b, st.c = start, 0, 0
		} else if st.a != start {
			if start-st.a == win {
				st.c = st.b
			} else {
				st.c = 0
			}
			st.a, st.b = start, 0
		}
		elapsed := now - start
		weight := float64(win-elapsed) / float64(win)
		// The conversion rounds the product: no fused multiply-add, so
		// the Redis script's doubles come out the same.
		used := float64(float64(st.c)*weight) + float64(st.b)
		if used+float64(cost) <= float64(limit) {
			st.b += cost
			used += float64(cost)
			d.Allowed = true
		} else {
			d.RetryAfter = micros(slidingWait(st, win, elapsed, limit, cost))
		}
		d.Remaining = max(0, int(math.Floor(float64(limit)-used)))
		d.Reset = micros(win - elapsed)
		return d, start + 2*win
	case TokenBucket:
		capacity := int64(p.Burst) * win
		if fresh {
			st.a, st.b = capacity, now
		} else if elapsed := now - st.b; elapsed > 0 {
			if elapsed >= (capacity-st.a+limit-1)/limit {
				st.a = capacity
			} else {
				st.a += elapsed * limit
			}
			st.b = now
		}
		need := cost * win
		if st.a >= need {
			st.a -= need
			d.Allowed = true
		} else {
			d.RetryAfter = micros(ceilDiv(need-st.a, limit))
		}
		d.Remaining = int(st.a / win)
		full := ceilDiv(capacity-st.a, limit)
		d.Reset = micros(full)
		return d, now + full
	default: // GCRA
		interval := win / limit
		tolerance := int64(p.Burst) * interval
		tat := now
		if !fresh && st.a > now {
			tat = st.a
		}
		next := tat + cost*interval
		if next-now <= tolerance {
			st.a = next
			tat = next
			d.Allowed = true
		} else {
			d.RetryAfter = micros(next - now - tolerance)
		}
		d.Remaining = int((tolerance - (tat - now)) / interval)
		d.Reset = micros(tat - now)
		return d, max(tat, now)
	}
}

// slidingWait returns how long (µs) until a request of cost units fits a
// sliding window: later in this window, as the previous window's weight
// falls, or in the next one, where this window's count is the previous.
func slidingWait(st *state, win, elapsed, limit, cost int64) int64 {
	if room := limit - st.b - cost; room >= 0 && st.c > 0 {
		// c·(win−e)/win + b + cost ≤ limit  ⇔  e ≥ win − room·win/c
		at := win - int64(math.Floor(float64(room)*float64(win)/float64(st.c)))
		return max(1, at-elapsed)
	}
	if cost > limit {
		return win - elapsed + win // never fits; report the longest wait
	}
	at := int64(0)
	if st.b > 0 {
		at = max(0, win-int64(math.Floor(float64(limit-cost)*float64(win)/float64(st.b))))
	}
	return win - elapsed + at
}

func ceilDiv(a, b int64) int64 {
	if a <= 0 {
		return 0
	}
	return (a + b - 1) / b
}

func micros(us int64) time.Duration { return time.Duration(us) * time.Microsecond }
