package nats

import (
	"testing"

	"go.uber.org/goleak"
)

// Nothing is ignored: the embedded servers are shut down and every broker is
// closed by the end of each test, and none of nats.go's or nats-server's
// goroutines outlive that.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
