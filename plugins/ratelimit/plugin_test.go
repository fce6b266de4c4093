package ratelimit_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/di"
	"github.com/graftgo/graft/plugins/ratelimit"
)

type noteIn struct {
	Body struct {
		Text string `json:"text"`
	}
}

type noteOut struct {
	Status int `default:"201"`
	Body   string
}

type plainIn struct {
	N int `query:"n"`
}

type textOut struct{ Body string }

func startApp(t testing.TB, setup func(app *graft.App[graft.Ctx])) *httptest.Server {
	t.Helper()
	app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
	setup(app)
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app)
	t.Cleanup(func() { srv.Close(); app.Stop(context.Background()) })
	return srv
}

type answer struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, srv *httptest.Server, method, path, body string, hdr ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
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
	return answer{res.StatusCode, res.Header, string(b)}
}

// Over a real listener: the RateLimit fields on every answer, then a 429
// problem+json with Retry-After, answered before the body is read (the
// malformed body would be a 400).
func TestPluginAnswers429WithFields(t *testing.T) {
	clk := newClock()
	clk.set(20 * time.Second) // 40s left in the minute window
	var handled atomic.Int32
	lim := ratelimit.New(ratelimit.Config{Policy: ratelimit.Policy{Name: "notes", Limit: 2, Window: time.Minute}, Now: clk.now})
	srv := startApp(t, func(app *graft.App[graft.Ctx]) {
		app.UsePlugins(lim)
		graft.Post(app, "/notes", func(_ context.Context, in *noteIn) (*noteOut, error) {
			handled.Add(1)
			return &noteOut{Body: in.Body.Text}, nil
		})
	})
	for i, want := range []string{`"notes";r=1;t=40`, `"notes";r=0;t=40`} {
		a := do(t, srv, "POST", "/notes", `{"text":"hi"}`)
		if a.status != 201 || a.header.Get("RateLimit") != want || a.header.Get("RateLimit-Policy") != `"notes";q=2;w=60` {
			t.Fatalf("request %d: %d RateLimit %q RateLimit-Policy %q", i, a.status, a.header.Get("RateLimit"), a.header.Get("RateLimit-Policy"))
		}
	}
	clk.advance(10*time.Second + 500*ms)
	a := do(t, srv, "POST", "/notes", `{not json`)
	if a.status != 429 || a.header.Get("Retry-After") != "30" || a.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("third: %d Retry-After %q %s %s", a.status, a.header.Get("Retry-After"), a.header.Get("Content-Type"), a.body)
	}
	if a.header.Get("RateLimit") != `"notes";r=0;t=30` || a.header.Get("RateLimit-Policy") != `"notes";q=2;w=60` {
		t.Errorf("429 fields: RateLimit %q RateLimit-Policy %q", a.header.Get("RateLimit"), a.header.Get("RateLimit-Policy"))
	}
	var p graft.Problem
	if err := json.Unmarshal([]byte(a.body), &p); err != nil || p.Status != 429 || !strings.Contains(p.Detail, `rate limit "notes" of 2 requests per 1m0s reached; retry in 30 s`) {
		t.Errorf("problem %+v (%v)", p, err)
	}
	if handled.Load() != 2 {
		t.Errorf("handler ran %d times, want 2", handled.Load())
	}
	clk.advance(30 * time.Second)
	if a := do(t, srv, "POST", "/notes", `{"text":"again"}`); a.status != 201 {
		t.Errorf("next window: %d", a.status)
	}
}

func TestPluginAddsOutcome(t *testing.T) {
	lim := ratelimit.New(ratelimit.Config{Policy: ratelimit.Policy{Limit: 1, Window: time.Second}})
	app := graft.New(graft.Config{})
	app.UsePlugins(lim)
	ri := graft.Get(app, "/t", func(context.Context, *plainIn) (*textOut, error) { return &textOut{}, nil })
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	for _, r := range ri.Signature().Returns {
		if r.Status == 429 {
			if r.MediaType != "application/problem+json" || len(r.Headers) != 1 || r.Headers[0].Name != "Retry-After" {
				t.Errorf("429 return %+v", r)
			}
			return
		}
	}
	t.Error("no 429 in the signature's returns")
}

func TestSkipLeavesEndpointAlone(t *testing.T) {
	lim := ratelimit.New(ratelimit.Config{Policy: ratelimit.Policy{Limit: 1, Window: time.Hour},
		Skip: func(sig *graft.Signature) bool { return sig.Route == "/health" }})
	srv := startApp(t, func(app *graft.App[graft.Ctx]) {
		app.UsePlugins(lim)
		graft.Get(app, "/health", func(context.Context, *plainIn) (*textOut, error) { return &textOut{Body: "ok"}, nil })
		graft.Get(app, "/api", func(context.Context, *plainIn) (*textOut, error) { return &textOut{Body: "ok"}, nil })
	})
	for range 3 {
		if a := do(t, srv, "GET", "/health", ""); a.status != 200 || a.header.Get("RateLimit") != "" {
			t.Fatalf("/health: %d %q", a.status, a.header.Get("RateLimit"))
		}
	}
	if a := do(t, srv, "GET", "/api", ""); a.status != 200 {
		t.Fatalf("/api first: %d", a.status)
	}
	if a := do(t, srv, "GET", "/api", ""); a.status != 429 {
		t.Fatalf("/api second: %d", a.status)
	}
}

// The IP key behind a trusted proxy: clients counted apart by the
// address the proxy appended, and a spoofed leftmost entry ignored.
func TestPluginByForwardedIP(t *testing.T) {
	lim := ratelimit.New(ratelimit.Config{
		Policy: ratelimit.Policy{Limit: 1, Window: time.Hour},
		Key:    ratelimit.IP(ratelimit.IPConfig{TrustedProxies: []string{"127.0.0.1"}}),
	})
	srv := startApp(t, func(app *graft.App[graft.Ctx]) {
		app.UsePlugins(lim)
		graft.Get(app, "/t", func(context.Context, *plainIn) (*textOut, error) { return &textOut{Body: "ok"}, nil })
	})
	for _, tc := range []struct {
		xff  string
		want int
	}{
		{"198.51.100.1", 200},
		{"198.51.100.2", 200},
		{"198.51.100.1", 429},
		{"203.0.113.9, 198.51.100.1", 429}, // the client's own entry is not believed
		{"198.51.100.3", 200},
	} {
		if a := do(t, srv, "GET", "/t", "", "X-Forwarded-For", tc.xff); a.status != tc.want {
			t.Errorf("X-Forwarded-For %q: %d, want %d", tc.xff, a.status, tc.want)
		}
	}
}

type principal struct{ Sub string }

type userIn struct {
	User *principal `plugin:""`
	Body struct {
		N int `json:"n"`
	}
}

// authPlugin fills the principal from X-User, as an auth plugin binds
// claims.
var authPlugin = graft.NamedPlugin("testauth", graft.PluginFunc(func(_ *di.Graph, next graft.Endpoint, sig *graft.Signature) (graft.Endpoint, error) {
	f := graft.PluginField[*principal](sig)
	if f == nil {
		return next, nil
	}
	f.Bind(graft.Param{Name: "X-User", In: graft.InHeader, Required: true}, func(_ *graft.Ctx, raw string) (*principal, error) {
		return &principal{Sub: raw}, nil
	})
	return next, nil
}))

func TestPluginByUser(t *testing.T) {
	var handled atomic.Int32
	lim := ratelimit.New(ratelimit.Config{
		Policy: ratelimit.Policy{Limit: 2, Window: time.Hour},
		Key:    ratelimit.User(func(p *principal) string { return p.Sub }),
	})
	srv := startApp(t, func(app *graft.App[graft.Ctx]) {
		app.UsePlugins(lim, authPlugin) // the limit outside the auth plugin: it reads the field after binding anyway
		graft.Post(app, "/u", func(_ context.Context, in *userIn) (*textOut, error) {
			handled.Add(1)
			return &textOut{Body: in.User.Sub}, nil
		})
		graft.Get(app, "/anon", func(context.Context, *plainIn) (*textOut, error) { return &textOut{Body: "ok"}, nil })
	})
	for _, tc := range []struct {
		user string
		want int
	}{{"ada", 200}, {"ada", 200}, {"bob", 200}, {"ada", 429}, {"bob", 200}, {"bob", 429}} {
		a := do(t, srv, "POST", "/u", `{"n":1}`, "X-User", tc.user)
		if a.status != tc.want {
			t.Errorf("%s: %d, want %d (%s)", tc.user, a.status, tc.want, a.body)
		}
	}
	if handled.Load() != 4 {
		t.Errorf("handler ran %d times, want 4", handled.Load())
	}
	for range 4 { // no principal field: not limited by this key
		if a := do(t, srv, "GET", "/anon", ""); a.status != 200 || a.header.Get("RateLimit") != "" {
			t.Fatalf("/anon: %d %q", a.status, a.header.Get("RateLimit"))
		}
	}
}

func TestFuncKeyEmptyIsNotCounted(t *testing.T) {
	lim := ratelimit.New(ratelimit.Config{
		Policy: ratelimit.Policy{Limit: 1, Window: time.Hour},
		Key:    ratelimit.Func(func(c *graft.Ctx) string { return c.Header("X-Tenant") }),
	})
	srv := startApp(t, func(app *graft.App[graft.Ctx]) {
		app.UsePlugins(lim)
		graft.Get(app, "/t", func(context.Context, *plainIn) (*textOut, error) { return &textOut{Body: "ok"}, nil })
	})
	for _, tc := range []struct {
		tenant string
		want   int
	}{{"a", 200}, {"a", 429}, {"b", 200}, {"", 200}, {"", 200}} {
		if a := do(t, srv, "GET", "/t", "", "X-Tenant", tc.tenant); a.status != tc.want {
			t.Errorf("tenant %q: %d, want %d", tc.tenant, a.status, tc.want)
		}
	}
}

func TestMiddlewareOnPlainRoute(t *testing.T) {
	lim := ratelimit.New(ratelimit.Config{Policy: ratelimit.Policy{Limit: 1, Window: time.Hour}})
	mw, err := lim.Middleware()
	if err != nil {
		t.Fatal(err)
	}
	srv := startApp(t, func(app *graft.App[graft.Ctx]) {
		app.GET("/plain", func(c *graft.Ctx) error { return c.Text(200, "ok") }, graft.WithMiddleware(mw))
	})
	if a := do(t, srv, "GET", "/plain", ""); a.status != 200 || a.header.Get("RateLimit") == "" {
		t.Fatalf("first: %d %v", a.status, a.header)
	}
	if a := do(t, srv, "GET", "/plain", ""); a.status != 429 || a.header.Get("Retry-After") == "" {
		t.Fatalf("second: %d %v", a.status, a.header)
	}
	if _, err := ratelimit.New(ratelimit.Config{Policy: ratelimit.Policy{Limit: 1, Window: time.Hour},
		Key: ratelimit.User(func(*principal) string { return "" })}).Middleware(); err == nil || !strings.Contains(err.Error(), "use IP or Func") {
		t.Errorf("User key as middleware: %v", err)
	}
}

type failingStore struct{}

func (failingStore) Take(context.Context, *ratelimit.Policy, string, time.Time, int) (ratelimit.Decision, error) {
	return ratelimit.Decision{}, errors.New("connection refused")
}

func TestStoreFailure(t *testing.T) {
	for _, open := range []bool{false, true} {
		lim := ratelimit.New(ratelimit.Config{Policy: ratelimit.Policy{Limit: 1, Window: time.Hour}, Store: failingStore{}, FailOpen: open})
		srv := startApp(t, func(app *graft.App[graft.Ctx]) {
			app.UsePlugins(lim)
			graft.Get(app, "/t", func(context.Context, *plainIn) (*textOut, error) { return &textOut{Body: "ok"}, nil })
		})
		want := 503
		if open {
			want = 200
		}
		a := do(t, srv, "GET", "/t", "")
		if a.status != want || strings.Contains(a.body, "connection refused") {
			t.Errorf("FailOpen=%v: %d %s, want %d without the cause", open, a.status, a.body, want)
		}
	}
}

func TestSetupMistakeNamesEndpoint(t *testing.T) {
	for _, tc := range []struct {
		cfg  ratelimit.Config
		want string
	}{
		{ratelimit.Config{Policy: ratelimit.Policy{Window: time.Second}}, "Policy.Limit is 0"},
		{ratelimit.Config{Policy: ratelimit.Policy{Limit: 1, Window: time.Second}, Key: ratelimit.IP(ratelimit.IPConfig{TrustedProxies: []string{"10.0.0/8"}})}, `TrustedProxies[0] is "10.0.0/8"`},
		{ratelimit.Config{Policy: ratelimit.Policy{Limit: 1, Window: time.Second}, Key: ratelimit.Func(nil)}, "ratelimit.Func(nil)"},
	} {
		app := graft.New(graft.Config{})
		app.UsePlugins(graft.NamedPlugin("ratelimit", ratelimit.New(tc.cfg)))
		graft.Get(app, "/t", func(context.Context, *plainIn) (*textOut, error) { return &textOut{}, nil })
		err := app.Start(context.Background())
		if err == nil {
			app.Stop(context.Background())
			t.Errorf("%s: started", tc.want)
			continue
		}
		if !strings.Contains(err.Error(), "endpoint GET /t: plugin ratelimit: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %q, want the endpoint, the plugin and %q", err, tc.want)
		}
	}
}
