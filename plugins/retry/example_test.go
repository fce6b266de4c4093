package retry_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/graftgo/graft/plugins/retry"
)

// An idempotent call that fails twice, then succeeds.
func ExampleDo() {
	calls := 0
	v, err := retry.Do(context.Background(), retry.Config{MaxAttempts: 4, Base: time.Millisecond},
		func(context.Context) (string, error) {
			if calls++; calls < 3 {
				return "", errors.New("connection reset")
			}
			return "quote 42", nil
		})
	fmt.Println(v, err, calls)
	// Output: quote 42 <nil> 3
}
