package ratelimit_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft/plugins/ratelimit"
)

// clock is an injected clock: tests move it, nothing sleeps.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) set(d time.Duration)     { c.t = t0.Add(d) }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: t0} }

// t0 is aligned to every window the tests use.
var t0 = time.Unix(1_699_999_980, 0)

type step struct {
	at         time.Duration // since t0
	allowed    bool
	remaining  int
	retryAfter time.Duration // for denied requests
	reset      time.Duration // -1: not checked
}

func run(t *testing.T, p ratelimit.Policy, steps []step) {
	t.Helper()
	clk := newClock()
	l := ratelimit.New(ratelimit.Config{Policy: p, Now: clk.now})
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	for i, s := range steps {
		clk.set(s.at)
		d, err := l.Take(context.Background(), "k")
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed != s.allowed || d.Remaining != s.remaining || (!s.allowed && d.RetryAfter != s.retryAfter) || (s.reset >= 0 && d.Reset != s.reset) {
			t.Errorf("step %d at +%v: got allowed=%v remaining=%d retryAfter=%v reset=%v, want allowed=%v remaining=%d retryAfter=%v reset=%v",
				i, s.at, d.Allowed, d.Remaining, d.RetryAfter, d.Reset, s.allowed, s.remaining, s.retryAfter, s.reset)
		}
		if d.Limit != p.Limit {
			t.Errorf("step %d: Limit %d, want %d", i, d.Limit, p.Limit)
		}
	}
}

const ms = time.Millisecond

func TestFixedWindowBoundaries(t *testing.T) {
	run(t, ratelimit.Policy{Algorithm: ratelimit.FixedWindow, Limit: 3, Window: time.Second}, []step{
		{0, true, 2, 0, time.Second},
		{0, true, 1, 0, time.Second},
		{400 * ms, true, 0, 0, 600 * ms},
		{400 * ms, false, 0, 600 * ms, 600 * ms},
		{999 * ms, false, 0, ms, ms},
		// The window ends exactly at +1s: a fresh count.
		{1000 * ms, true, 2, 0, time.Second},
		{1000 * ms, true, 1, 0, time.Second},
		{1000 * ms, true, 0, 0, time.Second},
		{1999 * ms, false, 0, ms, ms},
		// A window with no requests in between changes nothing.
		{5000 * ms, true, 2, 0, time.Second},
	})
}

// Up to twice the limit passes around a boundary: the fixed window's
// known edge, which the sliding window removes (next test).
func TestFixedWindowBurstAtBoundary(t *testing.T) {
	var steps []step
	for i := range 3 {
		steps = append(steps, step{999 * ms, true, 2 - i, 0, ms})
	}
	for i := range 3 {
		steps = append(steps, step{1000 * ms, true, 2 - i, 0, time.Second})
	}
	run(t, ratelimit.Policy{Limit: 3, Window: time.Second}, steps)
}

func TestSlidingWindowBoundaries(t *testing.T) {
	run(t, ratelimit.Policy{Algorithm: ratelimit.SlidingWindow, Limit: 4, Window: time.Second}, []step{
		{900 * ms, true, 3, 0, 100 * ms},
		{900 * ms, true, 2, 0, 100 * ms},
		{900 * ms, true, 1, 0, 100 * ms},
		{900 * ms, true, 0, 0, 100 * ms},
		{900 * ms, false, 0, 350 * ms, 100 * ms},
		// At +1s the previous window (4) weighs fully: still full. One
		// more fits once its weight is 3/4, at +1.25s.
		{1000 * ms, false, 0, 250 * ms, time.Second},
		{1249 * ms, false, 0, ms, 751 * ms},
		{1250 * ms, true, 0, 0, 750 * ms}, // 4·0.75 + 1 = 4
		{1250 * ms, false, 0, 250 * ms, 750 * ms},
		{1500 * ms, true, 0, 0, 500 * ms}, // 4·0.5 + 2 = 4
		// +2s: the window of +1s (2 requests) is the previous one.
		{2000 * ms, true, 1, 0, time.Second}, // 2·1 + 1 = 3
		{2000 * ms, true, 0, 0, time.Second},
		{2000 * ms, false, 0, 500 * ms, time.Second},
		// Two windows later nothing is left.
		{4000 * ms, true, 3, 0, time.Second},
	})
}

func TestTokenBucketBoundaries(t *testing.T) {
	// 10 per second, bucket of 5: a token every 100ms.
	run(t, ratelimit.Policy{Algorithm: ratelimit.TokenBucket, Limit: 10, Window: time.Second, Burst: 5}, []step{
		{0, true, 4, 0, 100 * ms},
		{0, true, 3, 0, 200 * ms},
		{0, true, 2, 0, 300 * ms},
		{0, true, 1, 0, 400 * ms},
		{0, true, 0, 0, 500 * ms},
		{0, false, 0, 100 * ms, 500 * ms},
		{99 * ms, false, 0, ms, 401 * ms},
		{100 * ms, true, 0, 0, 500 * ms},
		{150 * ms, false, 0, 50 * ms, 450 * ms},
		// The half token of +150ms and 2.5 more at +400ms: 3.
		{400 * ms, true, 2, 0, 300 * ms},
		{400 * ms, true, 1, 0, 400 * ms},
		{400 * ms, true, 0, 0, 500 * ms},
		{400 * ms, false, 0, 100 * ms, 500 * ms},
		// Half a token at +450ms: not enough.
		{450 * ms, false, 0, 50 * ms, 450 * ms},
		// Long quiet: the bucket holds Burst, not more.
		{time.Hour, true, 4, 0, 100 * ms},
	})
}

func TestGCRABoundaries(t *testing.T) {
	// 10 per second (one per 100ms), tolerance of 3.
	run(t, ratelimit.Policy{Algorithm: ratelimit.GCRA, Limit: 10, Window: time.Second, Burst: 3}, []step{
		{0, true, 2, 0, 100 * ms},
		{0, true, 1, 0, 200 * ms},
		{0, true, 0, 0, 300 * ms},
		{0, false, 0, 100 * ms, 300 * ms},
		{99 * ms, false, 0, ms, 201 * ms},
		{100 * ms, true, 0, 0, 300 * ms},
		{100 * ms, false, 0, 100 * ms, 300 * ms},
		{250 * ms, true, 0, 0, 250 * ms},
		{time.Hour, true, 2, 0, 100 * ms},
	})
}

// Denied requests are not counted: a client hammering a full bucket gets
// its next request in at the time RetryAfter said.
func TestDeniedRequestsAreNotCounted(t *testing.T) {
	for _, alg := range []ratelimit.Algorithm{ratelimit.FixedWindow, ratelimit.SlidingWindow, ratelimit.TokenBucket, ratelimit.GCRA} {
		t.Run(alg.String(), func(t *testing.T) {
			clk := newClock()
			l := ratelimit.New(ratelimit.Config{Policy: ratelimit.Policy{Algorithm: alg, Limit: 2, Window: time.Second}, Now: clk.now})
			for range 2 {
				if d, _ := l.Take(context.Background(), "k"); !d.Allowed {
					t.Fatal("first two denied")
				}
			}
			var retry time.Duration
			for range 100 {
				d, _ := l.Take(context.Background(), "k")
				if d.Allowed {
					t.Fatal("over the limit allowed")
				}
				retry = d.RetryAfter
			}
			clk.advance(retry)
			if d, _ := l.Take(context.Background(), "k"); !d.Allowed {
				t.Errorf("denied at RetryAfter (%v) after 100 denied requests: %+v", retry, d)
			}
		})
	}
}

func TestKeysAndPoliciesAreApart(t *testing.T) {
	clk := newClock()
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	if err != nil {
		t.Fatal(err)
	}
	a := ratelimit.New(ratelimit.Config{Policy: ratelimit.Policy{Name: "a", Limit: 1, Window: time.Minute}, Store: store, Now: clk.now})
	b := ratelimit.New(ratelimit.Config{Policy: ratelimit.Policy{Name: "b", Limit: 1, Window: time.Minute}, Store: store, Now: clk.now})
	for _, tc := range []struct {
		l    *ratelimit.Limiter
		key  string
		want bool
	}{{a, "x", true}, {a, "x", false}, {a, "y", true}, {b, "x", true}, {b, "x", false}} {
		if d, _ := tc.l.Take(context.Background(), tc.key); d.Allowed != tc.want {
			t.Errorf("%s/%s: allowed %v, want %v", tc.l.Policy().Name, tc.key, d.Allowed, tc.want)
		}
	}
}

func TestTakeN(t *testing.T) {
	clk := newClock()
	l := ratelimit.New(ratelimit.Config{Policy: ratelimit.Policy{Algorithm: ratelimit.TokenBucket, Limit: 10, Window: time.Second}, Now: clk.now})
	if d, _ := l.TakeN(context.Background(), "k", 7); !d.Allowed || d.Remaining != 3 {
		t.Errorf("7 of 10: %+v", d)
	}
	if d, _ := l.TakeN(context.Background(), "k", 4); d.Allowed || d.RetryAfter != 100*ms {
		t.Errorf("4 of the 3 left: %+v, want denied, retry in 100ms", d)
	}
	if _, err := l.TakeN(context.Background(), "k", 0); err == nil {
		t.Error("TakeN(0) accepted")
	}
}

func TestPolicyMistakes(t *testing.T) {
	for _, tc := range []struct {
		p    ratelimit.Policy
		want string
	}{
		{ratelimit.Policy{Window: time.Second}, "Policy.Limit is 0"},
		{ratelimit.Policy{Limit: 1}, "Policy.Window is 0s"},
		{ratelimit.Policy{Limit: 1, Window: time.Microsecond}, "at least 1ms"},
		{ratelimit.Policy{Limit: 1, Window: time.Second, Burst: 3}, "Policy.Burst is set for a fixed window"},
		{ratelimit.Policy{Limit: 1, Window: time.Second, Algorithm: 9}, "Policy.Algorithm is Algorithm(9)"},
		{ratelimit.Policy{Limit: 1, Window: time.Second, Algorithm: ratelimit.GCRA, Burst: -1}, "Policy.Burst is -1"},
		{ratelimit.Policy{Limit: 10_000_000, Window: time.Second, Algorithm: ratelimit.GCRA}, "less than 1µs apart"},
		{ratelimit.Policy{Limit: 1 << 30, Window: 24 * time.Hour, Algorithm: ratelimit.TokenBucket}, "too large"},
		{ratelimit.Policy{Name: "a\nb", Limit: 1, Window: time.Second}, "printable ASCII"},
	} {
		err := ratelimit.New(ratelimit.Config{Policy: tc.p}).Err()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.p, err, tc.want)
		}
		if _, err := ratelimit.New(ratelimit.Config{Policy: tc.p}).Take(context.Background(), "k"); err == nil {
			t.Errorf("%+v: Take without error", tc.p)
		}
	}
}
