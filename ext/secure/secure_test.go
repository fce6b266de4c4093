package secure_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/secure"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var quiet = graft.Config{}

func fetch(t *testing.T, cl *http.Client, method, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

type echoIn struct {
	N int `query:"n" min:"1"`
}
type echoOut struct {
	Body struct {
		N int `json:"n"`
	}
}

func routes(app *graft.App[graft.Ctx]) {
	app.GET("/ok", func(c *graft.Ctx) error { return c.Text(200, "ok") })
	app.GET("/fail", func(c *graft.Ctx) error { return graft.NewError(409, "conflict") })
	app.GET("/panic", func(c *graft.Ctx) error { panic("boom") })
	app.GET("/own-csp", func(c *graft.Ctx) error {
		c.Response().Header().Set("Content-Security-Policy", "default-src 'none'")
		return c.Text(200, "mine")
	})
	app.POST("/only-post", func(c *graft.Ctx) error { return nil })
	graft.Get(app, "/typed", func(_ context.Context, in *echoIn) (*echoOut, error) {
		out := &echoOut{}
		out.Body.N = in.N
		return out, nil
	})
}

var wantRecommended = map[string]string{
	"Content-Security-Policy":    "default-src 'self'; frame-ancestors 'none'",
	"X-Content-Type-Options":     "nosniff",
	"X-Frame-Options":            "DENY",
	"Referrer-Policy":            "strict-origin-when-cross-origin",
	"Cross-Origin-Opener-Policy": "same-origin",
}

func TestEveryAnswerGetsTheHeaders(t *testing.T) {
	app := graft.New(quiet)
	app.Register(secure.Extension(secure.Recommended()))
	routes(app)
	srv := httptest.NewServer(app)
	defer srv.Close()
	defer app.Stop(context.Background())
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/ok", 200}, {"GET", "/fail", 409}, {"GET", "/panic", 500}, {"GET", "/missing", 404},
		{"GET", "/only-post", 405}, {"GET", "/typed?n=3", 200}, {"GET", "/typed?n=0", 422}, {"HEAD", "/ok", 200},
	} {
		res := fetch(t, srv.Client(), tc.method, srv.URL+tc.path)
		if res.StatusCode != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, res.StatusCode, tc.status)
		}
		for k, v := range wantRecommended {
			if got := res.Header.Get(k); got != v {
				t.Errorf("%s %s (%d): %s %q, want %q", tc.method, tc.path, res.StatusCode, k, got, v)
			}
		}
		if hsts := res.Header.Get("Strict-Transport-Security"); hsts != "" {
			t.Errorf("%s %s: HSTS %q over plain HTTP", tc.method, tc.path, hsts)
		}
	}
	if got := fetch(t, srv.Client(), "GET", srv.URL+"/own-csp").Header.Values("Content-Security-Policy"); len(got) != 1 || got[0] != "default-src 'none'" {
		t.Errorf("a handler's own policy was replaced: %q", got)
	}
}

func TestHSTSOnlyOverTLSOrWhenConfigured(t *testing.T) {
	opts := secure.Options{HSTSMaxAge: 365 * 24 * time.Hour, HSTSIncludeSubdomains: true, HSTSPreload: true}
	app := graft.New(quiet)
	app.Register(secure.Extension(opts))
	routes(app)
	tlsSrv := httptest.NewTLSServer(app)
	defer tlsSrv.Close()
	plain := httptest.NewServer(app)
	defer plain.Close()
	defer app.Stop(context.Background())
	want := "max-age=31536000; includeSubDomains; preload"
	for _, p := range []string{"/ok", "/missing", "/fail"} {
		if got := fetch(t, tlsSrv.Client(), "GET", tlsSrv.URL+p).Header.Get("Strict-Transport-Security"); got != want {
			t.Errorf("TLS %s: HSTS %q, want %q", p, got, want)
		}
		if got := fetch(t, plain.Client(), "GET", plain.URL+p).Header.Get("Strict-Transport-Security"); got != "" {
			t.Errorf("plain %s: HSTS %q", p, got)
		}
	}

	app2 := graft.New(quiet)
	app2.Register(secure.Extension(secure.Options{HSTSMaxAge: time.Hour, HSTSWithoutTLS: true}))
	routes(app2)
	behindProxy := httptest.NewServer(app2)
	defer behindProxy.Close()
	defer app2.Stop(context.Background())
	if got := fetch(t, behindProxy.Client(), "GET", behindProxy.URL+"/ok").Header.Get("Strict-Transport-Security"); got != "max-age=3600" {
		t.Errorf("HSTSWithoutTLS: %q", got)
	}
}

func TestPerScopeConfiguration(t *testing.T) {
	app := graft.New(quiet)
	app.Register(secure.Extension(secure.Recommended()))
	api := app.Group("/api")
	api.Register(secure.Scoped("api", secure.Options{NoSniff: true, ReferrerPolicy: "no-referrer", ContentSecurityPolicy: "default-src 'none'", CSPReportOnly: true}))
	api.GET("/data", func(c *graft.Ctx) error { return c.JSON(200, map[string]int{"a": 1}) })
	api.GET("/fail", func(c *graft.Ctx) error { return graft.NewError(400, "bad") })
	app.GET("/page", func(c *graft.Ctx) error { return c.Text(200, "page") })
	srv := httptest.NewServer(app)
	defer srv.Close()
	defer app.Stop(context.Background())

	for _, p := range []string{"/api/data", "/api/fail"} {
		res := fetch(t, srv.Client(), "GET", srv.URL+p)
		want := map[string]string{
			"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
			"Content-Security-Policy-Report-Only": "default-src 'none'",
			"Content-Security-Policy":             "", "X-Frame-Options": "", "Cross-Origin-Opener-Policy": "",
		}
		for k, v := range want {
			if got := res.Header.Get(k); got != v {
				t.Errorf("%s: %s %q, want %q (the group's configuration replaces the app's)", p, k, got, v)
			}
		}
	}
	res := fetch(t, srv.Client(), "GET", srv.URL+"/page")
	for k, v := range wantRecommended {
		if got := res.Header.Get(k); got != v {
			t.Errorf("/page: %s %q, want %q", k, got, v)
		}
	}
}

func TestSetupMistakes(t *testing.T) {
	for _, tc := range []struct {
		opts secure.Options
		want string
	}{
		{secure.Options{HSTSMaxAge: time.Hour, HSTSPreload: true, HSTSIncludeSubdomains: true}, "HSTSPreload needs"},
		{secure.Options{HSTSIncludeSubdomains: true}, "HSTSMaxAge is 0"},
		{secure.Options{HSTSMaxAge: -time.Second}, "negative"},
		{secure.Options{FrameOptions: "ALLOW-FROM https://x"}, `FrameOptions "ALLOW-FROM https://x"`},
		{secure.Options{ReferrerPolicy: "no-referrer, sometimes"}, `"sometimes" is not one of`},
		{secure.Options{CrossOriginOpenerPolicy: "same"}, "CrossOriginOpenerPolicy"},
		{secure.Options{ContentSecurityPolicy: "default-src 'self'\r\nX-Evil: 1"}, "control character"},
	} {
		app := graft.New(quiet)
		app.Register(secure.Extension(tc.opts))
		app.Group("/g").Register(secure.Scoped("g", tc.opts))
		err := app.Start(context.Background())
		if err == nil {
			app.Stop(context.Background())
			t.Errorf("%+v: started", tc.opts)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), secure.ID) {
			t.Errorf("%+v: %v", tc.opts, err)
		}
	}
	app := graft.New(quiet)
	app.Register(secure.Scoped("", secure.Options{}))
	if err := app.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "name must be non-empty") {
		if err == nil {
			app.Stop(context.Background())
		}
		t.Errorf("empty scoped name: %v", err)
	}
}
