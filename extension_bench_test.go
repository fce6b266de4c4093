package graft_test

import (
	"net/http"
	"testing"

	"github.com/graftgo/graft"
)

// discardWriter is a ResponseWriter that drops output and reuses its header
// map, so benchmarks measure the framework.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

// WriteString avoids the []byte conversion, as net/http's writer does.
func (d *discardWriter) WriteString(s string) (int, error) { return len(s), nil }

func newDiscard() *discardWriter { return &discardWriter{h: http.Header{}} }

// serveLoop serves req n times through h, clearing the reused header map.
func serveLoop(b *testing.B, h http.Handler, req *http.Request) {
	w := newDiscard()
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}

func plainApp(pool int) http.Handler {
	app := graft.New(graft.Config{RequestPoolMaxItems: pool})
	app.GET("/x/{id}", func(c *graft.Ctx) error { return c.Text(200, c.Param("id")) })
	return app
}

func tenApp(pool int, use bool) http.Handler {
	app := graft.NewWithContext[tenCtx](graft.Config{RequestPoolMaxItems: pool})
	app.Register(tenExtensions()...)
	app.GET("/x/{id}", func(c *tenCtx) error {
		if use {
			c.useAll()
		}
		return c.Text(200, c.Param("id"))
	})
	return app
}

// BenchmarkExtensionOverhead compares a request through an app with no
// extensions against one whose context type has ten property-and-method
// extensions, with pools on and off. The "ten-used" case also calls every
// extension method (each a property Get and Set).
func BenchmarkExtensionOverhead(b *testing.B) {
	req, _ := http.NewRequest("GET", "/x/42", nil)
	for _, pool := range []struct {
		name string
		n    int
	}{{"pooled", 0}, {"unpooled", -1}} {
		b.Run("none/"+pool.name, func(b *testing.B) { serveLoop(b, plainApp(pool.n), req) })
		b.Run("ten/"+pool.name, func(b *testing.B) { serveLoop(b, tenApp(pool.n, false), req) })
		b.Run("ten-used/"+pool.name, func(b *testing.B) { serveLoop(b, tenApp(pool.n, true), req) })
	}
}

func TestTenExtensionsAllocs(t *testing.T) {
	req, _ := http.NewRequest("GET", "/x/42", nil)
	w := newDiscard()
	for name, h := range map[string]http.Handler{"none": plainApp(0), "ten": tenApp(0, false), "ten-used": tenApp(0, true)} {
		h.ServeHTTP(w, req) // start the app
		if n := testing.AllocsPerRun(200, func() { clear(w.h); h.ServeHTTP(w, req) }); n != 0 {
			t.Errorf("%s: %v allocations per request, want 0", name, n)
		}
	}
}
