package requestid_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/graftest"
	"github.com/graftgo/graft/plugins/requestid"
)

type plainIn struct {
	N int `query:"n"`
}

type plainOut struct{ Body string }

func build(tb testing.TB, with bool) *graft.App[graft.Ctx] {
	app := graft.New(graft.Config{})
	if with {
		rid := requestid.New(requestid.Config{})
		app.Register(rid)
		app.UsePlugins(rid)
		graft.Get(app, "/field", func(_ context.Context, in *orderIn) (*plainOut, error) { return &plainOut{Body: "x"}, nil })
	}
	graft.Get(app, "/typed", func(_ context.Context, in *plainIn) (*plainOut, error) { return &plainOut{Body: "x"}, nil })
	if err := app.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { app.Stop(context.Background()) })
	return app
}

// BenchmarkRequestID serves a typed endpoint without the extension (bare),
// with it (an id made, or an incoming one honoured), and an endpoint whose
// ID field the plugin fills.
func BenchmarkRequestID(b *testing.B) {
	bare, with := build(b, false), build(b, true)
	incoming := httptest.NewRequest("GET", "/typed?n=1", nil)
	incoming.Header.Set("X-Request-Id", "edge-7f3a")
	for _, bc := range []struct {
		name string
		app  *graft.App[graft.Ctx]
		req  *http.Request
	}{
		{"bare", bare, httptest.NewRequest("GET", "/typed?n=1", nil)},
		{"generated", with, httptest.NewRequest("GET", "/typed?n=1", nil)},
		{"incoming", with, incoming},
		{"field", with, httptest.NewRequest("GET", "/field?n=1", nil)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w := graftest.NewDiscard()
			b.ReportAllocs()
			for range b.N {
				w.Reset()
				bc.app.ServeHTTP(w, bc.req)
				if w.Status() != 200 {
					b.Fatalf("status %d", w.Status())
				}
			}
		})
	}
}

// The extension's cost in allocations is fixed: the id string (when made),
// the header's slice and the context value (graft.Ctx.SetContext carries
// it without a request copy). The plugin adds none.
func TestAllocs(t *testing.T) {
	bare, with := build(t, false), build(t, true)
	allocs := func(app *graft.App[graft.Ctx], req *http.Request) float64 {
		w := graftest.NewDiscard()
		return testing.AllocsPerRun(200, func() { w.Reset(); app.ServeHTTP(w, req) })
	}
	base := allocs(bare, httptest.NewRequest("GET", "/typed?n=1", nil))
	generated := allocs(with, httptest.NewRequest("GET", "/typed?n=1", nil))
	if generated != base+3 {
		t.Errorf("generated id: %v allocs, want bare %v + 3", generated, base)
	}
	in := httptest.NewRequest("GET", "/typed?n=1", nil)
	in.Header.Set("X-Request-Id", "edge-7f3a")
	if got := allocs(with, in); got != base+2 {
		t.Errorf("incoming id: %v allocs, want bare %v + 2", got, base)
	}
	if got := allocs(with, httptest.NewRequest("GET", "/field?n=1", nil)); got != generated {
		t.Errorf("ID field: %v allocs, want %v as without the field", got, generated)
	}
}
