package redis

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/graftgo/graft/plugins/idempotency"
)

// BenchmarkStore is a first request's Begin and Complete, and a replay's
// Begin, through redis-server on loopback and in the memory store.
func BenchmarkStore(b *testing.B) {
	srv := startRedis(b)
	mem, _ := idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxEntries: 1 << 20})
	a := &idempotency.Answer{Status: 201, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"id":1,"item":"a book"}`)}
	for _, bc := range []struct {
		name  string
		store idempotency.Store
	}{{"memory", mem}, {"redis", newStore(b, srv)}} {
		ctx := context.Background()
		seq := 0
		b.Run(bc.name+"/first", func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				seq++
				k := "first-" + strconv.Itoa(seq)
				if _, err := bc.store.Begin(ctx, k, idempotency.Fingerprint{}, "t", time.Minute); err != nil {
					b.Fatal(err)
				}
				if err := bc.store.Complete(ctx, k, "t", a, time.Hour); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"/replay", func(b *testing.B) {
			bc.store.Begin(ctx, "replay", idempotency.Fingerprint{}, "t", time.Minute)
			bc.store.Complete(ctx, "replay", "t", a, time.Hour)
			b.ReportAllocs()
			for range b.N {
				e, err := bc.store.Begin(ctx, "replay", idempotency.Fingerprint{}, "t2", time.Minute)
				if err != nil || e.State != idempotency.Done {
					b.Fatal(e.State, err)
				}
			}
		})
	}
}
