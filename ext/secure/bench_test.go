package secure_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/secure"
	"github.com/graftgo/graft/graftest"
)

func apps(tb testing.TB) (bare, withExt *graft.App[graft.Ctx]) {
	mk := func(ext bool) *graft.App[graft.Ctx] {
		app := graft.New(graft.Config{})
		if ext {
			app.Register(secure.Extension(secure.Recommended()))
		}
		app.GET("/ok", func(c *graft.Ctx) error { return c.Text(200, "ok") })
		if err := app.Start(tb.Context()); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { app.Stop(tb.Context()) })
		return app
	}
	return mk(false), mk(true)
}

// TestHeadersCostNoAllocation: the header values are prepared once and
// shared, so an answer with six security headers allocates what a bare
// one does.
func TestHeadersCostNoAllocation(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	bare, withExt := apps(t)
	w := graftest.NewDiscard()
	req := httptest.NewRequest("GET", "/ok", nil)
	run := func(app http.Handler) float64 {
		return testing.AllocsPerRun(200, func() { w.Reset(); app.ServeHTTP(w, req) })
	}
	base, got := run(bare), run(withExt)
	if got > base {
		t.Errorf("with the extension %.0f allocs, bare %.0f", got, base)
	}
	if w.Header().Get("X-Frame-Options") != "DENY" {
		t.Fatalf("the headers were not set: %v", w.Header())
	}
}

func BenchmarkSecure(b *testing.B) {
	bare, withExt := apps(b)
	for _, tc := range []struct {
		name string
		app  http.Handler
	}{{"bare", bare}, {"recommended", withExt}} {
		b.Run(tc.name, func(b *testing.B) {
			w := graftest.NewDiscard()
			req := httptest.NewRequest("GET", "/ok", nil)
			b.ReportAllocs()
			for b.Loop() {
				w.Reset()
				tc.app.ServeHTTP(w, req)
			}
		})
	}
}
