package redis

import (
	"testing"

	"go.uber.org/goleak"
)

// Nothing is ignored: every broker and test client is closed, and every
// redis-server process killed, by the end of each test, and none of
// rueidis's goroutines outlive that.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
