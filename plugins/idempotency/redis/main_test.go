package redis

import (
	"testing"

	"go.uber.org/goleak"
)

// Every store and redis-server process is closed by the end of each test.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
