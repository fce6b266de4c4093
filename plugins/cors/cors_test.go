package cors_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/plugins/cors"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type itemIn struct {
	ID string `path:"id"`
}

type itemOut struct{ Body string }

// serve starts an app with the extension, a plain handler, a typed
// endpoint and a handler that fails; calls counts handler runs.
func serve(t *testing.T, cfg cors.Config) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var calls atomic.Int64
	app := graft.New(graft.Config{})
	app.Register(cors.New(cfg))
	app.GET("/plain", func(c *graft.Ctx) error { calls.Add(1); return c.Text(200, "plain") })
	app.GET("/fail", func(c *graft.Ctx) error { calls.Add(1); return &graft.HTTPError{Status: 404, Detail: "no such thing"} })
	graft.Get(app, "/items/{id}", func(_ context.Context, in *itemIn) (*itemOut, error) {
		calls.Add(1)
		return &itemOut{Body: in.ID}, nil
	})
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app)
	t.Cleanup(func() { srv.Close(); app.Stop(context.Background()) })
	return srv, &calls
}

func do(t *testing.T, srv *httptest.Server, method, path string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

func header(t *testing.T, res *http.Response, name, want string) {
	t.Helper()
	if got := strings.Join(res.Header.Values(name), ", "); got != want {
		t.Errorf("%s = %q, want %q", name, got, want)
	}
}

var creds = cors.Config{
	AllowOrigins:     []string{"https://app.example.com", "https://*.tenants.example.com"},
	AllowHeaders:     []string{"Content-Type", "X-Api-Key"},
	ExposeHeaders:    []string{"X-Request-Id"},
	AllowCredentials: true,
	MaxAge:           time.Hour,
}

func TestPreflight(t *testing.T) {
	srv, calls := serve(t, creds)
	for _, path := range []string{"/plain", "/items/7", "/fail"} {
		res, body := do(t, srv, "OPTIONS", path,
			"Origin", "https://app.example.com",
			"Access-Control-Request-Method", "PUT",
			"Access-Control-Request-Headers", "content-type,x-api-key")
		if res.StatusCode != 204 || body != "" {
			t.Fatalf("%s: preflight %d %q, want 204", path, res.StatusCode, body)
		}
		header(t, res, "Access-Control-Allow-Origin", "https://app.example.com")
		header(t, res, "Access-Control-Allow-Credentials", "true")
		header(t, res, "Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE")
		header(t, res, "Access-Control-Allow-Headers", "Content-Type, X-Api-Key")
		header(t, res, "Access-Control-Max-Age", "3600")
		header(t, res, "Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("a preflight ran %d handlers", n)
	}
}

func TestPreflightRefused(t *testing.T) {
	srv, calls := serve(t, creds)
	for _, tc := range []struct {
		name, origin, method, headers, detail string
	}{
		{"origin", "https://evil.test", "GET", "", `the origin "https://evil.test" is not allowed`},
		{"method", "https://app.example.com", "PROPFIND", "", `the method "PROPFIND" is not allowed`},
		{"header", "https://app.example.com", "GET", "Content-Type, X-Secret", `the request header "X-Secret" is not allowed`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := []string{"Origin", tc.origin, "Access-Control-Request-Method", tc.method}
			if tc.headers != "" {
				hdr = append(hdr, "Access-Control-Request-Headers", tc.headers)
			}
			res, body := do(t, srv, "OPTIONS", "/plain", hdr...)
			if res.StatusCode != 403 || res.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%d %s %s, want 403 problem+json", res.StatusCode, res.Header.Get("Content-Type"), body)
			}
			var p graft.Problem
			if err := json.Unmarshal([]byte(body), &p); err != nil || !strings.Contains(p.Detail, tc.detail) {
				t.Errorf("problem %+v (%v), want %q", p, err, tc.detail)
			}
			header(t, res, "Access-Control-Allow-Origin", "")
			header(t, res, "Access-Control-Allow-Methods", "")
		})
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("a refused preflight ran %d handlers", n)
	}
}

func TestActualRequests(t *testing.T) {
	srv, _ := serve(t, creds)
	for _, path := range []string{"/plain", "/items/7"} {
		res, _ := do(t, srv, "GET", path, "Origin", "https://app.example.com")
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
		header(t, res, "Access-Control-Allow-Origin", "https://app.example.com")
		header(t, res, "Access-Control-Allow-Credentials", "true")
		header(t, res, "Access-Control-Expose-Headers", "X-Request-Id")
		header(t, res, "Vary", "Origin")
	}
	// An error answer carries the headers too, so the page can read it.
	res, body := do(t, srv, "GET", "/fail", "Origin", "https://a.tenants.example.com")
	if res.StatusCode != 404 || !strings.Contains(body, "no such thing") {
		t.Fatalf("/fail: %d %s", res.StatusCode, body)
	}
	header(t, res, "Access-Control-Allow-Origin", "https://a.tenants.example.com")
	// Another origin: served, without the headers (the browser withholds it).
	res, body = do(t, srv, "GET", "/plain", "Origin", "https://evil.test")
	if res.StatusCode != 200 || body != "plain" {
		t.Fatalf("other origin: %d %s", res.StatusCode, body)
	}
	header(t, res, "Access-Control-Allow-Origin", "")
	header(t, res, "Access-Control-Allow-Credentials", "")
	header(t, res, "Vary", "Origin")
	// No Origin at all (same-origin, curl): the answer still varies by it.
	res, _ = do(t, srv, "GET", "/plain")
	header(t, res, "Access-Control-Allow-Origin", "")
	header(t, res, "Vary", "Origin")
	// A plain OPTIONS (no Access-Control-Request-Method) is not a preflight.
	res, _ = do(t, srv, "OPTIONS", "/plain", "Origin", "https://app.example.com")
	if res.StatusCode != 405 {
		t.Errorf("plain OPTIONS: %d, want the router's 405", res.StatusCode)
	}
}

func TestAnyOrigin(t *testing.T) {
	srv, _ := serve(t, cors.Config{AllowOrigins: []string{"*"}, AllowHeaders: []string{"*"}, MaxAge: -1})
	res, _ := do(t, srv, "GET", "/plain", "Origin", "https://whoever.test")
	header(t, res, "Access-Control-Allow-Origin", "*")
	header(t, res, "Access-Control-Allow-Credentials", "")
	header(t, res, "Vary", "")
	res, _ = do(t, srv, "OPTIONS", "/plain", "Origin", "https://whoever.test", "Access-Control-Request-Method", "DELETE", "Access-Control-Request-Headers", "X-Anything")
	if res.StatusCode != 204 {
		t.Fatalf("preflight %d", res.StatusCode)
	}
	header(t, res, "Access-Control-Allow-Origin", "*")
	header(t, res, "Access-Control-Allow-Headers", "*")
	header(t, res, "Access-Control-Max-Age", "")
}

// With credentials, "*" headers are answered by listing the requested
// ones: browsers read "*" literally when credentials are on.
func TestAnyHeaderWithCredentials(t *testing.T) {
	srv, _ := serve(t, cors.Config{AllowOrigins: []string{"https://app.example.com"}, AllowHeaders: []string{"*"}, AllowCredentials: true})
	res, _ := do(t, srv, "OPTIONS", "/plain", "Origin", "https://app.example.com", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "x-a,x-b")
	header(t, res, "Access-Control-Allow-Headers", "x-a,x-b")
	header(t, res, "Access-Control-Max-Age", "600")
}

func TestAllowed(t *testing.T) {
	e := cors.New(cors.Config{
		AllowOrigins:    []string{"https://app.example.com", "https://*.example.org", "http://localhost:5173"},
		AllowOriginFunc: func(o string) bool { return o == "https://func.test" },
	})
	for origin, want := range map[string]bool{
		"https://app.example.com":       true,
		"HTTPS://APP.EXAMPLE.COM":       true,
		"http://app.example.com":        false, // another scheme
		"https://app.example.com:8443":  false, // another port
		"https://x.app.example.com":     false,
		"http://localhost:5173":         true,
		"https://a.example.org":         true,
		"https://a.b.example.org":       true,
		"https://example.org":           false,
		"https://.example.org":          false,
		"https://a..example.org":        false,
		"https://evil-example.org":      false,
		"https://a.example.org.evil.io": false,
		"https://a.example.org:444":     false,
		"https://a_b.example.org":       false,
		"https://a/b.example.org":       false,
		"https://func.test":             true,
		"null":                          false,
		"":                              false,
	} {
		if got := e.Allowed(origin); got != want {
			t.Errorf("Allowed(%q) = %v, want %v", origin, got, want)
		}
	}
}

func TestSetupMistakes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   cors.Config
		group bool
		want  string
	}{
		{"star with credentials", cors.Config{AllowOrigins: []string{"*"}, AllowCredentials: true}, false, `"*" with AllowCredentials`},
		{"no origins", cors.Config{}, false, "AllowOrigins is empty"},
		{"trailing slash", cors.Config{AllowOrigins: []string{"https://a.com/"}}, false, "without a path"},
		{"star in the middle", cors.Config{AllowOrigins: []string{"https://api.*.com"}}, false, "right after the scheme"},
		{"two stars", cors.Config{AllowOrigins: []string{"https://*.*.com"}}, false, "one *"},
		{"bad method", cors.Config{AllowOrigins: []string{"*"}, AllowMethods: []string{"get"}}, false, "upper-case"},
		{"on a group", cors.Config{AllowOrigins: []string{"*"}}, true, "register cors on the app"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := graft.New(graft.Config{})
			if tc.group {
				g := app.Group("/api")
				g.Register(cors.New(tc.cfg))
				g.GET("/x", func(c *graft.Ctx) error { return nil })
			} else {
				app.Register(cors.New(tc.cfg))
			}
			err := app.Start(context.Background())
			if err == nil {
				app.Stop(context.Background())
				t.Fatal("started")
			}
			if msg := err.Error(); !strings.Contains(msg, "cors") || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q, want it to name cors and say %q", msg, tc.want)
			}
		})
	}
}
