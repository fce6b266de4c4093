package logging_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/graftest"
	"github.com/graftgo/graft/plugins/logging"
)

// build returns a started app serving /users/{id}, with the access log
// writing JSON to io.Discard at minLevel when log is set.
func build(tb testing.TB, log bool, minLevel slog.Level) *graft.App[graft.Ctx] {
	app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
	if log {
		h := slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: minLevel})
		app.Register(logging.New(logging.Config{Logger: slog.New(h)}))
	}
	app.GET("/users/{id}", func(c *graft.Ctx) error { return c.Text(200, "user") })
	if err := app.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { app.Stop(context.Background()) })
	return app
}

// BenchmarkLogging serves a plain handler without the access log (bare),
// with it writing JSON records to io.Discard, and with a logger whose
// level leaves the records out.
func BenchmarkLogging(b *testing.B) {
	for _, bc := range []struct {
		name string
		app  *graft.App[graft.Ctx]
	}{
		{"bare", build(b, false, 0)},
		{"json", build(b, true, slog.LevelInfo)},
		{"disabled", build(b, true, slog.LevelError)},
	} {
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

// TestAllocs: a record written (JSON to io.Discard) costs no allocation
// beyond the bare request's: the route's handler has the method and route
// already, and slog.Record keeps the other five inline. One left out by
// the level costs none either.
func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts need the race detector off: it makes sync.Pool (slog's buffers) drop items")
	}
	allocs := func(app *graft.App[graft.Ctx]) float64 {
		req := httptest.NewRequest("GET", "/users/7", nil)
		w := graftest.NewDiscard()
		return testing.AllocsPerRun(200, func() { w.Reset(); app.ServeHTTP(w, req) })
	}
	base := allocs(build(t, false, 0))
	if got := allocs(build(t, true, slog.LevelInfo)); got != base {
		t.Errorf("with a JSON record: %v allocs, want %v as bare", got, base)
	}
	if got := allocs(build(t, true, slog.LevelError)); got != base {
		t.Errorf("with the record's level disabled: %v allocs, want %v as bare", got, base)
	}
}
