package graft

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func benchRoute(b *testing.B, path string) {
	app := routedApp(b)
	var ps params
	s := search{ps: &ps, mi: methodIndex("GET")}
	b.ReportAllocs()
	for b.Loop() {
		ps.n = 0
		if app.root.find(path, &s) == nil {
			b.Fatal("no match")
		}
	}
}

func BenchmarkRouteStatic(b *testing.B)   { benchRoute(b, "/about/team") }
func BenchmarkRouteParam(b *testing.B)    { benchRoute(b, "/users/42") }
func BenchmarkRoute3Params(b *testing.B)  { benchRoute(b, "/repos/graftgo/graft/issues/3") }
func BenchmarkRouteCatchAll(b *testing.B) { benchRoute(b, "/static/css/site.css") }

func benchServe(b *testing.B, app *App[Ctx], method, path string) {
	r := httptest.NewRequest(method, path, nil)
	w := &stubWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		app.ServeHTTP(w, r)
	}
}

func BenchmarkServeHTTPStatic(b *testing.B) { benchServe(b, routedApp(b), "GET", "/about/team") }
func BenchmarkServeHTTPParam(b *testing.B) {
	benchServe(b, routedApp(b), "GET", "/repos/graftgo/graft/issues/3")
}

func BenchmarkServeHTTPText(b *testing.B) {
	app := New(Config{Logger: discardLogger()})
	app.GET("/", func(c *Ctx) error { return c.Text(http.StatusOK, "Hello, World!") })
	benchServe(b, app, "GET", "/")
}

func BenchmarkCtxAcquireRelease(b *testing.B) {
	app := routedApp(b)
	r := httptest.NewRequest("GET", "/", nil)
	w := &stubWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		c := app.pool.Get()
		c.reset(w, r)
		c.release()
		app.pool.Put(c)
	}
}
