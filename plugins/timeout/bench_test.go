package timeout_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/plugins/timeout"
)

// BenchmarkTimeout serves a typed endpoint bare, under the timeout, and
// skipped by it.
func BenchmarkTimeout(b *testing.B) {
	build := func(with bool) *graft.App[graft.Ctx] {
		app := graft.New(graft.Config{})
		if with {
			app.UsePlugins(timeout.New(timeout.Config{Timeout: time.Minute, Skip: func(s *graft.Signature) bool { return s.Route == "/skipped" }}))
		}
		h := func(context.Context, *in) (*out, error) { return &out{Body: "x"}, nil }
		graft.Get(app, "/t", h)
		graft.Get(app, "/skipped", h)
		if err := app.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { app.Stop(context.Background()) })
		return app
	}
	bare, with := build(false), build(true)
	for _, bc := range []struct {
		name, path string
		app        *graft.App[graft.Ctx]
	}{{"bare", "/t", bare}, {"timeout", "/t", with}, {"skipped", "/skipped", with}} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", bc.path, nil)
			b.ReportAllocs()
			for range b.N {
				w := httptest.NewRecorder()
				bc.app.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}
