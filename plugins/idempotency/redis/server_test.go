package redis

import (
	"testing"

	"github.com/graftgo/graft/internal/redistest"
)

// redisServer is a real redis-server on loopback (internal/redistest).
type redisServer = redistest.Server

// startRedis starts redis-server on a free loopback port, persistence off,
// and kills it when the test ends.
func startRedis(tb testing.TB) *redisServer {
	tb.Helper()
	return redistest.Start(tb)
}

func newStore(tb testing.TB, s *redisServer) *Store {
	tb.Helper()
	st, err := New(Options{Addr: s.Addr()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(st.Close)
	return st
}
