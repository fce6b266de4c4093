package etag_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/etag"
	"github.com/graftgo/graft/graftest"
)

var body1k = strings.Repeat("graft etag ", 93) // 1023 bytes

// BenchmarkETag: a 1 KiB answer from a bare app, tagged, answered 304,
// and a POST the extension leaves alone.
func BenchmarkETag(b *testing.B) {
	mk := func(ext bool) *graft.App[graft.Ctx] {
		app := graft.New(graft.Config{})
		if ext {
			app.Register(etag.Extension(etag.Options{}))
		}
		app.GET("/", func(c *graft.Ctx) error { return c.Text(200, body1k) })
		app.POST("/", func(c *graft.Ctx) error { return c.Text(200, body1k) })
		if err := app.Start(b.Context()); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { app.Stop(b.Context()) })
		return app
	}
	bare, tagged := mk(false), mk(true)
	tag := etag.Of([]byte(body1k), false)
	for _, tc := range []struct {
		name   string
		app    http.Handler
		method string
		inm    string
	}{
		{"bare", bare, "GET", ""},
		{"tagged", tagged, "GET", ""},
		{"not-modified", tagged, "GET", tag},
		{"bare-post", bare, "POST", ""},
		{"post-untouched", tagged, "POST", ""},
	} {
		b.Run(tc.name, func(b *testing.B) {
			w := graftest.NewDiscard()
			req := httptest.NewRequest(tc.method, "/", nil)
			if tc.inm != "" {
				req.Header.Set("If-None-Match", tc.inm)
			}
			b.ReportAllocs()
			for b.Loop() {
				w.Reset()
				tc.app.ServeHTTP(w, req)
			}
			if want := map[bool]int{true: 304, false: 200}[tc.inm != ""]; w.Status() != want {
				b.Fatalf("status %d, want %d", w.Status(), want)
			}
		})
	}
}

// TestAllocs pins the cost: a request the extension does not concern
// allocates what the bare app does, and a tagged answer two more (the tag
// and its header value); the held-back body lives in a pooled buffer.
func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	bareApp := graft.New(graft.Config{})
	app := graft.New(graft.Config{})
	app.Register(etag.Extension(etag.Options{}))
	for _, a := range []*graft.App[graft.Ctx]{bareApp, app} {
		a.GET("/", func(c *graft.Ctx) error { return c.Text(200, body1k) })
		a.POST("/", func(c *graft.Ctx) error { return c.Text(200, body1k) })
		if err := a.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		defer a.Stop(t.Context())
	}
	count := func(h http.Handler, method string) float64 {
		w := graftest.NewDiscard()
		req := httptest.NewRequest(method, "/", nil)
		return testing.AllocsPerRun(200, func() { w.Reset(); h.ServeHTTP(w, req) })
	}
	bare := count(bareApp, "GET")
	if got := count(app, "POST"); got != count(bareApp, "POST") {
		t.Errorf("untouched POST: %v allocs, bare %v", got, count(bareApp, "POST"))
	}
	if got := count(app, "GET"); got > bare+2 {
		t.Errorf("tagged GET: %v allocs, bare %v; want at most 2 more", got, bare)
	}
}
