package cookies_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/cookies"
)

type jarCtx struct {
	graft.Ctx
	cookies.Jar
}

// TestJarWithoutExtensionFailsAtStart: embedding the Jar without
// registering the extension used to serve 200 with no cookie.
func TestJarWithoutExtensionFailsAtStart(t *testing.T) {
	app := graft.NewWithContext[jarCtx](graft.Config{})
	app.GET("/", func(c *jarCtx) error { c.PutCookie("a", "1"); return c.Text(200, "ok") })
	err := app.Start(context.Background())
	if err == nil {
		app.Stop(context.Background())
		t.Fatal("started without the cookies extension")
	}
	if !strings.Contains(err.Error(), cookies.ID) || !strings.Contains(err.Error(), "Jar") {
		t.Fatalf("message names neither the extension nor the mixin: %v", err)
	}
}

func TestJarUsesOptionsOfItsScope(t *testing.T) {
	app := graft.NewWithContext[jarCtx](graft.Config{})
	a, b := app.Group("/a"), app.Group("/b")
	a.Register(cookies.Extension(cookies.Options{Path: "/a", HTTPOnly: true}))
	b.Register(cookies.Extension(cookies.Options{Path: "/b", Secure: true}))
	h := func(c *jarCtx) error { c.PutCookie("k", "v"); return c.Text(200, "ok") }
	a.GET("/", h)
	b.GET("/", h)
	srv := httptest.NewServer(app)
	defer srv.Close()
	defer app.Stop(context.Background())
	for path, want := range map[string]string{"/a/": "k=v; Path=/a; HttpOnly", "/b/": "k=v; Path=/b; Secure"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Set-Cookie"); got != want {
			t.Errorf("%s: Set-Cookie %q, want %q", path, got, want)
		}
	}
}

// TestCookieOfAHandlerThatWritesNothing: PutCookie followed by return nil
// used to answer 200 without the Set-Cookie, because the hooks ran only
// when something was written; DropCookie with a bare 204 must arrive too.
func TestCookieOfAHandlerThatWritesNothing(t *testing.T) {
	app := graft.NewWithContext[jarCtx](graft.Config{})
	app.Register(cookies.Extension(cookies.Options{Path: "/"}))
	app.GET("/", func(c *jarCtx) error { c.PutCookie("a", "1"); return nil })
	app.DELETE("/", func(c *jarCtx) error { c.DropCookie("a"); return c.NoContent() })
	srv := httptest.NewServer(app)
	defer srv.Close()
	defer app.Stop(context.Background())
	for method, want := range map[string]struct {
		status int
		cookie string
	}{"GET": {200, "a=1; Path=/"}, "DELETE": {204, "a=; Path=/; Max-Age=0"}} {
		req, _ := http.NewRequest(method, srv.URL+"/", nil)
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want.status || res.Header.Get("Set-Cookie") != want.cookie {
			t.Errorf("%s: %d Set-Cookie %q, want %d %q", method, res.StatusCode, res.Header.Get("Set-Cookie"), want.status, want.cookie)
		}
	}
}
