package retry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Config configures Do. The zero value makes 3 attempts, 100ms base delay,
// 5s cap, retrying every error but context cancellation and Permanent.
type Config struct {
	// MaxAttempts bounds the calls, the first included (3 when zero).
	MaxAttempts int
	// Base is the delay before the second attempt, doubled for each
	// further one (100ms when zero).
	Base time.Duration
	// Max caps a delay (5s when zero).
	Max time.Duration
	// Retryable reports whether an error is worth another attempt (every
	// error when nil). Errors wrapped with Permanent and the context's own
	// are never retried.
	Retryable func(error) bool
	// Jitter returns a delay in [0, d] ("full jitter", uniformly random
	// when nil); tests inject one.
	Jitter func(d time.Duration) time.Duration
}

type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// Permanent marks err as not worth retrying; Do returns err itself.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// Do calls fn until it succeeds, returns an error not to retry, the
// attempts are spent or ctx ends, waiting a jittered exponential delay
// between attempts. It returns fn's last result; when ctx ended first, an
// error wrapping both the context's error and fn's last.
func Do[T any](ctx context.Context, cfg Config, fn func(ctx context.Context) (T, error)) (T, error) {
	var zero T
	if cfg.MaxAttempts < 0 || cfg.Base < 0 || cfg.Max < 0 {
		return zero, fmt.Errorf("retry: Config %+v has a negative field; use 0 for the defaults", cfg)
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 3
	}
	if cfg.Base == 0 {
		cfg.Base = 100 * time.Millisecond
	}
	if cfg.Max == 0 {
		cfg.Max = 5 * time.Second
	}
	if cfg.Jitter == nil {
		cfg.Jitter = func(d time.Duration) time.Duration { return rand.N(d + 1) }
	}
	delay := cfg.Base
	for attempt := 1; ; attempt++ {
		v, err := fn(ctx)
		if err == nil {
			return v, nil
		}
		var p permanent
		if errors.As(err, &p) {
			return v, p.error
		}
		if attempt >= cfg.MaxAttempts || ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
			(cfg.Retryable != nil && !cfg.Retryable(err)) {
			if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
				return v, errors.Join(ctx.Err(), err)
			}
			return v, err
		}
		t := time.NewTimer(cfg.Jitter(min(delay, cfg.Max)))
		select {
		case <-ctx.Done():
			t.Stop()
			return v, errors.Join(ctx.Err(), err)
		case <-t.C:
		}
		delay = min(2*delay, cfg.Max)
	}
}
