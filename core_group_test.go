package graft

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// tracer records the order in which middleware runs.
type tracer struct {
	mu  sync.Mutex
	log []string
}

func (tr *tracer) mw(name string) Middleware {
	return func(next HandlerFunc) HandlerFunc {
		return func(c *Ctx) error {
			tr.add(name + ">")
			err := next(c)
			tr.add("<" + name)
			return err
		}
	}
}

func (tr *tracer) add(s string) {
	tr.mu.Lock()
	tr.log = append(tr.log, s)
	tr.mu.Unlock()
}

func (tr *tracer) take() string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	s := strings.Join(tr.log, " ")
	tr.log = nil
	return s
}

func TestGroups(t *testing.T) {
	app, _ := newApp(t, Config{})
	tr := &tracer{}
	app.Use(tr.mw("app"))
	api := app.Group("/api", WithMiddleware(tr.mw("api-opt")))
	api.GET("/ping", text("pong"))
	v1 := api.Group("/v1/")
	v1.GET("/users/{id}", func(c *Ctx) error { return c.Text(200, "user "+c.Param("id")) }, WithMiddleware(tr.mw("route")))
	admin := app.Group("/admin")
	admin.GET("/", text("admin"))
	// Middleware added after the routes still wraps them: chains are built
	// at start-up.
	api.Use(tr.mw("api"))
	v1.Use(tr.mw("v1"))
	app.Use(tr.mw("app2"))
	srv := serveTest(t, app)
	cases := []struct {
		path, body, trace string
		status            int
	}{
		{"/api/ping", "pong", "app> app2> api-opt> api> <api <api-opt <app2 <app", 200},
		{"/api/v1/users/7", "user 7", "app> app2> api-opt> api> v1> route> <route <v1 <api <api-opt <app2 <app", 200},
		{"/admin/", "admin", "app> app2> <app2 <app", 200},
		// App middleware also wraps the 404 and 405 answers.
		{"/api/nope", `"status":404`, "app> app2> <app2 <app", 404},
	}
	for _, tc := range cases {
		res := do(t, srv, "GET", tc.path, nil)
		if res.status != tc.status || !strings.Contains(res.body, tc.body) {
			t.Errorf("GET %s = %d %q, want %d %q", tc.path, res.status, res.body, tc.status, tc.body)
		}
		if got := tr.take(); got != tc.trace {
			t.Errorf("GET %s: middleware ran %q, want %q", tc.path, got, tc.trace)
		}
	}
}

func TestMount(t *testing.T) {
	app, _ := newApp(t, Config{})
	seen := func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(r.Method + " " + r.URL.Path))
	}
	app.Mount("/raw", http.HandlerFunc(seen))
	app.Group("/g").Mount("/strip/", http.StripPrefix("/g/strip", http.HandlerFunc(seen)))
	app.GET("/raw-sibling", text("sibling"))
	srv := serveTest(t, app)
	cases := []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/raw", "GET /raw", 200},
		{"POST", "/raw/a/b", "POST /raw/a/b", 200},
		{"DELETE", "/raw/", "DELETE /raw/", 200},
		{"GET", "/raw-sibling", "sibling", 200},
		{"GET", "/g/strip/x/y", "GET /x/y", 200},
		{"PUT", "/g/strip", "PUT ", 200},
		{"GET", "/rawx", `"status":404`, 404},
	}
	for _, tc := range cases {
		res := do(t, srv, tc.method, tc.path, nil)
		if res.status != tc.status || !strings.Contains(res.body, tc.body) {
			t.Errorf("%s %s = %d %q, want %d %q", tc.method, tc.path, res.status, res.body, tc.status, tc.body)
		}
	}
}

// statusRecorder is a typical standard middleware: it wraps the writer to
// see the status the inner handler sends.
func statusRecorder(seen *[]string, mu *sync.Mutex, name string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := &recWriter{ResponseWriter: w}
			rec.Header().Set("X-"+name, "1")
			inGraft := FromContext(r.Context()) != nil
			next.ServeHTTP(rec, r)
			mu.Lock()
			*seen = append(*seen, name+":"+http.StatusText(rec.status)+":"+boolStr(inGraft))
			mu.Unlock()
		})
	}
}

type recWriter struct {
	http.ResponseWriter
	status int
}

func (r *recWriter) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recWriter) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = 200
	}
	return r.ResponseWriter.Write(b)
}

func (r *recWriter) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func boolStr(b bool) string {
	if b {
		return "ctx"
	}
	return "noctx"
}

func TestHTTPMiddleware(t *testing.T) {
	app, _ := newApp(t, Config{})
	var (
		mu   sync.Mutex
		seen []string
	)
	tr := &tracer{}
	var outerStatus []int
	app.Use(func(next HandlerFunc) HandlerFunc {
		return func(c *Ctx) error {
			err := next(c)
			mu.Lock()
			outerStatus = append(outerStatus, c.StatusCode())
			mu.Unlock()
			return err
		}
	})
	app.UseHTTP(statusRecorder(&seen, &mu, "outer"))
	app.Use(tr.mw("native"))
	g := app.Group("/g")
	g.UseHTTP(statusRecorder(&seen, &mu, "inner")) // nested standard middleware
	g.Use(HTTPMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-Deny") != "" {
				http.Error(w, "denied", http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r)
		})
	}))
	g.GET("/ok", func(c *Ctx) error {
		if FromContext(c.Context()) != c {
			return errors.New("FromContext does not give back the Ctx")
		}
		return c.Text(http.StatusOK, "ok")
	})
	g.GET("/err", func(c *Ctx) error { return NewError(http.StatusTeapot, "short and stout") })
	g.GET("/boom", func(c *Ctx) error { return errors.New("secret internal failure") })
	srv := serveTest(t, app)
	cases := []struct {
		path    string
		hdr     []string
		status  int
		body    string
		seen    string
		outer   int
		tracing string
	}{
		{"/g/ok", nil, 200, "ok", "inner:OK:ctx outer:OK:ctx", 200, "native> <native"},
		{"/g/err", nil, 418, "short and stout", "inner:I'm a teapot:ctx outer:I'm a teapot:ctx", 418, "native> <native"},
		{"/g/boom", nil, 500, `"title":"Internal Server Error"`, "inner:Internal Server Error:ctx outer:Internal Server Error:ctx", 500, "native> <native"},
		{"/g/ok", []string{"X-Deny", "1"}, 403, "denied", "inner:Forbidden:ctx outer:Forbidden:ctx", 403, "native> <native"},
		{"/nope", nil, 404, `"status":404`, "outer:Not Found:ctx", 404, "native> <native"},
	}
	for _, tc := range cases {
		res := do(t, srv, "GET", tc.path, nil, tc.hdr...)
		if res.status != tc.status || !strings.Contains(res.body, tc.body) {
			t.Errorf("GET %s = %d %q, want %d %q", tc.path, res.status, res.body, tc.status, tc.body)
		}
		if res.header.Get("X-outer") != "1" {
			t.Errorf("GET %s: header set by the standard middleware is missing", tc.path)
		}
		if strings.Contains(res.body, "secret") {
			t.Errorf("GET %s: internal error leaked: %q", tc.path, res.body)
		}
		mu.Lock()
		got, gotOuter := strings.Join(seen, " "), outerStatus
		seen, outerStatus = nil, nil
		mu.Unlock()
		if got != tc.seen {
			t.Errorf("GET %s: standard middleware saw %q, want %q", tc.path, got, tc.seen)
		}
		if len(gotOuter) != 1 || gotOuter[0] != tc.outer {
			t.Errorf("GET %s: outer native middleware saw status %v, want %d", tc.path, gotOuter, tc.outer)
		}
		if tr := tr.take(); tr != tc.tracing {
			t.Errorf("GET %s: native middleware ran %q, want %q", tc.path, tr, tc.tracing)
		}
	}
}
