package graft

import (
	"bytes"
	"context"
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
	app := New(Config{Logger: discardLogger()})
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
		c := app.pool.Get()
		c.reset(w, r)
		c.release()
		app.pool.Put(c)
	})
	if allocs != 0 {
		t.Errorf("Ctx acquire/release: %v allocs, want 0", allocs)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// keepWriter is a ResponseWriter that keeps the status and the body in
// buffers made once, so that checking an answer allocates nothing.
type keepWriter struct {
	h      http.Header
	status int
	body   []byte
}

func newKeepWriter() *keepWriter {
	return &keepWriter{h: http.Header{}, body: make([]byte, 0, 1024)}
}

func (w *keepWriter) Header() http.Header { return w.h }
func (w *keepWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body = append(w.body, b...)
	return len(b), nil
}
func (w *keepWriter) WriteHeader(code int) { w.status = code }
func (w *keepWriter) clear()               { w.status, w.body = 0, w.body[:0] }

// rewindBody is a request body rewound per run without allocating.
type rewindBody struct{ bytes.Reader }

func (*rewindBody) Close() error { return nil }

type issueParamsIn struct {
	Owner  string `path:"owner"`
	Repo   string `path:"repo" minLength:"1"`
	Number int    `path:"number" min:"1"`
	State  string `query:"state" enum:"open,closed"`
	Page   int    `query:"page" default:"1" min:"1"`
	Since  int64  `query:"since"`
}

type noContent struct {
	Status int `default:"204"`
}

var noContentOut = &noContent{}

// TestAllocsTypedParams pins 0 allocations for a typed endpoint that binds
// string and integer path and query params (the 3-param route, a default,
// validation) and answers a status: the input comes from the endpoint's
// pool and goes back zeroed.
func TestAllocsTypedParams(t *testing.T) {
	app := New(Config{Logger: discardLogger()})
	var got issueParamsIn
	Get(app, "/repos/{owner}/{repo}/issues/{number}", func(_ context.Context, in *issueParamsIn) (*noContent, error) {
		got = *in
		return noContentOut, nil
	})
	if err := app.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		target string
		want   issueParamsIn
	}{
		{"/repos/graftgo/graft/issues/3?state=open&page=2&since=1700000000", issueParamsIn{"graftgo", "graft", 3, "open", 2, 1700000000}},
		{"/repos/a/b/issues/77", issueParamsIn{"a", "b", 77, "", 1, 0}},
	}
	for _, tc := range cases {
		r := httptest.NewRequest("GET", tc.target, nil)
		w := newKeepWriter()
		allocs := testing.AllocsPerRun(200, func() {
			w.clear()
			got = issueParamsIn{}
			app.ServeHTTP(w, r)
		})
		if w.status != http.StatusNoContent || got != tc.want {
			t.Errorf("GET %s: %d, bound %+v, want 204 and %+v", tc.target, w.status, got, tc.want)
		}
		if allocs != 0 && !raceEnabled {
			t.Errorf("typed GET %s: %v allocs, want 0", tc.target, allocs)
		}
	}
	// A request that fails validation is answered 422, and the next one
	// (from the same pool) still binds only its own values.
	w := newKeepWriter()
	app.ServeHTTP(w, httptest.NewRequest("GET", "/repos/a/b/issues/0?page=0&state=x", nil))
	if w.status != http.StatusUnprocessableEntity {
		t.Fatalf("invalid request: %d %s", w.status, w.body)
	}
	w.clear()
	app.ServeHTTP(w, httptest.NewRequest("GET", "/repos/c/d/issues/5", nil))
	if want := (issueParamsIn{"c", "d", 5, "", 1, 0}); w.status != http.StatusNoContent || got != want {
		t.Errorf("after a 422: %d, bound %+v, want %+v", w.status, got, want)
	}
}

type echoBody struct {
	Name string `json:"name" required:"true"`
	Age  int    `json:"age" min:"0"`
}

// TestAllocsJSONBody pins what a 2-field JSON body costs: one allocation,
// the name string encoding/json copies out of the pooled buffer, for a
// typed endpoint and for c.BindJSON in a plain handler alike; answering
// with c.JSON adds none.
func TestAllocsJSONBody(t *testing.T) {
	app := New(Config{Logger: discardLogger()})
	var got echoBody
	Post(app, "/typed", func(_ context.Context, in *struct{ Body echoBody }) (*noContent, error) {
		got = in.Body
		return noContentOut, nil
	})
	var bound echoBody
	app.POST("/plain", func(c *Ctx) error {
		bound = echoBody{}
		if err := c.BindJSON(&bound); err != nil {
			return err
		}
		got = bound
		return c.JSON(http.StatusOK, &bound)
	})
	if err := app.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	payload := []byte(`{"name":"alice","age":30}`)
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/typed", http.StatusNoContent, ""},
		{"/plain", http.StatusOK, `{"name":"alice","age":30}`},
	} {
		body := &rewindBody{}
		r := httptest.NewRequest("POST", tc.path, nil)
		r.Header.Set("Content-Type", "application/json")
		w := newKeepWriter()
		allocs := testing.AllocsPerRun(200, func() {
			w.clear()
			got = echoBody{}
			body.Reset(payload)
			r.Body = body
			app.ServeHTTP(w, r)
		})
		if w.status != tc.status || string(w.body) != tc.body || got != (echoBody{"alice", 30}) {
			t.Errorf("POST %s: %d %q, bound %+v", tc.path, w.status, w.body, got)
		}
		if allocs > 1 && !raceEnabled {
			t.Errorf("POST %s: %v allocs, want at most 1 (the decoded string)", tc.path, allocs)
		}
	}
}

// TestAllocsScopeValue pins ScopeValue.Get at 0 allocations: a router-level
// resource costs a walk up the scope chain.
func TestAllocsScopeValue(t *testing.T) {
	type res struct{ n int }
	k := NewScopeValue[*res]("test.alloc")
	app := New(Config{Logger: discardLogger()})
	g := app.Group("/g")
	g.Register(ExtensionFunc("test.alloc", func(b *Builder) error {
		k.Set(b, &res{n: 7})
		return nil
	}))
	g.Group("/deep").GET("/x", func(c *Ctx) error {
		if k.Get(c).n != 7 {
			t.Error("scope value not found")
		}
		return nil
	})
	if err := app.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(t.Context())
	w := &stubWriter{h: http.Header{}}
	r := httptest.NewRequest("GET", "/g/deep/x", nil)
	if n := testing.AllocsPerRun(200, func() { app.ServeHTTP(w, r) }); n != 0 {
		t.Errorf("request reading a scope value: %v allocs, want 0", n)
	}
}
