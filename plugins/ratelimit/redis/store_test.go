package redis

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/plugins/ratelimit"
)

var t0 = time.Unix(1_699_999_980, 0)

var algorithms4 = []ratelimit.Algorithm{ratelimit.FixedWindow, ratelimit.SlidingWindow, ratelimit.TokenBucket, ratelimit.GCRA}

// The script decides as the memory store does: random sequences of
// requests (random gaps, costs and keys) through both, every decision
// compared.
func TestScriptMatchesMemoryStore(t *testing.T) {
	srv := startRedis(t)
	store := newStore(t, srv)
	for _, alg := range algorithms4 {
		for _, p := range []ratelimit.Policy{
			{Name: "small", Algorithm: alg, Limit: 3, Window: time.Second},
			{Name: "odd", Algorithm: alg, Limit: 7, Window: 1300 * time.Millisecond},
			{Name: "big", Algorithm: alg, Limit: 60, Window: 24 * time.Hour},
		} {
			if alg == ratelimit.TokenBucket || alg == ratelimit.GCRA {
				p.Burst = p.Limit/2 + 1
			}
			t.Run(alg.String()+"/"+p.Name, func(t *testing.T) {
				mem, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
				if err != nil {
					t.Fatal(err)
				}
				now := t0
				clock := func() time.Time { return now }
				p.Name += "-" + strings.ReplaceAll(alg.String(), " ", "-")
				lr := ratelimit.New(ratelimit.Config{Policy: p, Store: store, Now: clock})
				lm := ratelimit.New(ratelimit.Config{Policy: p, Store: mem, Now: clock})
				rng := rand.New(rand.NewPCG(uint64(alg), uint64(p.Limit)))
				gap := p.Window / time.Duration(p.Limit) // mean gap gap/4 over 3 keys: each asks for about twice its rate
				allowed, denied := 0, 0
				for i := range 400 {
					now = now.Add(time.Duration(rng.Int64N(int64(gap/2))) / time.Microsecond * time.Microsecond)
					key := fmt.Sprint("k", rng.IntN(3))
					cost := 1 + rng.IntN(2)
					dr, err := lr.TakeN(context.Background(), key, cost)
					if err != nil {
						t.Fatal(err)
					}
					dm, _ := lm.TakeN(context.Background(), key, cost)
					if dr != dm {
						t.Fatalf("request %d (%s, cost %d, +%v): redis %+v, memory %+v", i, key, cost, now.Sub(t0), dr, dm)
					}
					if dr.Allowed {
						allowed++
					} else {
						denied++
					}
				}
				if allowed < 40 || denied < 40 {
					t.Errorf("%d allowed, %d denied: the sequence does not exercise both sides", allowed, denied)
				}
			})
		}
	}
}

type in struct {
	N int `query:"n"`
}

type out struct{ Body string }

// Two app nodes behind one Redis share one limit.
func TestLimitSharedByNodes(t *testing.T) {
	srv := startRedis(t)
	var handled atomic.Int32
	var servers []*httptest.Server
	for range 2 {
		lim := ratelimit.New(ratelimit.Config{Policy: ratelimit.Policy{Name: "shared", Limit: 5, Window: time.Hour}, Store: newStore(t, srv),
			Key: ratelimit.Func(func(c *graft.Ctx) string { return c.Header("X-Client") })})
		app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
		app.UsePlugins(lim)
		graft.Get(app, "/t", func(context.Context, *in) (*out, error) { handled.Add(1); return &out{Body: "ok"}, nil })
		if err := app.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		s := httptest.NewServer(app)
		t.Cleanup(func() { s.Close(); app.Stop(context.Background()) })
		servers = append(servers, s)
	}
	// 20 concurrent requests, alternating nodes: exactly 5 pass.
	var wg sync.WaitGroup
	var ok, limited atomic.Int32
	for i := range 20 {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", servers[i%2].URL+"/t", nil)
			req.Header.Set("X-Client", "acme")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			switch res.StatusCode {
			case 200:
				ok.Add(1)
			case 429:
				limited.Add(1)
			default:
				t.Errorf("status %d", res.StatusCode)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 5 || limited.Load() != 15 || handled.Load() != 5 {
		t.Errorf("%d allowed, %d limited, %d handled; want 5, 15, 5", ok.Load(), limited.Load(), handled.Load())
	}
	http.DefaultClient.CloseIdleConnections()
}

// A Redis that is gone is an error from Take, which the plugin answers
// 503 (or lets through with FailOpen).
func TestRedisDown(t *testing.T) {
	srv := startRedis(t)
	store := newStore(t, srv)
	lim := ratelimit.New(ratelimit.Config{Policy: ratelimit.Policy{Limit: 5, Window: time.Hour}, Store: store})
	if _, err := lim.Take(context.Background(), "k"); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := lim.Take(ctx, "k"); err == nil || !strings.Contains(err.Error(), "ratelimit/redis") {
		t.Errorf("Take with Redis down: %v", err)
	}
}

// Keys expire in Redis once they are fresh again, and carry the prefix
// and the policy's name.
func TestKeysExpire(t *testing.T) {
	srv := startRedis(t)
	store := newStore(t, srv)
	lim := ratelimit.New(ratelimit.Config{Policy: ratelimit.Policy{Name: "p", Limit: 5, Window: 2 * time.Second}, Store: store})
	if _, err := lim.Take(context.Background(), "k"); err != nil {
		t.Fatal(err)
	}
	ttl, err := store.client.Do(context.Background(), store.client.B().Pttl().Key("ratelimit:p:k").Build()).AsInt64()
	if err != nil || ttl <= 0 || ttl > 2000 {
		t.Errorf("PTTL ratelimit:p:k = %d (%v), want within the 2s window", ttl, err)
	}
}
