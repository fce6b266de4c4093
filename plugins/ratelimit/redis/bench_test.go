package redis

import (
	"context"
	"testing"
	"time"

	"github.com/graftgo/graft/plugins/ratelimit"
)

// BenchmarkTake is one decision through redis-server on loopback (a
// script round trip) next to the memory store.
func BenchmarkTake(b *testing.B) {
	srv := startRedis(b)
	mem, _ := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	for _, bc := range []struct {
		name  string
		store ratelimit.Store
	}{{"memory", mem}, {"redis", newStore(b, srv)}} {
		b.Run(bc.name, func(b *testing.B) {
			lim := ratelimit.New(ratelimit.Config{Policy: ratelimit.Policy{Algorithm: ratelimit.GCRA, Limit: 1 << 20, Window: time.Hour}, Store: bc.store})
			b.ReportAllocs()
			for range b.N {
				if _, err := lim.Take(context.Background(), "bench"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
