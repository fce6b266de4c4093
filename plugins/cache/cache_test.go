package cache_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/graftest"
	"github.com/graftgo/graft/plugins/cache"
)

// clock is a test clock: entries expire when the test moves it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// recv receives from ch, failing the test naming what it waited for when
// nothing arrives within graftest.Timeout.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(graftest.Timeout):
		t.Fatalf("waited %v for %s", graftest.Timeout, what)
	}
	var zero T
	return zero
}

func newApp() *graft.App[graft.Ctx] {
	return graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler)})
}

type rawIn struct {
	C *graft.Ctx `inject:""`
}

type rawOut struct{}

type wildIn struct {
	C *graft.Ctx `inject:""`
	P string     `path:"p"`
}

// handle registers a typed GET endpoint whose answer h writes through the
// Ctx; it returns the counter of its runs.
func handle(app graft.Router, pattern string, h func(c *graft.Ctx, n int64) error, opts ...graft.Option) *atomic.Int64 {
	var runs atomic.Int64
	if strings.Contains(pattern, "{p}") {
		graft.Get(app, pattern, func(_ context.Context, in *wildIn) (*rawOut, error) {
			return nil, h(in.C, runs.Add(1))
		}, opts...)
		return &runs
	}
	graft.Get(app, pattern, func(_ context.Context, in *rawIn) (*rawOut, error) {
		return nil, h(in.C, runs.Add(1))
	}, opts...)
	return &runs
}

// text answers "run N" with the headers given as name, value pairs.
func text(hdr ...string) func(c *graft.Ctx, n int64) error {
	return func(c *graft.Ctx, n int64) error {
		for i := 0; i < len(hdr); i += 2 {
			c.Response().Header().Add(hdr[i], hdr[i+1])
		}
		return c.Text(200, "run "+strconv.FormatInt(n, 10))
	}
}

func wantCache(t *testing.T, r *graftest.Response, status, body string) {
	t.Helper()
	if got := r.Header.Get("X-Cache"); got != status || r.Text() != body {
		t.Fatalf("%s %s: X-Cache %q, body %q; want %q, %q", r.Request.Method, r.Request.URL, got, r.Text(), status, body)
	}
}

type itemIn struct {
	ID string `path:"id"`
}

type itemOut struct {
	ETag  string `header:"ETag"`
	Extra string `header:"X-Extra"`
	Body  struct {
		ID  string `json:"id"`
		Run int64  `json:"run"`
	}
}

// A hit replays the typed endpoint's status, headers and body byte for
// byte, with Age and X-Cache; the handler ran once.
func TestHitReplaysAnswer(t *testing.T) {
	clk := newClock()
	app := newApp()
	app.UsePlugins(cache.New(cache.Config{Now: clk.Now}))
	var runs atomic.Int64
	graft.Get(app, "/items/{id}", func(_ context.Context, in *itemIn) (*itemOut, error) {
		o := &itemOut{ETag: `"v1"`, Extra: "a, b"}
		o.Body.ID, o.Body.Run = in.ID, runs.Add(1)
		return o, nil
	})
	srv := graftest.Start(t, app)
	first := srv.Get("/items/7").WantStatus(200)
	wantCache(t, first, "MISS", `{"id":"7","run":1}`+"\n")
	if first.Header.Get("Age") != "" {
		t.Errorf("a miss has Age %q", first.Header.Get("Age"))
	}
	clk.Add(3 * time.Second)
	second := srv.Get("/items/7").WantStatus(200)
	wantCache(t, second, "HIT", `{"id":"7","run":1}`+"\n")
	if runs.Load() != 1 {
		t.Fatalf("handler ran %d times, want 1", runs.Load())
	}
	if got := second.Header.Get("Age"); got != "3" {
		t.Errorf("Age %q, want 3", got)
	}
	for _, k := range []string{"Content-Type", "Etag", "X-Extra", "Content-Length"} {
		if first.Header.Get(k) != second.Header.Get(k) {
			t.Errorf("%s: miss %q, hit %q", k, first.Header.Get(k), second.Header.Get(k))
		}
	}
	// The stored Date is the time the answer was stored.
	if got, want := second.Header.Get("Date"), clk.Now().Add(-3*time.Second).Format(http.TimeFormat); got != want {
		t.Errorf("Date %q, want the time stored %q", got, want)
	}
	wantCache(t, srv.Get("/items/8"), "MISS", `{"id":"8","run":2}`+"\n")
}

// A bigger answer, written in pieces, is replayed byte for byte.
func TestHitReplaysBytes(t *testing.T) {
	app := newApp()
	app.UsePlugins(cache.New(cache.Config{}))
	body := strings.Repeat("0123456789abcdef", 1000)
	runs := handle(app, "/big", func(c *graft.Ctx, _ int64) error {
		w := c.Response()
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header()["X-Multi"] = []string{"one", "two"}
		w.WriteHeader(203)
		for i := 0; i < len(body); i += 1000 {
			io.WriteString(w, body[i:i+1000])
		}
		return nil
	})
	srv := graftest.Start(t, app)
	a := srv.Get("/big").WantStatus(203)
	b := srv.Get("/big").WantStatus(203)
	if b.Header.Get("X-Cache") != "HIT" || b.Text() != body || a.Text() != body || runs.Load() != 1 {
		t.Fatalf("X-Cache %q, bodies equal %v %v, runs %d", b.Header.Get("X-Cache"), a.Text() == body, b.Text() == body, runs.Load())
	}
	if got := b.Header.Values("X-Multi"); len(got) != 2 || got[0] != "one" || got[1] != "two" {
		t.Errorf("X-Multi %q", got)
	}
	if b.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
		t.Errorf("Content-Length %q", b.Header.Get("Content-Length"))
	}
}

// HEAD is served from a GET's entry, without a body; a HEAD miss is passed
// through and stores nothing.
func TestHead(t *testing.T) {
	app := newApp()
	app.UsePlugins(cache.New(cache.Config{}))
	runs := handle(app, "/h", text("X-Kind", "h"))
	srv := graftest.Start(t, app)
	h1 := srv.Request("HEAD", "/h", nil).WantStatus(200)
	if h1.Header.Get("X-Cache") != "MISS" || len(h1.Body) != 0 {
		t.Fatalf("HEAD miss: %q %q", h1.Header.Get("X-Cache"), h1.Body)
	}
	wantCache(t, srv.Get("/h"), "MISS", "run 2") // the HEAD stored nothing
	h2 := srv.Request("HEAD", "/h", nil).WantStatus(200)
	if h2.Header.Get("X-Cache") != "HIT" || len(h2.Body) != 0 || h2.Header.Get("X-Kind") != "h" || h2.ContentLength != int64(len("run 2")) {
		t.Fatalf("HEAD hit: X-Cache %q, body %q, X-Kind %q, length %d", h2.Header.Get("X-Cache"), h2.Body, h2.Header.Get("X-Kind"), h2.ContentLength)
	}
	if runs.Load() != 2 {
		t.Errorf("runs %d, want 2", runs.Load())
	}
}

// Answers a shared cache must not store are passed through every time.
func TestNotStored(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    func(c *graft.Ctx, n int64) error
	}{
		{"no-store", text("Cache-Control", "no-store")},
		{"private", text("Cache-Control", "private, max-age=60")},
		{"private with fields", text("Cache-Control", `private="X-User", max-age=60`)},
		{"no-cache", text("Cache-Control", "no-cache")},
		{"upper case", text("Cache-Control", "max-age=60, No-Store")},
		{"max-age=0", text("Cache-Control", "max-age=0")},
		{"invalid max-age", text("Cache-Control", "max-age=soon")},
		{"expired Expires", text("Expires", "Thu, 01 Jan 1970 00:00:00 GMT")},
		{"invalid Expires", text("Expires", "0")},
		{"Set-Cookie", func(c *graft.Ctx, n int64) error {
			c.SetCookie(&http.Cookie{Name: "s", Value: "1"})
			return c.Text(200, "run "+strconv.FormatInt(n, 10))
		}},
		{"Vary: *", text("Vary", "*")},
		{"500", func(c *graft.Ctx, n int64) error { return c.Text(500, "run "+strconv.FormatInt(n, 10)) }},
		{"201", func(c *graft.Ctx, n int64) error { return c.Text(201, "run "+strconv.FormatInt(n, 10)) }},
		{"302", func(c *graft.Ctx, n int64) error {
			c.SetHeader("Location", "/x")
			return c.Text(302, "run "+strconv.FormatInt(n, 10))
		}},
		{"206", func(c *graft.Ctx, n int64) error {
			c.SetHeader("Content-Range", "bytes 0-4/10")
			return c.Text(206, "run "+strconv.FormatInt(n, 10))
		}},
		{"error", func(c *graft.Ctx, n int64) error { return fmt.Errorf("run %d failed", n) }},
		{"short body", func(c *graft.Ctx, n int64) error {
			c.SetHeader("Content-Length", "100")
			c.Status(200)
			io.WriteString(c.Response(), "run "+strconv.FormatInt(n, 10))
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := newApp()
			app.UsePlugins(cache.New(cache.Config{}))
			runs := handle(app, "/x", tc.h)
			srv := graftest.Start(t, app).For(t)
			for i := range 3 {
				res, err := srv.Client.Get(srv.URL + "/x")
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(res.Body) // a short body is an error here: it is what the client got
				res.Body.Close()
				if x := res.Header.Get("X-Cache"); x != "MISS" || (tc.name != "error" && !strings.Contains(string(b), "run "+strconv.Itoa(i+1))) {
					t.Fatalf("request %d: X-Cache %q, body %q; want MISS, run %d", i+1, x, b, i+1)
				}
			}
			if runs.Load() != 3 {
				t.Fatalf("runs %d, want 3", runs.Load())
			}
		})
	}
}

// With Policy.SetCookie, answers setting cookies are stored and replayed.
func TestSetCookieOptIn(t *testing.T) {
	app := newApp()
	app.UsePlugins(cache.New(cache.Config{Policy: cache.Policy{SetCookie: true}}))
	handle(app, "/x", text("Set-Cookie", "a=1"))
	srv := graftest.Start(t, app)
	srv.Get("/x")
	r := srv.Get("/x")
	wantCache(t, r, "HIT", "run 1")
	if r.Header.Get("Set-Cookie") != "a=1" {
		t.Errorf("Set-Cookie %q", r.Header.Get("Set-Cookie"))
	}
}

// Freshness: s-maxage over max-age over Expires over the TTL, capped by
// MaxTTL; entries expire by the clock.
func TestFreshness(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy cache.Policy
		hdr    []string
		fresh  time.Duration // fresh until just before this
		abs    bool          // an absolute expiry: a later answer is stale at once
	}{
		{"TTL", cache.Policy{TTL: 30 * time.Second}, nil, 30 * time.Second, false},
		{"default TTL", cache.Policy{}, nil, cache.DefaultTTL, false},
		{"max-age over TTL", cache.Policy{TTL: 30 * time.Second}, []string{"Cache-Control", "max-age=90"}, 90 * time.Second, false},
		{"s-maxage over max-age", cache.Policy{}, []string{"Cache-Control", "max-age=90, s-maxage=10"}, 10 * time.Second, false},
		{"quoted", cache.Policy{}, []string{"Cache-Control", `max-age="20"`}, 20 * time.Second, false},
		{"Age counts", cache.Policy{}, []string{"Cache-Control", "max-age=50", "Age", "20"}, 30 * time.Second, false},
		{"Expires", cache.Policy{}, []string{"Expires", "Wed, 04 Mar 2026 05:08:07 GMT"}, 2 * time.Minute, true},
		{"Expires against Date", cache.Policy{}, []string{"Date", "Wed, 04 Mar 2026 05:06:00 GMT", "Expires", "Wed, 04 Mar 2026 05:06:40 GMT"}, 40 * time.Second, false},
		{"MaxTTL caps max-age", cache.Policy{MaxTTL: 15 * time.Second}, []string{"Cache-Control", "max-age=3600"}, 15 * time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			app := newApp()
			app.UsePlugins(cache.New(cache.Config{Now: clk.Now, Policy: tc.policy}))
			handle(app, "/x", text(tc.hdr...))
			srv := graftest.Start(t, app).For(t)
			wantCache(t, srv.Get("/x"), "MISS", "run 1")
			clk.Add(tc.fresh - time.Second)
			wantCache(t, srv.Get("/x"), "HIT", "run 1")
			clk.Add(time.Second)
			wantCache(t, srv.Get("/x"), "MISS", "run 2")
			if tc.abs {
				wantCache(t, srv.Get("/x"), "MISS", "run 3")
			} else {
				wantCache(t, srv.Get("/x"), "HIT", "run 2")
			}
		})
	}
}

// Request directives: no-cache refreshes, no-store bypasses, max-age and
// min-fresh refuse old entries, only-if-cached answers 504 without one;
// IgnoreRequestDirectives ignores them.
func TestRequestDirectives(t *testing.T) {
	clk := newClock()
	app := newApp()
	c := cache.New(cache.Config{Now: clk.Now})
	app.UsePlugins(c)
	handle(app, "/x", text())
	handle(app, "/ignoring", text(), graft.Plugins(c.With(cache.Policy{IgnoreRequestDirectives: true})))
	srv := graftest.Start(t, app)

	p := srv.Get("/x", "Cache-Control", "only-if-cached").WantStatus(504).Problem()
	if !strings.Contains(p.Detail, "only-if-cached") {
		t.Errorf("504 detail %q", p.Detail)
	}
	wantCache(t, srv.Get("/x"), "MISS", "run 1")
	wantCache(t, srv.Get("/x", "Cache-Control", "only-if-cached"), "HIT", "run 1")
	wantCache(t, srv.Get("/x", "Cache-Control", "no-cache"), "MISS", "run 2")
	wantCache(t, srv.Get("/x"), "HIT", "run 2") // refreshed
	wantCache(t, srv.Get("/x", "Pragma", "no-cache"), "MISS", "run 3")
	wantCache(t, srv.Get("/x", "Cache-Control", "no-store"), "BYPASS", "run 4")
	wantCache(t, srv.Get("/x"), "HIT", "run 3") // no-store neither served nor stored
	clk.Add(10 * time.Second)
	wantCache(t, srv.Get("/x", "Cache-Control", "max-age=20"), "HIT", "run 3")
	wantCache(t, srv.Get("/x", "Cache-Control", "max-age=5"), "MISS", "run 5")
	wantCache(t, srv.Get("/x", "Cache-Control", "min-fresh=59"), "HIT", "run 5")
	clk.Add(2 * time.Second)
	wantCache(t, srv.Get("/x", "Cache-Control", "min-fresh=59"), "MISS", "run 6")

	wantCache(t, srv.Get("/ignoring"), "MISS", "run 1")
	for _, d := range []string{"no-cache", "no-store", "max-age=0"} {
		wantCache(t, srv.Get("/ignoring", "Cache-Control", d), "HIT", "run 1")
	}
}

// Vary: each combination of the varied headers' values has its own entry.
func TestVary(t *testing.T) {
	app := newApp()
	app.UsePlugins(cache.New(cache.Config{}))
	runs := handle(app, "/greet", func(c *graft.Ctx, n int64) error {
		c.Response().Header().Add("Vary", "accept-language")
		c.Response().Header().Add("Vary", "X-Variant, Accept-Language")
		return c.Text(200, c.Header("Accept-Language")+"/"+c.Header("X-Variant")+" run "+strconv.FormatInt(n, 10))
	})
	srv := graftest.Start(t, app)
	wantCache(t, srv.Get("/greet", "Accept-Language", "en"), "MISS", "en/ run 1")
	wantCache(t, srv.Get("/greet", "Accept-Language", "fr"), "MISS", "fr/ run 2")
	wantCache(t, srv.Get("/greet", "Accept-Language", "en"), "HIT", "en/ run 1")
	wantCache(t, srv.Get("/greet", "Accept-Language", "fr"), "HIT", "fr/ run 2")
	wantCache(t, srv.Get("/greet", "Accept-Language", "en", "X-Variant", "b"), "MISS", "en/b run 3")
	wantCache(t, srv.Get("/greet"), "MISS", "/ run 4")
	wantCache(t, srv.Get("/greet", "X-Variant", "b", "Accept-Language", "en"), "HIT", "en/b run 3")
	if runs.Load() != 4 {
		t.Errorf("runs %d", runs.Load())
	}
}

// The key is the path and the canonical query; Policy.Key rewrites it or
// bypasses; a path with %00 cannot reach another key's variants.
func TestKeys(t *testing.T) {
	app := newApp()
	c := cache.New(cache.Config{})
	app.UsePlugins(c)
	echo := func(c *graft.Ctx, n int64) error {
		c.Response().Header().Set("Vary", "Accept-Language")
		return c.Text(200, c.Request.URL.RawQuery+" run "+strconv.FormatInt(n, 10))
	}
	handle(app, "/q", echo)
	var pruns atomic.Int64
	graft.Get(app, "/p/{name}", func(_ context.Context, in *struct {
		C    *graft.Ctx `inject:""`
		Name string     `path:"name"`
	}) (*rawOut, error) {
		return nil, echo(in.C, pruns.Add(1))
	})
	handle(app, "/tenant", text(), graft.Plugins(c.With(cache.Policy{Key: func(c *graft.Ctx, key string) (string, bool) {
		t := c.Header("X-Tenant")
		return key + "|tenant=" + t, t != "none"
	}})))
	srv := graftest.Start(t, app)
	wantCache(t, srv.Get("/q?b=2&a=1"), "MISS", "b=2&a=1 run 1")
	wantCache(t, srv.Get("/q?a=1&b=2"), "HIT", "b=2&a=1 run 1")
	wantCache(t, srv.Get("/q?a=%31&&b=2"), "HIT", "b=2&a=1 run 1")
	wantCache(t, srv.Get("/q?a=1&b=3"), "MISS", "a=1&b=3 run 2")
	wantCache(t, srv.Get("/q?a=2&a=1"), "MISS", "a=2&a=1 run 3") // value order kept
	wantCache(t, srv.Get("/q?a=1&a=2"), "MISS", "a=1&a=2 run 4")

	wantCache(t, srv.Get("/p/a", "Accept-Language", "en"), "MISS", " run 1")
	// "/p/a\x00v=Accept-Language:en" would be the variant key of /p/a.
	wantCache(t, srv.Get("/p/a%00v=Accept-Language:fr"), "MISS", " run 2")
	wantCache(t, srv.Get("/p/a", "Accept-Language", "fr"), "MISS", " run 3")

	wantCache(t, srv.Get("/tenant", "X-Tenant", "a"), "MISS", "run 1")
	wantCache(t, srv.Get("/tenant", "X-Tenant", "b"), "MISS", "run 2")
	wantCache(t, srv.Get("/tenant", "X-Tenant", "a"), "HIT", "run 1")
	wantCache(t, srv.Get("/tenant", "X-Tenant", "none"), "BYPASS", "run 3")
	wantCache(t, srv.Get("/tenant", "X-Tenant", "none"), "BYPASS", "run 4")
}

func TestURLKey(t *testing.T) {
	for _, tc := range []struct{ path, query, want string }{
		{"/a", "", "/a"},
		{"/a", "x=1&y=2", "/a?x=1&y=2"},
		{"/a", "y=2&x=1", "/a?x=1&y=2"},
		{"/a", "x=%41&y", "/a?x=A&y"},
		{"/a", "y=a+b&x=%2B", "/a?x=%2B&y=a+b"},
		{"/a", "b=1&a=2&b=0", "/a?a=2&b=1&b=0"},
		{"/a", "&&z=1&", "/a?z=1"},
		{"/a", "b=%zz&a=1", "/a?a=1&b=%zz"},
	} {
		if got := cache.URLKey(tc.path, tc.query); got != tc.want {
			t.Errorf("URLKey(%q, %q) = %q, want %q", tc.path, tc.query, got, tc.want)
		}
	}
}

// A request with Authorization is served and fills only answers meant for
// everyone (public, s-maxage, must-revalidate), unless the policy says.
func TestAuthorization(t *testing.T) {
	app := newApp()
	c := cache.New(cache.Config{})
	app.UsePlugins(c)
	handle(app, "/plain", text())
	handle(app, "/public", text("Cache-Control", "public, max-age=60"))
	handle(app, "/authorized", text(), graft.Plugins(c.With(cache.Policy{Authorized: true, Key: func(c *graft.Ctx, k string) (string, bool) {
		return k + "|" + c.Header("Authorization"), true
	}})))
	srv := graftest.Start(t, app)
	auth := []string{"Authorization", "Bearer a"}
	wantCache(t, srv.Get("/plain", auth...), "MISS", "run 1")
	wantCache(t, srv.Get("/plain"), "MISS", "run 2") // the authorized answer was not stored
	wantCache(t, srv.Get("/plain", auth...), "MISS", "run 3")
	wantCache(t, srv.Get("/plain"), "HIT", "run 2")

	wantCache(t, srv.Get("/public", auth...), "MISS", "run 1")
	wantCache(t, srv.Get("/public", "Authorization", "Bearer b"), "HIT", "run 1")
	wantCache(t, srv.Get("/public"), "HIT", "run 1")

	wantCache(t, srv.Get("/authorized", auth...), "MISS", "run 1")
	wantCache(t, srv.Get("/authorized", auth...), "HIT", "run 1")
	wantCache(t, srv.Get("/authorized", "Authorization", "Bearer b"), "MISS", "run 2")
}

// Headers set before the cache's middleware ran (a request id) are set
// afresh on every request, not replayed from the entry.
func TestOuterHeadersNotStored(t *testing.T) {
	app := newApp()
	var n atomic.Int64
	app.Use(func(next graft.HandlerFunc) graft.HandlerFunc {
		return func(c *graft.Ctx) error {
			c.SetHeader("X-Request-Id", strconv.FormatInt(n.Add(1), 10))
			return next(c)
		}
	})
	app.UsePlugins(cache.New(cache.Config{}))
	handle(app, "/x", text("X-Handler", "h"))
	srv := graftest.Start(t, app)
	srv.Get("/x")
	r := srv.Get("/x")
	wantCache(t, r, "HIT", "run 1")
	if r.Header.Get("X-Request-Id") != "2" || len(r.Header.Values("X-Request-Id")) != 1 || r.Header.Get("X-Handler") != "h" {
		t.Errorf("X-Request-Id %q, X-Handler %q", r.Header.Values("X-Request-Id"), r.Header.Get("X-Handler"))
	}
}

// Concurrent misses on one key run the handler once; every request gets
// its answer.
func TestStampede(t *testing.T) {
	const n = 24
	app := newApp()
	c := cache.New(cache.Config{})
	app.UsePlugins(c)
	release := make(chan struct{})
	entered := make(chan struct{}, n)
	runs := handle(app, "/slow", func(cx *graft.Ctx, k int64) error {
		entered <- struct{}{}
		<-release
		return cx.Text(200, "run "+strconv.FormatInt(k, 10))
	})
	srv := graftest.Start(t, app)
	var wg sync.WaitGroup
	bodies := make(chan string, n)
	for range n {
		wg.Go(func() {
			res, err := srv.Client.Get(srv.URL + "/slow")
			if err != nil {
				bodies <- err.Error()
				return
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			bodies <- res.Header.Get("X-Cache") + " " + string(b)
		})
	}
	select {
	case <-entered:
	case <-time.After(graftest.Timeout):
		t.Fatal("waited for the first request to reach the handler")
	}
	graftest.WaitFor(t, fmt.Sprintf("%d requests to wait for the first (Waiting)", n-1), func() bool { return c.Waiting() == n-1 })
	close(release)
	graftest.WaitFor(t, fmt.Sprintf("all %d answers", n), func() bool { return len(bodies) == n })
	wg.Wait() // every goroutine has sent; this returns at once
	close(bodies)
	miss, hit := 0, 0
	for b := range bodies {
		switch b {
		case "MISS run 1":
			miss++
		case "HIT run 1":
			hit++
		default:
			t.Errorf("answer %q", b)
		}
	}
	if runs.Load() != 1 || miss != 1 || hit != n-1 {
		t.Errorf("handler ran %d times; %d MISS, %d HIT; want 1, 1, %d", runs.Load(), miss, hit, n-1)
	}
}

// A waiter whose WaitTimeout passes runs the handler itself; one whose
// client goes away stops waiting; an answer that may not be stored is
// not shared with waiters.
func TestWaiters(t *testing.T) {
	app := newApp()
	c := cache.New(cache.Config{Policy: cache.Policy{WaitTimeout: 20 * time.Millisecond}})
	app.UsePlugins(c)
	release := make(chan struct{})
	entered := make(chan int64, 4)
	handle(app, "/slow", func(cx *graft.Ctx, k int64) error {
		entered <- k
		if k == 1 {
			<-release
		}
		return cx.Text(200, "run "+strconv.FormatInt(k, 10))
	})
	private := make(chan struct{})
	privRuns := handle(app, "/private", func(cx *graft.Ctx, k int64) error {
		if k == 1 {
			<-private
		}
		cx.SetHeader("Cache-Control", "private")
		return cx.Text(200, "run "+strconv.FormatInt(k, 10))
	}, graft.Plugins(c.With(cache.Policy{})))
	srv := graftest.Start(t, app)

	first := make(chan string, 1)
	go func() {
		res, err := srv.Client.Get(srv.URL + "/slow")
		if err != nil {
			first <- err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		first <- string(b)
	}()
	if k := recv(t, entered, "the first /slow request to reach the handler"); k != 1 {
		t.Fatalf("first run %d", k)
	}
	// The second waits 20ms, then runs the handler while the first is
	// still held.
	wantCache(t, srv.Get("/slow"), "MISS", "run 2")
	close(release)
	select {
	case b := <-first:
		if b != "run 1" {
			t.Fatalf("first: %q", b)
		}
	case <-time.After(graftest.Timeout):
		t.Fatal("waited for the first request's answer")
	}

	// A private answer is not shared: the waiter runs the handler.
	done := make(chan string, 2)
	get := func() {
		res, err := srv.Client.Get(srv.URL + "/private")
		if err != nil {
			done <- err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		done <- string(b)
	}
	go get()
	graftest.WaitFor(t, "the first /private request to run", func() bool { return privRuns.Load() == 1 })
	go get()
	graftest.WaitFor(t, "the second /private request to wait", func() bool { return c.Waiting() == 1 })
	close(private)
	got := map[string]bool{}
	for range 2 {
		select {
		case b := <-done:
			got[b] = true
		case <-time.After(graftest.Timeout):
			t.Fatal("waited for the /private answers")
		}
	}
	if !got["run 1"] || !got["run 2"] {
		t.Errorf("answers %v; want run 1 and run 2", got)
	}
}

// A waiter whose request ends stops waiting.
func TestWaiterContext(t *testing.T) {
	app := newApp()
	c := cache.New(cache.Config{})
	app.UsePlugins(c)
	release := make(chan struct{})
	runs := handle(app, "/slow", func(cx *graft.Ctx, k int64) error {
		<-release
		return cx.Text(200, "run "+strconv.FormatInt(k, 10))
	})
	srv := graftest.Start(t, app)
	first := make(chan error, 1)
	go func() {
		res, err := srv.Client.Get(srv.URL + "/slow")
		if err == nil {
			res.Body.Close()
		}
		first <- err
	}()
	graftest.WaitFor(t, "the first request to run", func() bool { return runs.Load() == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/slow", nil)
		res, err := srv.Client.Do(req)
		if err == nil {
			res.Body.Close()
		}
		errc <- err
	}()
	graftest.WaitFor(t, "the second request to wait", func() bool { return c.Waiting() == 1 })
	cancel()
	if err := recv(t, errc, "the cancelled request to return"); err == nil {
		t.Error("the cancelled request got an answer")
	}
	graftest.WaitFor(t, "the cancelled waiter to stop waiting", func() bool { return c.Waiting() == 0 })
	close(release)
	if err := recv(t, first, "the first /slow request's answer"); err != nil {
		t.Fatal(err)
	}
	if runs.Load() != 1 {
		t.Errorf("runs %d", runs.Load())
	}
}

// Bounded memory: the least recently used entry goes when MaxEntries is
// reached; a body over MaxEntryBytes passes through uncached.
func TestEvictionAndOversize(t *testing.T) {
	app := newApp()
	c := cache.New(cache.Config{MaxEntries: 2, Policy: cache.Policy{MaxEntryBytes: 100}})
	app.UsePlugins(c)
	handle(app, "/e/{p}", text())
	big := strings.Repeat("x", 101)
	bigRuns := handle(app, "/big", func(cx *graft.Ctx, k int64) error { return cx.Text(200, big) })
	bigCL := handle(app, "/big-length", func(cx *graft.Ctx, k int64) error {
		cx.SetHeader("Content-Length", "101")
		return cx.Text(200, big)
	})
	srv := graftest.Start(t, app)
	wantCache(t, srv.Get("/e/a"), "MISS", "run 1")
	wantCache(t, srv.Get("/e/b"), "MISS", "run 2")
	wantCache(t, srv.Get("/e/a"), "HIT", "run 1")  // a is now the most recent
	wantCache(t, srv.Get("/e/c"), "MISS", "run 3") // evicts b
	wantCache(t, srv.Get("/e/a"), "HIT", "run 1")
	wantCache(t, srv.Get("/e/c"), "HIT", "run 3")
	wantCache(t, srv.Get("/e/b"), "MISS", "run 4")
	if n := c.Store().(*cache.MemoryStore).Len(); n != 2 {
		t.Errorf("store holds %d entries, want 2", n)
	}
	for range 2 {
		wantCache(t, srv.Get("/big"), "MISS", big)
		wantCache(t, srv.Get("/big-length"), "MISS", big)
	}
	if bigRuns.Load() != 2 || bigCL.Load() != 2 {
		t.Errorf("big runs %d, %d; want 2, 2", bigRuns.Load(), bigCL.Load())
	}
}

// A stream (server-sent events, a flushing handler) is passed through as
// it comes and not stored.
func TestStreamsNotStored(t *testing.T) {
	app := newApp()
	app.UsePlugins(cache.New(cache.Config{}))
	var sseRuns atomic.Int64
	graft.SSE(app, "/events", func(ctx context.Context, _ *struct{}, s *graft.Stream[string]) error {
		n := sseRuns.Add(1)
		for i := range 3 {
			if err := s.Send(fmt.Sprintf("e%d-%d", n, i)); err != nil {
				return err
			}
		}
		return nil
	})
	flushRuns := handle(app, "/flush", func(c *graft.Ctx, k int64) error {
		w := c.Response()
		io.WriteString(w, "part1;")
		w.(http.Flusher).Flush()
		io.WriteString(w, "part2")
		return nil
	})
	srv := graftest.Start(t, app)
	for i := range 2 {
		r := srv.Get("/events").WantStatus(200)
		if !strings.Contains(r.Text(), fmt.Sprintf("data: e%d-2", i+1)) || r.Header.Get("X-Cache") != "MISS" {
			t.Fatalf("stream %d: X-Cache %q, body %q", i, r.Header.Get("X-Cache"), r.Text())
		}
		wantCache(t, srv.Get("/flush"), "MISS", "part1;part2")
	}
	if sseRuns.Load() != 2 || flushRuns.Load() != 2 {
		t.Errorf("runs %d, %d", sseRuns.Load(), flushRuns.Load())
	}
}

// Purge removes a key with its variants, PurgePrefix a tree, PurgeAll
// everything; an answer computed across a purge is not stored.
func TestPurge(t *testing.T) {
	app := newApp()
	c := cache.New(cache.Config{})
	app.UsePlugins(c)
	handle(app, "/items/{p}", text("Vary", "Accept"))
	handle(app, "/other", text())
	var hold atomic.Bool
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	handle(app, "/held", func(cx *graft.Ctx, k int64) error {
		if hold.Load() {
			entered <- struct{}{}
			<-release
		}
		return cx.Text(200, "run "+strconv.FormatInt(k, 10))
	})
	srv := graftest.Start(t, app)
	ctx := context.Background()
	for _, p := range []string{"/items/1", "/items/10", "/items/2", "/other"} {
		srv.Get(p, "Accept", "a")
		srv.Get(p, "Accept", "b")
	}
	if err := c.Purge(ctx, cache.URLKey("/items/1", "")); err != nil {
		t.Fatal(err)
	}
	wantCache(t, srv.Get("/items/1", "Accept", "a"), "MISS", "run 7")
	wantCache(t, srv.Get("/items/1", "Accept", "b"), "MISS", "run 8")
	wantCache(t, srv.Get("/items/10", "Accept", "b"), "HIT", "run 4")
	n, err := c.PurgePrefix(ctx, "/items/")
	if err != nil || n != 9 { // three records and six answers
		t.Fatalf("PurgePrefix: %d, %v; want 9", n, err)
	}
	wantCache(t, srv.Get("/items/10", "Accept", "b"), "MISS", "run 9")
	wantCache(t, srv.Get("/other"), "HIT", "run 1")
	if err := c.PurgeAll(ctx); err != nil {
		t.Fatal(err)
	}
	wantCache(t, srv.Get("/other"), "MISS", "run 2")

	hold.Store(true)
	res := make(chan string, 1)
	go func() {
		r, err := srv.Client.Get(srv.URL + "/held")
		if err != nil {
			res <- err.Error()
			return
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		res <- string(b)
	}()
	recv(t, entered, "the /held request to reach the handler")
	if _, err := c.PurgePrefix(ctx, "/held"); err != nil {
		t.Fatal(err)
	}
	close(release)
	if b := recv(t, res, "the /held answer"); b != "run 1" {
		t.Fatalf("held: %q", b)
	}
	hold.Store(false)
	wantCache(t, srv.Get("/held"), "MISS", "run 2") // run 1 was computed across the purge
	wantCache(t, srv.Get("/held"), "HIT", "run 2")
}

// Policies per endpoint: the innermost of the cache's plugins decides; Off
// keeps the cache away; Skip too.
func TestPolicies(t *testing.T) {
	clk := newClock()
	app := newApp()
	c := cache.New(cache.Config{Now: clk.Now, Policy: cache.Policy{TTL: 10 * time.Second},
		Skip: func(sig *graft.Signature) bool { return sig.Route == "/skipped" }})
	app.UsePlugins(c)
	long := app.Group("/long", graft.Plugins(c.With(cache.Policy{TTL: time.Hour})))
	handle(app, "/short", text())
	handle(long, "/x", text())
	handle(long, "/short-again", text(), graft.Plugins(c.With(cache.Policy{TTL: 10 * time.Second})))
	handle(long, "/off", text(), graft.Plugins(c.Off()))
	handle(app, "/skipped", text())
	srv := graftest.Start(t, app)
	for _, p := range []string{"/short", "/long/x", "/long/short-again"} {
		wantCache(t, srv.Get(p), "MISS", "run 1")
	}
	clk.Add(time.Minute)
	wantCache(t, srv.Get("/short"), "MISS", "run 2")
	wantCache(t, srv.Get("/long/x"), "HIT", "run 1")
	wantCache(t, srv.Get("/long/short-again"), "MISS", "run 2")
	for _, p := range []string{"/long/off", "/skipped"} {
		for i := range 2 {
			if r := srv.Get(p); r.Header.Get("X-Cache") != "" || r.Text() != "run "+strconv.Itoa(i+1) {
				t.Errorf("%s: X-Cache %q, body %q", p, r.Header.Get("X-Cache"), r.Text())
			}
		}
	}
}

// Only GET endpoints are cached; POST and other endpoints are left as
// they are.
func TestOnlyGET(t *testing.T) {
	app := newApp()
	app.UsePlugins(cache.New(cache.Config{}))
	var runs atomic.Int64
	graft.Post(app, "/p", func(context.Context, *struct{}) (*struct{ Body string }, error) {
		return &struct{ Body string }{"run " + strconv.FormatInt(runs.Add(1), 10)}, nil
	})
	srv := graftest.Start(t, app)
	for i := range 2 {
		r := srv.Post("/p", "application/json", "")
		if r.Header.Get("X-Cache") != "" || r.Text() != "run "+strconv.Itoa(i+1) {
			t.Errorf("POST: X-Cache %q, body %q", r.Header.Get("X-Cache"), r.Text())
		}
	}
}

// The status header can be renamed or left out; Observe sees each result.
func TestStatusHeaderAndObserve(t *testing.T) {
	app := newApp()
	var mu sync.Mutex
	var seen []string
	c := cache.New(cache.Config{StatusHeader: "x-served-by-cache", Observe: func(c *graft.Ctx, r cache.Result) {
		mu.Lock()
		seen = append(seen, r.String())
		mu.Unlock()
	}})
	app.UsePlugins(c)
	handle(app, "/x", text())
	srv := graftest.Start(t, app)
	srv.Get("/x")
	srv.Get("/x", "Cache-Control", "no-store")
	if r := srv.Get("/x"); r.Header.Get("X-Served-By-Cache") != "HIT" || r.Header.Get("X-Cache") != "" {
		t.Errorf("headers %v", r.Header)
	}
	mu.Lock()
	if got := strings.Join(seen, ","); got != "MISS,BYPASS,HIT" {
		t.Errorf("observed %s", got)
	}
	mu.Unlock()

	app2 := newApp()
	app2.UsePlugins(cache.New(cache.Config{StatusHeader: "-"}))
	handle(app2, "/x", text())
	srv2 := graftest.Start(t, app2)
	srv2.Get("/x")
	if r := srv2.Get("/x"); r.Header.Get("X-Cache") != "" || r.Header.Get("Age") != "0" {
		t.Errorf("without status header: %v", r.Header)
	}
}

// Plain routes: the cache as middleware.
func TestMiddleware(t *testing.T) {
	app := newApp()
	c := cache.New(cache.Config{})
	mw, err := c.Middleware()
	if err != nil {
		t.Fatal(err)
	}
	var runs atomic.Int64
	app.GET("/plain", func(c *graft.Ctx) error {
		return c.Text(200, "run "+strconv.FormatInt(runs.Add(1), 10))
	}, graft.WithMiddleware(mw))
	app.POST("/plain", func(c *graft.Ctx) error {
		return c.Text(200, "post "+strconv.FormatInt(runs.Add(1), 10))
	}, graft.WithMiddleware(mw))
	srv := graftest.Start(t, app)
	wantCache(t, srv.Get("/plain"), "MISS", "run 1")
	wantCache(t, srv.Get("/plain"), "HIT", "run 1")
	if r := srv.Post("/plain", "text/plain", ""); r.Text() != "post 2" || r.Header.Get("X-Cache") != "" {
		t.Errorf("POST: %q %q", r.Text(), r.Header.Get("X-Cache"))
	}
	if _, err := cache.New(cache.Config{Policy: cache.Policy{User: cache.User(func(string) string { return "" })}}).Middleware(); err == nil {
		t.Error("Middleware with a User key: no error")
	}
}

func TestSetupMistakes(t *testing.T) {
	for _, tc := range []struct {
		cfg  cache.Config
		want string
	}{
		{cache.Config{Policy: cache.Policy{TTL: -time.Second}}, "Policy.TTL is -1s"},
		{cache.Config{Policy: cache.Policy{MaxTTL: -1}}, "Policy.MaxTTL is -1ns"},
		{cache.Config{Policy: cache.Policy{MaxEntryBytes: -1}}, "Policy.MaxEntryBytes is -1"},
		{cache.Config{Policy: cache.Policy{WaitTimeout: -1}}, "Policy.WaitTimeout is -1ns"},
		{cache.Config{Policy: cache.Policy{Statuses: []int{200, 206}}}, "Policy.Statuses has 206"},
		{cache.Config{Policy: cache.Policy{Statuses: []int{304}}}, "Policy.Statuses has 304"},
		{cache.Config{Policy: cache.Policy{User: cache.User[*struct{}](nil)}}, "Policy.User: cache.User(nil)"},
		{cache.Config{StatusHeader: "X Cache"}, `Config.StatusHeader "X Cache"`},
		{cache.Config{MaxEntries: -1}, "MemoryConfig.MaxEntries is -1"},
		{cache.Config{Store: mustStore(t), MaxEntries: 5}, "Config.MaxEntries and MaxBytes bound the memory store"},
	} {
		app := newApp()
		app.UsePlugins(graft.NamedPlugin("cache", cache.New(tc.cfg)))
		handle(app, "/t", text())
		msg := graftest.StartError(t, app)
		if !strings.Contains(msg, "endpoint GET /t: plugin cache: "+tc.want) {
			t.Errorf("error %q, want %q", msg, tc.want)
		}
	}
	app := newApp()
	c := cache.New(cache.Config{})
	handle(app, "/t", text(), graft.Plugins(graft.NamedPlugin("cache", c.With(cache.Policy{TTL: -1}))))
	if msg := graftest.StartError(t, app); !strings.Contains(msg, "endpoint GET /t: plugin cache: Policy.TTL is -1ns") {
		t.Errorf("With: %q", msg)
	}
}

func mustStore(t *testing.T) cache.Store {
	s, err := cache.NewMemoryStore(cache.MemoryConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustReq(t *testing.T, url string, hdr ...string) *http.Request {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Error(err)
		return nil
	}
	for i := 0; i < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	return req
}

func readAll(r *http.Response) string {
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return string(b)
}

// A HEAD request joins a GET that is computing the answer, and is
// answered from it.
func TestHeadJoinsGET(t *testing.T) {
	app := newApp()
	c := cache.New(cache.Config{})
	app.UsePlugins(c)
	release := make(chan struct{})
	runs := handle(app, "/slow", func(cx *graft.Ctx, k int64) error {
		<-release
		return cx.Text(200, "run "+strconv.FormatInt(k, 10))
	})
	srv := graftest.Start(t, app)
	get := make(chan string, 1)
	go func() {
		r, err := srv.Client.Get(srv.URL + "/slow")
		if err != nil {
			get <- err.Error()
			return
		}
		get <- readAll(r)
	}()
	graftest.WaitFor(t, "the GET to run", func() bool { return runs.Load() == 1 })
	head := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequest("HEAD", srv.URL+"/slow", nil)
		r, err := srv.Client.Do(req)
		if err != nil {
			head <- nil
			return
		}
		r.Body.Close()
		head <- r
	}()
	graftest.WaitFor(t, "the HEAD to wait for the GET", func() bool { return c.Waiting() == 1 })
	close(release)
	if b := recv(t, get, "the GET's answer"); b != "run 1" {
		t.Fatalf("GET: %q", b)
	}
	r := recv(t, head, "the HEAD's answer")
	if r == nil || r.Header.Get("X-Cache") != "HIT" || r.ContentLength != int64(len("run 1")) || runs.Load() != 1 {
		t.Fatalf("HEAD: %+v, runs %d", r, runs.Load())
	}
}

// A hit answers a conditional request itself: 304 when If-None-Match
// lists the stored ETag (weakly) or, without it, If-Modified-Since is not
// before the stored Last-Modified.
func TestConditionalHit(t *testing.T) {
	app := newApp()
	app.UsePlugins(cache.New(cache.Config{}))
	runs := handle(app, "/doc", text("ETag", `"v1"`, "Last-Modified", "Mon, 02 Mar 2026 10:00:00 GMT"))
	srv := graftest.Start(t, app)
	wantCache(t, srv.Get("/doc"), "MISS", "run 1")
	for _, tc := range []struct {
		hdr  []string
		want int
	}{
		{[]string{"If-None-Match", `"v1"`}, 304},
		{[]string{"If-None-Match", `"v0", W/"v1"`}, 304},
		{[]string{"If-None-Match", `*`}, 304},
		{[]string{"If-None-Match", `"v2"`}, 200},
		{[]string{"If-None-Match", `"v2"`, "If-Modified-Since", "Tue, 03 Mar 2026 10:00:00 GMT"}, 200},
		{[]string{"If-Modified-Since", "Tue, 03 Mar 2026 10:00:00 GMT"}, 304},
		{[]string{"If-Modified-Since", "Mon, 02 Mar 2026 10:00:00 GMT"}, 304},
		{[]string{"If-Modified-Since", "Sun, 01 Mar 2026 10:00:00 GMT"}, 200},
		{[]string{"If-Modified-Since", "yesterday"}, 200},
	} {
		r := srv.Get("/doc", tc.hdr...)
		if r.StatusCode != tc.want || r.Header.Get("X-Cache") != "HIT" || r.Header.Get("Etag") != `"v1"` {
			t.Errorf("%q: %d, X-Cache %q, ETag %q; want %d HIT", tc.hdr, r.StatusCode, r.Header.Get("X-Cache"), r.Header.Get("Etag"), tc.want)
		}
		if tc.want == 304 && (len(r.Body) != 0 || r.Header.Get("Content-Type") != "") {
			t.Errorf("%q: a 304 with body %q, Content-Type %q", tc.hdr, r.Body, r.Header.Get("Content-Type"))
		}
		if tc.want == 200 && r.Text() != "run 1" {
			t.Errorf("%q: body %q", tc.hdr, r.Text())
		}
	}
	if runs.Load() != 1 {
		t.Errorf("runs %d", runs.Load())
	}
}

// failingStore fails every call.
type failingStore struct{}

func (failingStore) Get(context.Context, string) (*cache.Entry, error) {
	return nil, fmt.Errorf("store down")
}
func (failingStore) Set(context.Context, string, *cache.Entry) error { return fmt.Errorf("store down") }
func (failingStore) Delete(context.Context, string) error            { return fmt.Errorf("store down") }
func (failingStore) DeletePrefix(context.Context, string) (int, error) {
	return 0, fmt.Errorf("store down")
}
func (failingStore) Clear(context.Context) error { return fmt.Errorf("store down") }

// A store that fails is a miss: the endpoint answers, the failure is
// logged, and purges report it.
func TestFailingStore(t *testing.T) {
	var logs strings.Builder
	var mu sync.Mutex
	app := graft.New(graft.Config{Logger: slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))})
	c := cache.New(cache.Config{Store: failingStore{}})
	app.UsePlugins(c)
	handle(app, "/x", text())
	srv := graftest.Start(t, app)
	wantCache(t, srv.Get("/x"), "MISS", "run 1")
	wantCache(t, srv.Get("/x"), "MISS", "run 2")
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if !strings.Contains(out, "cache: store lookup failed") || !strings.Contains(out, "cache: storing the answer failed") || !strings.Contains(out, "store down") {
		t.Errorf("logs:\n%s", out)
	}
	if err := c.Purge(context.Background(), "/x"); err == nil {
		t.Error("Purge on a failing store: no error")
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
