package metrics_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/graftest"
	"github.com/graftgo/graft/plugins/metrics"
)

func build(tb testing.TB, with bool) *graft.App[graft.Ctx] {
	app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
	if with {
		app.Register(metrics.New(metrics.Config{}))
	}
	app.GET("/users/{id}", func(c *graft.Ctx) error { return c.Text(200, "user") })
	if err := app.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { app.Stop(context.Background()) })
	return app
}

// BenchmarkMetrics serves a plain handler without the extension (bare)
// and with it (active-requests gauge, duration histogram).
func BenchmarkMetrics(b *testing.B) {
	for _, bc := range []struct {
		name string
		app  *graft.App[graft.Ctx]
	}{{"bare", build(b, false)}, {"metrics", build(b, true)}} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/users/7", nil)
			w := graftest.NewDiscard()
			b.ReportAllocs()
			for range b.N {
				w.Reset()
				bc.app.ServeHTTP(w, req)
				if w.Status() != 200 {
					b.Fatalf("status %d", w.Status())
				}
			}
		})
	}
}

// TestAllocs: once a series exists, a request costs no allocation beyond
// the bare request's (the histogram child is cached by method, route and
// status).
func TestAllocs(t *testing.T) {
	allocs := func(app *graft.App[graft.Ctx]) float64 {
		req := httptest.NewRequest("GET", "/users/7", nil)
		w := graftest.NewDiscard()
		return testing.AllocsPerRun(200, func() { w.Reset(); app.ServeHTTP(w, req) })
	}
	if base, got := allocs(build(t, false)), allocs(build(t, true)); got != base {
		t.Errorf("with metrics: %v allocs, want %v as bare", got, base)
	}
}
