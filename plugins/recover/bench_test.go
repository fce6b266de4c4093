package recover_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/graftest"
	"github.com/graftgo/graft/plugins/recover"
)

type benchIn struct {
	N int `query:"n"`
}

type benchOut struct{ Body string }

func benchApp(tb testing.TB, p *recover.Plugin) *graft.App[graft.Ctx] {
	app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
	if p != nil {
		app.UsePlugins(p)
	}
	graft.Get(app, "/t", func(_ context.Context, in *benchIn) (*benchOut, error) {
		if in.N == 0 {
			panic("n is 0")
		}
		return &benchOut{Body: "x"}, nil
	})
	if err := app.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { app.Stop(context.Background()) })
	return app
}

// BenchmarkRecover serves a typed endpoint without the plugin (bare) and
// with it, for a request that does not panic and one that does (graft's
// default recovery against the plugin's; both capture the stack, the
// plugin with OmitStack logs it not).
func BenchmarkRecover(b *testing.B) {
	bare := benchApp(b, nil)
	with := benchApp(b, recover.New(recover.Config{}))
	noStack := benchApp(b, recover.New(recover.Config{OmitStack: true}))
	ok := httptest.NewRequest("GET", "/t?n=1", nil)
	bad := httptest.NewRequest("GET", "/t?n=0", nil)
	for _, bc := range []struct {
		name string
		app  *graft.App[graft.Ctx]
		req  *http.Request
		want int
	}{
		{"bare", bare, ok, 200},
		{"plugin", with, ok, 200},
		{"bare-panic", bare, bad, 500},
		{"plugin-panic", with, bad, 500},
		{"plugin-panic-nostack", noStack, bad, 500},
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

// An endpoint with the plugin allocates what the bare one does when it
// does not panic: the guard is a deferred call and two stores.
func TestAllocs(t *testing.T) {
	bare := benchApp(t, nil)
	with := benchApp(t, recover.New(recover.Config{}))
	req := httptest.NewRequest("GET", "/t?n=1", nil)
	allocs := func(app *graft.App[graft.Ctx]) float64 {
		w := graftest.NewDiscard()
		return testing.AllocsPerRun(200, func() {
			w.Reset()
			app.ServeHTTP(w, req)
			if w.Status() != 200 {
				t.Fatalf("status %d", w.Status())
			}
		})
	}
	if b, p := allocs(bare), allocs(with); p != b {
		t.Errorf("with the plugin: %v allocs, bare %v", p, b)
	}
}
