package msgpack_test

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// vmihailenco/msgpack fills a nil embedded struct pointer from a
		// per-type channel fed by a goroutine it starts once per type and
		// never stops (types.go indirectNil → cachedValue): one per
		// type, for the life of the process, not one per request.
		goleak.IgnoreTopFunction("github.com/vmihailenco/msgpack/v5.cachedValue.func1"))
}
