package retry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/graftgo/graft/plugins/retry"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var errFlaky = errors.New("flaky")

// noWait records the delays asked for and waits none of them.
func noWait(got *[]time.Duration) func(time.Duration) time.Duration {
	return func(d time.Duration) time.Duration { *got = append(*got, d); return 0 }
}

func TestBackoffAndSuccess(t *testing.T) {
	var delays []time.Duration
	calls := 0
	v, err := retry.Do(context.Background(), retry.Config{MaxAttempts: 5, Base: 10 * time.Millisecond, Max: 30 * time.Millisecond, Jitter: noWait(&delays)},
		func(context.Context) (int, error) {
			calls++
			if calls < 5 {
				return 0, errFlaky
			}
			return 42, nil
		})
	if v != 42 || err != nil || calls != 5 {
		t.Fatalf("%d %v after %d calls", v, err, calls)
	}
	want := []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond, 30 * time.Millisecond}
	if len(delays) != len(want) {
		t.Fatalf("delays %v, want %v", delays, want)
	}
	for i := range want {
		if delays[i] != want[i] {
			t.Errorf("delays %v, want %v (doubling, capped)", delays, want)
		}
	}
}

func TestStops(t *testing.T) {
	var delays []time.Duration
	for _, tc := range []struct {
		name  string
		cfg   retry.Config
		err   error
		calls int
	}{
		{"attempts spent", retry.Config{MaxAttempts: 3}, errFlaky, 3},
		{"not retryable", retry.Config{MaxAttempts: 3, Retryable: func(err error) bool { return !errors.Is(err, errFlaky) }}, errFlaky, 1},
		{"permanent", retry.Config{MaxAttempts: 3}, retry.Permanent(errFlaky), 1},
		{"context error", retry.Config{MaxAttempts: 3}, context.DeadlineExceeded, 1},
	} {
		tc.cfg.Jitter = noWait(&delays)
		calls := 0
		_, err := retry.Do(context.Background(), tc.cfg, func(context.Context) (int, error) { calls++; return 0, tc.err })
		if calls != tc.calls || !errors.Is(err, errors.Unwrap(tc.err)) && !errors.Is(err, tc.err) {
			t.Errorf("%s: %d calls, %v", tc.name, calls, err)
		}
	}
}

// A cancelled context ends the wait at once (the delay is an hour).
func TestContextEndsTheWait(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	done := make(chan error, 1)
	go func() {
		_, err := retry.Do(ctx, retry.Config{Base: time.Hour, Max: time.Hour, Jitter: func(d time.Duration) time.Duration { return d }},
			func(context.Context) (int, error) { calls++; cancel(); return 0, errFlaky })
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || !errors.Is(err, errFlaky) || calls != 1 {
			t.Errorf("%v after %d calls", err, calls)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Do did not return within 5s of the cancellation")
	}
}

func TestBadConfig(t *testing.T) {
	if _, err := retry.Do(context.Background(), retry.Config{MaxAttempts: -1}, func(context.Context) (int, error) { return 0, nil }); err == nil {
		t.Error("negative MaxAttempts accepted")
	}
}
