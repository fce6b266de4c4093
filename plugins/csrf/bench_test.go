package csrf_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/graftest"
	"github.com/graftgo/graft/plugins/csrf"
)

type benchIn struct {
	N int `query:"n"`
}

type benchOut struct{ Body string }

func benchApp(tb testing.TB, p *csrf.Plugin) *graft.App[graft.Ctx] {
	app := graft.New(graft.Config{})
	if p != nil {
		app.UsePlugins(p)
	}
	h := func(_ context.Context, in *benchIn) (*benchOut, error) { return &benchOut{Body: "x"}, nil }
	graft.Get(app, "/t", h)
	graft.Post(app, "/t", h)
	if err := app.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { app.Stop(context.Background()) })
	return app
}

// benchToken gets a token from a GET of app.
func benchToken(tb testing.TB, app http.Handler) string {
	w := httptest.NewRecorder()
	app.ServeHTTP(w, httptest.NewRequest("GET", "/t?n=1", nil))
	for _, c := range w.Result().Cookies() {
		if c.Name == csrf.DefaultCookieName {
			return c.Value
		}
	}
	tb.Fatal("no token cookie")
	return ""
}

func withToken(method, tok string, form bool) *http.Request {
	var req *http.Request
	if form {
		req = httptest.NewRequest(method, "/t?n=1", strings.NewReader("csrf_token="+tok))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, "/t?n=1", nil)
		req.Header.Set("X-CSRF-Token", tok)
	}
	req.Header.Set("Cookie", csrf.DefaultCookieName+"="+tok)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return req
}

// BenchmarkCSRF serves a typed endpoint without the plugin (bare) and
// with it: a GET carrying a valid token (verified, kept), a GET without
// one (a token made and set), a POST with the token in the header and one
// in an urlencoded form field.
func BenchmarkCSRF(b *testing.B) {
	bare := benchApp(b, nil)
	with := benchApp(b, csrf.New(csrf.Config{Keys: [][]byte{keyA}}))
	tok := benchToken(b, with)
	get := httptest.NewRequest("GET", "/t?n=1", nil)
	for _, bc := range []struct {
		name string
		app  *graft.App[graft.Ctx]
		req  func() *http.Request
	}{
		{"bare-get", bare, func() *http.Request { return get }},
		{"bare-post", bare, func() *http.Request { return withToken("POST", tok, false) }},
		{"get-valid", with, func() *http.Request { return withToken("GET", tok, false) }},
		{"get-issue", with, func() *http.Request { return get }},
		{"post-header", with, func() *http.Request { return withToken("POST", tok, false) }},
		{"post-form", with, nil},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w := graftest.NewDiscard()
			var req *http.Request
			if bc.req != nil {
				req = bc.req()
			}
			b.ReportAllocs()
			for range b.N {
				if bc.req == nil {
					b.StopTimer()
					req = withToken("POST", tok, true)
					b.StartTimer()
				}
				w.Reset()
				bc.app.ServeHTTP(w, req)
				if w.Status() != 200 {
					b.Fatalf("status %d", w.Status())
				}
			}
		})
	}
}

// The plugin's allocations per request, pinned: a safe request carrying
// a valid token and a POST with the header allocate nothing beyond the
// bare endpoint's (the cookie is found without parsing the others, the
// MAC state is pooled); issuing costs the token, the cookie's header line
// and its slice.
func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not stable under the race detector (sync.Pool drops items)")
	}
	bare := benchApp(t, nil)
	with := benchApp(t, csrf.New(csrf.Config{Keys: [][]byte{keyA}}))
	tok := benchToken(t, with)
	allocs := func(app *graft.App[graft.Ctx], req *http.Request) float64 {
		w := graftest.NewDiscard()
		return testing.AllocsPerRun(200, func() {
			w.Reset()
			app.ServeHTTP(w, req)
			if w.Status() != 200 {
				t.Fatalf("status %d", w.Status())
			}
		})
	}
	baseGet := allocs(bare, httptest.NewRequest("GET", "/t?n=1", nil))
	basePost := allocs(bare, withToken("POST", tok, false))
	getValid := allocs(with, withToken("GET", tok, false))
	postHeader := allocs(with, withToken("POST", tok, false))
	issue := allocs(with, httptest.NewRequest("GET", "/t?n=1", nil))
	t.Logf("allocs: bare GET %v, GET with token %v, GET issuing %v; bare POST %v, POST with header %v", baseGet, getValid, issue, basePost, postHeader)
	if getValid != baseGet {
		t.Errorf("GET with a valid token: %v allocs, want bare %v", getValid, baseGet)
	}
	if postHeader != basePost {
		t.Errorf("POST with the header: %v allocs, want bare %v", postHeader, basePost)
	}
	if issue > baseGet+3 {
		t.Errorf("GET issuing a token: %v allocs, want at most bare %v + 3", issue, baseGet)
	}
}
