package graft

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// stubWriter is a ResponseWriter that discards the body and reuses its
// header map, so that what allocates is the framework, not the writer.
type stubWriter struct{ h http.Header }

func (w *stubWriter) Header() http.Header         { return w.h }
func (w *stubWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *stubWriter) WriteHeader(int)             {}

// routedApp is an app with static, param, 3-param and catch-all routes
// whose handlers write nothing (and read their params).
func routedApp(tb testing.TB) *App[Ctx] {
	tb.Helper()
	app := New[Ctx](Config{Logger: discardLogger()})
	noop := func(c *Ctx) error { return nil }
	for _, p := range []string{"/", "/users", "/users/new", "/users/{id}/posts", "/about/team", "/search"} {
		app.GET(p, noop)
	}
	app.GET("/users/{id}", func(c *Ctx) error {
		if c.Param("id") == "" {
			tb.Error("no id")
		}
		return nil
	})
	app.GET("/repos/{owner}/{repo}/issues/{number}", func(c *Ctx) error {
		if c.Param("owner") == "" || c.Param("repo") == "" || c.Param("number") == "" {
			tb.Error("missing params")
		}
		return nil
	})
	app.POST("/repos/{owner}/{repo}/issues", noop)
	app.GET("/static/{path...}", noop)
	if err := app.Start(tb.Context()); err != nil {
		tb.Fatal(err)
	}
	return app
}

func TestAllocsRouting(t *testing.T) {
	app := routedApp(t)
	cases := []struct {
		name, path string
		params     int
	}{
		{"static", "/users/new", 0},
		{"param", "/users/42", 1},
		{"3 params", "/repos/graftgo/graft/issues/3", 3},
		{"catch-all", "/static/css/site.css", 1},
		{"backtracking", "/users/new/posts", 1},
	}
	for _, tc := range cases {
		var ps params
		s := search{ps: &ps, mi: methodIndex("GET")}
		allocs := testing.AllocsPerRun(200, func() {
			ps.n = 0
			s.miss, s.mask, s.multi = nil, 0, false
			if app.root.find(tc.path, &s) == nil || ps.n != tc.params {
				t.Fatalf("%s: no match", tc.path)
			}
		})
		if allocs != 0 {
			t.Errorf("routing %s (%s): %v allocs, want 0", tc.name, tc.path, allocs)
		}
	}
}

func TestAllocsServeHTTP(t *testing.T) {
	app := routedApp(t)
	cases := []struct{ name, method, path string }{
		{"static", "GET", "/users/new"},
		{"param", "GET", "/users/42"},
		{"3 params", "GET", "/repos/graftgo/graft/issues/3"},
		{"HEAD via GET", "HEAD", "/about/team"},
		{"catch-all", "GET", "/static/css/site.css"},
	}
	for _, tc := range cases {
		r := httptest.NewRequest(tc.method, tc.path, nil)
		w := &stubWriter{h: http.Header{}}
		allocs := testing.AllocsPerRun(200, func() { app.ServeHTTP(w, r) })
		if allocs != 0 {
			t.Errorf("ServeHTTP %s %s (%s): %v allocs, want 0", tc.method, tc.path, tc.name, allocs)
		}
	}
}

func TestAllocsCtxPool(t *testing.T) {
	app := routedApp(t)
	r := httptest.NewRequest("GET", "/", nil)
	w := &stubWriter{h: http.Header{}}
	allocs := testing.AllocsPerRun(200, func() {
		c := app.pool.get()
		c.reset(w, r)
		c.release()
		app.pool.put(c)
	})
	if allocs != 0 {
		t.Errorf("Ctx acquire/release: %v allocs, want 0", allocs)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
