package graft_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/graftest"
)

type setCtxKey struct{}

// valueOf returns the test value in ctx, "" when none.
func valueOf(ctx context.Context) string {
	v, _ := ctx.Value(setCtxKey{}).(string)
	return v
}

type setCtxOut struct {
	Body struct {
		V string `json:"v"`
	}
}

// TestSetContext: the context set by extension middleware reaches
// c.Context(), c.Request.Context() and a typed endpoint's ctx; the
// incoming request is left alone; and middleware that saves c.Request and
// puts it back gets its own request back, also when an inner middleware
// set a context in between, and beyond the copies the Ctx keeps.
func TestSetContext(t *testing.T) {
	var orig *http.Request
	app := graft.New(graft.Config{})
	app.Register(graft.ExtensionFunc("test.setctx", func(b *graft.Builder) error {
		b.Use(func(next graft.HandlerFunc) graft.HandlerFunc {
			return func(c *graft.Ctx) error {
				orig = c.Request
				c.SetContext(context.WithValue(c.Context(), setCtxKey{}, "outer"))
				return next(c)
			}
		})
		return nil
	}))
	// nest sets n contexts one inside the other, each saving and
	// restoring c.Request around next, and checks each gets its own back.
	nest := func(n int) graft.Middleware {
		return func(next graft.HandlerFunc) graft.HandlerFunc {
			var step func(c *graft.Ctx, i int) error
			step = func(c *graft.Ctx, i int) error {
				if i == n {
					return next(c)
				}
				saved := c.Request
				want := valueOf(saved.Context())
				c.SetContext(context.WithValue(c.Context(), setCtxKey{}, want+"/"+strconv.Itoa(i)))
				if c.Request == saved {
					return fmt.Errorf("level %d: SetContext kept the saved request", i)
				}
				err := step(c, i+1)
				if got := valueOf(saved.Context()); got != want {
					return fmt.Errorf("level %d: the saved request's context changed to %q, want %q", i, got, want)
				}
				c.Request = saved
				return err
			}
			return func(c *graft.Ctx) error { return step(c, 0) }
		}
	}
	app.GET("/plain", func(c *graft.Ctx) error {
		if valueOf(c.Context()) != valueOf(c.Request.Context()) {
			return fmt.Errorf("c.Context() %q and c.Request.Context() %q differ", valueOf(c.Context()), valueOf(c.Request.Context()))
		}
		if valueOf(orig.Context()) != "" {
			return fmt.Errorf("the incoming request's context changed: %q", valueOf(orig.Context()))
		}
		if c.Request.URL.Path != "/plain" || c.Request.Method != "GET" || c.Request.Header.Get("X-Test") != "yes" {
			return fmt.Errorf("the copy lost the request: %s %s X-Test=%q", c.Request.Method, c.Request.URL.Path, c.Request.Header.Get("X-Test"))
		}
		return c.Text(200, valueOf(c.Context()))
	})
	app.GET("/nested/{n}", func(c *graft.Ctx) error {
		return c.Text(200, valueOf(c.Context()))
	}, graft.WithMiddleware(func(next graft.HandlerFunc) graft.HandlerFunc {
		m2, m6 := nest(2)(next), nest(6)(next)
		return func(c *graft.Ctx) error {
			if c.Param("n") == "6" {
				return m6(c)
			}
			return m2(c)
		}
	}))
	graft.Get(app, "/typed", func(ctx context.Context, _ *struct{}) (*setCtxOut, error) {
		out := &setCtxOut{}
		out.Body.V = valueOf(ctx)
		return out, nil
	})
	srv := graftest.Start(t, app)
	graftest.Equal(t, srv.Get("/plain", "X-Test", "yes").WantStatus(200).Text(), "outer")
	graftest.Equal(t, srv.Get("/nested/2").WantStatus(200).Text(), "outer/0/1")
	// Six levels and the extension's: more than the copies a Ctx keeps.
	graftest.Equal(t, srv.Get("/nested/6").WantStatus(200).Text(), "outer/0/1/2/3/4/5")
	var out struct{ V string }
	srv.Get("/typed").WantStatus(200).JSON(&out)
	graftest.Equal(t, out.V, "outer")
}

// TestSetContextIsolation: concurrent requests over TCP through a small
// pool each see their own context and request in their copies, never
// another request's.
func TestSetContextIsolation(t *testing.T) {
	app := graft.New(graft.Config{RequestPoolMaxItems: 2})
	app.Register(graft.ExtensionFunc("test.setctx", func(b *graft.Builder) error {
		b.Use(func(next graft.HandlerFunc) graft.HandlerFunc {
			return func(c *graft.Ctx) error {
				c.SetContext(context.WithValue(c.Context(), setCtxKey{}, c.Query("id")))
				c.SetContext(context.WithValue(c.Context(), setCtxKey{}, valueOf(c.Context())+"+"))
				return next(c)
			}
		})
		return nil
	}))
	app.GET("/echo", func(c *graft.Ctx) error {
		return c.Text(200, valueOf(c.Context())+" "+c.Request.URL.Query().Get("id"))
	})
	srv := graftest.Start(t, app)
	var wg sync.WaitGroup
	errs := make(chan string, 200)
	for w := range 8 {
		wg.Go(func() {
			for i := range 25 {
				id := fmt.Sprintf("w%di%d", w, i)
				if got, want := srv.Get("/echo?id="+id).Text(), id+"+ "+id; got != want {
					errs <- fmt.Sprintf("got %q, want %q", got, want)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestSetContextAllocs: setting a context costs no allocation, where
// c.Request.WithContext costs one (the request copy).
func TestSetContextAllocs(t *testing.T) {
	if graft.RaceEnabled {
		t.Skip("allocation counts are not pinned under the race detector (sync.Pool drops items)")
	}
	ctx := context.WithValue(context.Background(), setCtxKey{}, "v")
	build := func(set func(c *graft.Ctx)) http.Handler {
		app := graft.New(graft.Config{})
		if set != nil {
			app.Register(graft.ExtensionFunc("test.setctx", func(b *graft.Builder) error {
				b.Use(func(next graft.HandlerFunc) graft.HandlerFunc {
					return func(c *graft.Ctx) error { set(c); return next(c) }
				})
				return nil
			}))
		}
		app.GET("/x", func(c *graft.Ctx) error {
			if set != nil && valueOf(c.Context()) != "v" {
				return fmt.Errorf("context not set")
			}
			return c.Text(200, "x")
		})
		return app
	}
	allocs := func(h http.Handler) float64 {
		req := httptest.NewRequest("GET", "/x", nil)
		w := graftest.NewDiscard()
		h.ServeHTTP(w, req)
		if w.Status() != 200 {
			t.Fatalf("status %d", w.Status())
		}
		return testing.AllocsPerRun(200, func() { w.Reset(); h.ServeHTTP(w, req) })
	}
	base := allocs(build(nil))
	if got := allocs(build(func(c *graft.Ctx) { c.SetContext(ctx) })); got != base {
		t.Errorf("SetContext: %v allocs, want %v as without", got, base)
	}
	if got := allocs(build(func(c *graft.Ctx) { c.SetContext(ctx); c.SetContext(ctx); c.SetContext(ctx) })); got != base {
		t.Errorf("SetContext three times: %v allocs, want %v as without", got, base)
	}
	if got := allocs(build(func(c *graft.Ctx) { c.Request = c.Request.WithContext(ctx) })); got != base+1 {
		t.Errorf("WithContext: %v allocs, want %v + 1 (the test measures the copy SetContext saves)", got, base)
	}
}

// BenchmarkSetContext compares SetContext with Request.WithContext in
// extension middleware.
func BenchmarkSetContext(b *testing.B) {
	ctx := context.WithValue(context.Background(), setCtxKey{}, "v")
	for _, bc := range []struct {
		name string
		set  func(c *graft.Ctx)
	}{
		{"SetContext", func(c *graft.Ctx) { c.SetContext(ctx) }},
		{"WithContext", func(c *graft.Ctx) { c.Request = c.Request.WithContext(ctx) }},
	} {
		app := graft.New(graft.Config{})
		app.Register(graft.ExtensionFunc("test.setctx", func(bd *graft.Builder) error {
			bd.Use(func(next graft.HandlerFunc) graft.HandlerFunc {
				return func(c *graft.Ctx) error { bc.set(c); return next(c) }
			})
			return nil
		}))
		app.GET("/x", func(c *graft.Ctx) error { return c.Text(200, "x") })
		req := httptest.NewRequest("GET", "/x", nil)
		b.Run(bc.name, func(b *testing.B) { serveLoop(b, app, req) })
	}
}
