package healthcheck_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/healthcheck"
	"github.com/graftgo/graft/graftest"
)

// BenchmarkHealth: liveness next to a bare handler answering the same
// bytes, and readiness with three passing checks (run concurrently, each
// in its own goroutine, under one deadline).
func BenchmarkHealth(b *testing.B) {
	hc := healthcheck.Extension(healthcheck.Options{})
	for _, n := range []string{"a", "b", "c"} {
		if err := hc.AddCheck(n, func(context.Context) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	app := graft.New(graft.Config{})
	app.Register(hc)
	app.GET("/bare", func(c *graft.Ctx) error { return c.Bytes(200, "application/json", []byte(`{"status":"ok"}`)) })
	if err := app.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	defer app.Stop(b.Context())
	for _, p := range []string{"/bare", "/healthz", "/readyz"} {
		b.Run(p[1:], func(b *testing.B) {
			w := graftest.NewDiscard()
			req := httptest.NewRequest("GET", p, nil)
			b.ReportAllocs()
			for b.Loop() {
				w.Reset()
				app.ServeHTTP(w, req)
			}
		})
	}
}
