package cors_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/graftest"
	"github.com/graftgo/graft/plugins/cors"
)

func build(tb testing.TB, ext graft.Extension) *graft.App[graft.Ctx] {
	app := graft.New(graft.Config{})
	if ext != nil {
		app.Register(ext)
	}
	app.GET("/plain", func(c *graft.Ctx) error { return c.NoContent() })
	if err := app.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { app.Stop(context.Background()) })
	return app
}

func request(method, origin, acrm string) *http.Request {
	req := httptest.NewRequest(method, "/plain", nil)
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if acrm != "" {
		req.Header.Set("Access-Control-Request-Method", acrm)
	}
	return req
}

// BenchmarkCORS serves a plain handler without the extension (bare) and
// with it: a request without Origin, one from an allowed origin, one from
// a pattern-matched origin, and a preflight.
func BenchmarkCORS(b *testing.B) {
	bare := build(b, nil)
	with := build(b, cors.New(cors.Config{AllowOrigins: []string{"https://app.example.com", "https://*.example.org"}, AllowCredentials: true}))
	for _, bc := range []struct {
		name string
		app  *graft.App[graft.Ctx]
		req  *http.Request
		want int
	}{
		{"bare", bare, request("GET", "", ""), 204},
		{"no-origin", with, request("GET", "", ""), 204},
		{"allowed", with, request("GET", "https://app.example.com", ""), 204},
		{"pattern", with, request("GET", "https://a.example.org", ""), 204},
		{"preflight", with, request("OPTIONS", "https://app.example.com", "GET"), 204},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w := graftest.NewDiscard()
			b.ReportAllocs()
			for range b.N {
				w.Reset()
				bc.app.ServeHTTP(w, bc.req)
				if w.Status() != bc.want {
					b.Fatalf("status %d", w.Status())
				}
			}
		})
	}
}

// A request without Origin and a preflight allocate nothing beyond the
// bare route's; an allowed origin costs the one slice of its
// Access-Control-Allow-Origin value.
func TestAllocs(t *testing.T) {
	bare := build(t, nil)
	with := build(t, cors.New(cors.Config{AllowOrigins: []string{"https://app.example.com"}, AllowCredentials: true}))
	allocs := func(app *graft.App[graft.Ctx], req *http.Request) float64 {
		w := graftest.NewDiscard()
		return testing.AllocsPerRun(200, func() { w.Reset(); app.ServeHTTP(w, req) })
	}
	base := allocs(bare, request("GET", "", ""))
	if got := allocs(with, request("GET", "", "")); got != base {
		t.Errorf("no Origin: %v allocs, bare %v", got, base)
	}
	if got := allocs(with, request("GET", "https://app.example.com", "")); got != base+1 {
		t.Errorf("allowed origin: %v allocs, want bare %v + 1", got, base)
	}
	if got := allocs(with, request("OPTIONS", "https://app.example.com", "GET")); got > base+1 {
		t.Errorf("preflight: %v allocs, want at most bare %v + 1", got, base)
	}
}
