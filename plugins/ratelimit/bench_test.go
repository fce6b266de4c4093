package ratelimit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/plugins/ratelimit"
)

// benchApp serves /typed (limited when with) and /skipped (which Skip
// leaves alone), with a policy no benchmark exhausts.
func benchApp(tb testing.TB, with bool, alg ratelimit.Algorithm) *graft.App[graft.Ctx] {
	app := graft.New(graft.Config{})
	if with {
		// The clock moves 4µs per request: half the policy's rate, so
		// however long the benchmark runs, it is never limited.
		var ticks atomic.Int64
		app.UsePlugins(ratelimit.New(ratelimit.Config{
			Policy: ratelimit.Policy{Algorithm: alg, Limit: 500_000, Window: time.Second},
			Now:    func() time.Time { return t0.Add(time.Duration(ticks.Add(4)) * time.Microsecond) },
			Skip:   func(sig *graft.Signature) bool { return sig.Route == "/skipped" },
		}))
	}
	h := func(context.Context, *plainIn) (*textOut, error) { return &textOut{Body: "x"}, nil }
	graft.Get(app, "/typed", h)
	graft.Get(app, "/skipped", h)
	if err := app.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { app.Stop(context.Background()) })
	return app
}

// BenchmarkRateLimit serves a typed endpoint bare, limited by each
// algorithm (memory store, IP key), and skipped by the plugin.
func BenchmarkRateLimit(b *testing.B) {
	bare := benchApp(b, false, 0)
	cases := []struct {
		name string
		app  *graft.App[graft.Ctx]
		path string
	}{{"bare", bare, "/typed"}, {"skipped", benchApp(b, true, ratelimit.FixedWindow), "/skipped"}}
	for _, alg := range []ratelimit.Algorithm{ratelimit.FixedWindow, ratelimit.SlidingWindow, ratelimit.TokenBucket, ratelimit.GCRA} {
		cases = append(cases, struct {
			name string
			app  *graft.App[graft.Ctx]
			path string
		}{alg.String(), benchApp(b, true, alg), "/typed"})
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", bc.path+"?n=1", nil)
			w := &discard{h: http.Header{}}
			b.ReportAllocs()
			for range b.N {
				clear(w.h)
				w.status = 0
				bc.app.ServeHTTP(w, req)
				if w.status != 200 {
					b.Fatalf("status %d", w.status)
				}
			}
		})
	}
}

// A skipped endpoint costs what the bare one does; a limited one adds the
// key string and the RateLimit value.
func TestAllocs(t *testing.T) {
	allocs := func(app *graft.App[graft.Ctx], path string) float64 {
		req := httptest.NewRequest("GET", path+"?n=1", nil)
		w := &discard{h: http.Header{}}
		return testing.AllocsPerRun(200, func() { clear(w.h); w.status = 0; app.ServeHTTP(w, req) })
	}
	bare := allocs(benchApp(t, false, 0), "/typed")
	with := benchApp(t, true, ratelimit.GCRA)
	if got := allocs(with, "/skipped"); got != bare {
		t.Errorf("skipped endpoint: %v allocs, want the bare %v", got, bare)
	}
	if got := allocs(with, "/typed"); got != bare+3 {
		t.Errorf("limited endpoint: %v allocs, want bare %v + 3 (key, RateLimit value and its slice)", got, bare)
	}
}

type discard struct {
	h      http.Header
	status int
}

func (d *discard) Header() http.Header { return d.h }
func (d *discard) WriteHeader(s int) {
	if d.status == 0 {
		d.status = s
	}
}
func (d *discard) Write(p []byte) (int, error) {
	if d.status == 0 {
		d.status = 200
	}
	return len(p), nil
}
