// Package retry retries idempotent dependency calls made inside handlers
// and providers: exponential backoff with full jitter, bounded attempts,
// a predicate for which errors are worth retrying, and the caller's
// context honoured between and during attempts.
//
//	body, err := retry.Do(ctx, retry.Config{MaxAttempts: 4}, func(ctx context.Context) ([]byte, error) {
//		return fetchQuote(ctx, id) // idempotent: safe to repeat
//	})
package retry
