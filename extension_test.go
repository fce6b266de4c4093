package graft_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/cookies"
)

// get performs a request against srv and returns status, headers and body.
func get(t *testing.T, srv *httptest.Server, method, path string, hdr map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

var cartProp = graft.NewProperty("test.cart", func() []string { return []string{} })

func TestPropertyPerRequestDefaultAndNoLeak(t *testing.T) {
	app := graft.New(graft.Config{RequestPoolMaxItems: 4})
	app.Register(cartProp)
	app.GET("/cart", func(c *graft.Ctx) error {
		items := cartProp.Get(c)
		if len(items) != 0 {
			return fmt.Errorf("cart leaked from another request: %v", items)
		}
		for _, v := range c.QueryValues()["add"] {
			items = append(items, v)
		}
		cartProp.Set(c, items)
		return c.JSON(200, cartProp.Get(c))
	})
	srv := httptest.NewServer(app)
	defer srv.Close()

	var wg sync.WaitGroup
	errs := make(chan string, 400)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				want := fmt.Sprintf(`["w%d","i%d"]`, w, i)
				st, _, body := get(t, srv, "GET", fmt.Sprintf("/cart?add=w%d&add=i%d", w, i), nil)
				if st != 200 || body != want {
					errs <- fmt.Sprintf("got %d %s, want %s", st, body, want)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if st, _, body := get(t, srv, "GET", "/cart", nil); st != 200 || body != "[]" {
		t.Errorf("empty cart = %d %s", st, body)
	}
	if s := app.PoolStats(); s.Max != 4 {
		t.Errorf("pool max = %d, want 4", s.Max)
	}
}

// greeter is a third-party mixin with per-request state.
type greeter struct {
	graft.Mixin
	calls int
}

func (g *greeter) Greet() string {
	g.calls++
	return "hello " + g.Ctx().Query("name") + " #" + strconv.Itoa(g.calls)
}

func (g *greeter) ResetState() { g.calls = 0 }

// tokenReader is another third-party mixin (socketify's get_user).
type tokenReader struct{ graft.Mixin }

func (u *tokenReader) User() string {
	if u.Ctx().Header("token") != "" {
		return "Test"
	}
	return "Anonymous"
}

type mixCtx struct {
	graft.Ctx
	greeter
	tokenReader
}

// (ext/msgpack's TestResponderBesideOtherMixins adds a first-party mixin
// with an extension of its own to this mix.)
func TestMixinsCombineAndReset(t *testing.T) {
	app := graft.NewWithContext[mixCtx](graft.Config{RequestPoolMaxItems: 1})
	app.GET("/", func(c *mixCtx) error {
		return c.Text(200, c.Greet()+" "+c.User())
	})
	app.GET("/anon", func(c *mixCtx) error { return c.Text(200, c.User()) })
	srv := httptest.NewServer(app)
	defer srv.Close()
	for range 3 { // the pooled context is reused; its mixin state must reset
		if st, _, body := get(t, srv, "GET", "/?name=ann", map[string]string{"token": "x"}); st != 200 || body != "hello ann #1 Test" {
			t.Fatalf("got %d %q", st, body)
		}
	}
	if st, _, body := get(t, srv, "GET", "/anon", nil); st != 200 || body != "Anonymous" {
		t.Fatalf("no token: %d %q", st, body)
	}
	if s := app.PoolStats(); s.Created != 1 {
		t.Errorf("sequential requests made %d contexts, want 1 (reuse)", s.Created)
	}
}

type clashA struct{ graft.Mixin }

func (clashA) Hello() string { return "a" }

type clashB struct{ graft.Mixin }

func (clashB) Hello() string { return "b" }

type clashCtx struct {
	graft.Ctx
	clashA
	clashB
}

type settledCtx struct {
	graft.Ctx
	clashA
	clashB
}

func (s *settledCtx) Hello() string { return s.clashA.Hello() }

type shadowMixin struct{ graft.Mixin }

// Param clashes with graft.Ctx.Param.
func (shadowMixin) Param(string) string { return "" }

type shadowCtx struct {
	graft.Ctx
	shadowMixin
}

func TestMixinClashesFailAtSetup(t *testing.T) {
	for name, mk := range map[string]func(){
		"two mixins":   func() { graft.NewWithContext[clashCtx](graft.Config{}) },
		"mixin vs Ctx": func() { graft.NewWithContext[shadowCtx](graft.Config{}) },
		"no Ctx":       func() { graft.NewWithContext[struct{ X int }](graft.Config{}) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil {
					t.Fatal("no panic")
				}
				msg := fmt.Sprint(r)
				if !strings.Contains(msg, "graft:") || (name != "no Ctx" && !strings.Contains(msg, "ambiguous")) {
					t.Fatalf("unclear message: %s", msg)
				}
				t.Log(msg)
			}()
			mk()
		})
	}
	// Declaring the method on the context type settles the clash.
	app := graft.NewWithContext[settledCtx](graft.Config{})
	app.GET("/", func(c *settledCtx) error { return c.Text(200, c.Hello()) })
	srv := httptest.NewServer(app)
	defer srv.Close()
	if _, _, body := get(t, srv, "GET", "/", nil); body != "a" {
		t.Fatalf("body %q", body)
	}
}

// recExt is a configurable test extension that records its lifecycle.
type recExt struct {
	id       string
	requires []string
	log      *[]string
	mu       *sync.Mutex
	failAt   string
	panicAt  string
	extend   func(b *graft.Builder) error
}

func (e *recExt) ID() string         { return e.id }
func (e *recExt) Requires() []string { return e.requires }
func (e *recExt) note(step string) error {
	e.mu.Lock()
	*e.log = append(*e.log, step+":"+e.id)
	e.mu.Unlock()
	if e.panicAt == step {
		panic("boom in " + step)
	}
	if e.failAt == step {
		return errors.New("failed " + step)
	}
	return nil
}
func (e *recExt) Extend(b *graft.Builder) error {
	if err := e.note("extend"); err != nil {
		return err
	}
	if e.extend != nil {
		return e.extend(b)
	}
	return nil
}
func (e *recExt) Provision(context.Context) error { return e.note("provision") }
func (e *recExt) Validate() error                 { return e.note("validate") }
func (e *recExt) Start(context.Context) error     { return e.note("start") }
func (e *recExt) Stop(context.Context) error      { return e.note("stop") }

type recorder struct {
	mu  sync.Mutex
	log []string
}

func (r *recorder) ext(id string, requires ...string) *recExt {
	return &recExt{id: id, requires: requires, log: &r.log, mu: &r.mu}
}

func (r *recorder) steps(prefix string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, s := range r.log {
		if strings.HasPrefix(s, prefix+":") {
			out = append(out, strings.TrimPrefix(s, prefix+":"))
		}
	}
	return out
}

func TestExtensionLifecycleOrder(t *testing.T) {
	var rec recorder
	app := graft.New(graft.Config{})
	// Registered in an order that is not the dependency order.
	app.Register(rec.ext("t.sessions", "t.cookies", "t.db"), rec.ext("t.db"), rec.ext("t.cookies"))
	app.GET("/", func(c *graft.Ctx) error { return nil })
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"t.cookies", "t.db", "t.sessions"}
	for _, step := range []string{"extend", "provision", "validate", "start"} {
		if got := rec.steps(step); !slices.Equal(got, want) && !slices.Equal(got, []string{"t.db", "t.cookies", "t.sessions"}) {
			t.Errorf("%s order %v: dependencies must come first", step, got)
		}
	}
	ids := []string{}
	for _, e := range app.Extensions() {
		ids = append(ids, e.ID)
	}
	if ids[2] != "t.sessions" {
		t.Errorf("Extensions() = %v, want dependency order", ids)
	}
	if err := app.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	start, stop := rec.steps("start"), rec.steps("stop")
	slices.Reverse(stop)
	if !slices.Equal(start, stop) {
		t.Errorf("stop order %v is not the reverse of start %v", rec.steps("stop"), start)
	}
}

func TestExtensionSetupErrors(t *testing.T) {
	otherCart := graft.NewProperty("test.cart", func() []string { return nil })
	cases := []struct {
		name  string
		setup func(app *graft.App[graft.Ctx], rec *recorder)
		want  string
	}{
		{"nil", func(a *graft.App[graft.Ctx], r *recorder) { a.Register(nil) }, "extension #1 is nil"},
		{"twice", func(a *graft.App[graft.Ctx], r *recorder) { e := r.ext("t.x"); a.Register(e, e) }, "t.x is registered twice"},
		{"property name twice", func(a *graft.App[graft.Ctx], r *recorder) { a.Register(cartProp, otherCart) }, `property name "test.cart" is registered twice`},
		{"missing dependency", func(a *graft.App[graft.Ctx], r *recorder) { a.Register(r.ext("t.sessions", "t.cookies")) }, "t.sessions requires t.cookies, which is not registered"},
		{"cycle", func(a *graft.App[graft.Ctx], r *recorder) {
			a.Register(r.ext("t.a", "t.b"), r.ext("t.b", "t.c"), r.ext("t.c", "t.a"))
		}, "cycle: t.a -> t.b -> t.c -> t.a"},
		{"after routes", func(a *graft.App[graft.Ctx], r *recorder) {
			a.GET("/", func(*graft.Ctx) error { return nil })
			a.Register(r.ext("t.late"))
		}, "t.late registered on the app after its routes"},
		{"panic in provision", func(a *graft.App[graft.Ctx], r *recorder) {
			bad := r.ext("t.bad", "t.ok")
			bad.panicAt = "provision"
			a.Register(r.ext("t.ok"), bad)
		}, "extension t.bad: Provision: panic: boom in provision"},
		{"start fails", func(a *graft.App[graft.Ctx], r *recorder) {
			bad := r.ext("t.bad", "t.ok")
			bad.failAt = "start"
			a.Register(r.ext("t.ok"), bad)
		}, "extension t.bad: Start: failed start"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			app := graft.New(graft.Config{})
			tc.setup(app, &rec)
			err := app.Start(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Start error = %v, want it to contain %q", err, tc.want)
			}
			// Nothing half-started: whatever started was stopped, in reverse.
			started, stopped := rec.steps("start"), rec.steps("stop")
			slices.Reverse(stopped)
			if tc.name == "start fails" {
				started = started[:len(started)-1] // the failing one did not start
			}
			if !slices.Equal(started, stopped) {
				t.Errorf("started %v but stopped %v", rec.steps("start"), rec.steps("stop"))
			}
			// The app refuses to serve rather than serving half-built.
			srv := httptest.NewServer(app)
			defer srv.Close()
			if st, _, _ := get(t, srv, "GET", "/", nil); st != 500 {
				t.Errorf("a failed app answered %d", st)
			}
		})
	}
}

func TestExtensionPacksDedup(t *testing.T) {
	var rec recorder
	shared := rec.ext("t.cookies")
	packA := &pack{recExt: rec.ext("t.a", "t.cookies"), sub: []graft.Extension{shared}}
	packB := &pack{recExt: rec.ext("t.b", "t.cookies"), sub: []graft.Extension{shared}}
	app := graft.New(graft.Config{})
	app.Register(packA, packB)
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	if got := rec.steps("start"); len(got) != 3 || got[0] != "t.cookies" {
		t.Fatalf("start %v: the shared dependency must start once, first", got)
	}
}

type pack struct {
	*recExt
	sub []graft.Extension
}

func (p *pack) Pack() []graft.Extension { return p.sub }

func TestGroupScopedExtension(t *testing.T) {
	var rec recorder
	tag := rec.ext("t.tag")
	tag.extend = func(b *graft.Builder) error {
		b.Use(func(next graft.HandlerFunc) graft.HandlerFunc {
			return func(c *graft.Ctx) error {
				c.SetHeader("X-Tag", "on")
				return next(c)
			}
		})
		b.OnWriteHeader(func(c *graft.Ctx, status int) { c.SetHeader("X-Status", strconv.Itoa(status)) })
		return nil
	}
	app := graft.New(graft.Config{})
	api := app.Group("/api")
	api.Register(tag)
	api.GET("/x", func(c *graft.Ctx) error { return c.Text(201, "x") })
	app.GET("/y", func(c *graft.Ctx) error { return c.Text(200, "y") })
	srv := httptest.NewServer(app)
	defer srv.Close()
	if _, h, _ := get(t, srv, "GET", "/api/x", nil); h.Get("X-Tag") != "on" || h.Get("X-Status") != "201" {
		t.Errorf("group route lacks the group extension: %v", h)
	}
	if _, h, _ := get(t, srv, "GET", "/y", nil); h.Get("X-Tag") != "" || h.Get("X-Status") != "" {
		t.Errorf("app route got the group extension: %v", h)
	}
}

type jarCtx struct {
	graft.Ctx
	cookies.Jar
}

// textCodec is a second mother encoder beside JSON: text/plain, by fmt.
var textCodec = graft.ExtensionFunc("t.text", func(b *graft.Builder) error {
	b.Encoder("text/plain", func(v any) ([]byte, error) { return fmt.Appendf(nil, "%v", v), nil })
	return nil
})

func TestCookiesAndCodecs(t *testing.T) {
	// An envelope child extension wrapping the JSON mother encoder.
	var rec recorder
	env := rec.ext("t.envelope")
	env.extend = func(b *graft.Builder) error {
		return b.WrapEncoder("application/json", func(inner graft.EncodeFunc) graft.EncodeFunc {
			return func(v any) ([]byte, error) { return inner(map[string]any{"data": v}) }
		})
	}
	app := graft.NewWithContext[jarCtx](graft.Config{})
	app.Register(cookies.Extension(cookies.Options{Path: "/", HTTPOnly: true}), textCodec)
	v1 := app.Group("/v1")
	v1.Register(env)
	count := func(c *jarCtx) error {
		n, _ := strconv.Atoi(c.CookieValue("visits"))
		c.PutCookie("visits", strconv.Itoa(n+1))
		return c.Render(200, map[string]int{"visits": n + 1})
	}
	app.GET("/visits", count)
	v1.GET("/visits", count)
	srv := httptest.NewServer(app)
	defer srv.Close()

	st, h, body := get(t, srv, "GET", "/visits", map[string]string{"Cookie": "visits=4"})
	if st != 200 || body != `{"visits":5}` || !strings.Contains(h.Get("Set-Cookie"), "visits=5") || !strings.Contains(h.Get("Set-Cookie"), "HttpOnly") {
		t.Fatalf("visits: %d %s %v", st, body, h)
	}
	st, h, body = get(t, srv, "GET", "/visits", map[string]string{"Accept": "text/plain"})
	if st != 200 || h.Get("Content-Type") != "text/plain" || body != "map[visits:1]" {
		t.Fatalf("text render: %d %v %q", st, h, body)
	}
	if _, _, body = get(t, srv, "GET", "/v1/visits", nil); body != `{"data":{"visits":1}}` {
		t.Fatalf("wrapped encoder in group: %s", body)
	}
	if st, _, _ = get(t, srv, "GET", "/visits", map[string]string{"Accept": "image/png"}); st != 406 {
		t.Fatalf("unacceptable type answered %d", st)
	}
}

func TestWrapEncoderWithoutMotherFails(t *testing.T) {
	var rec recorder
	e := rec.ext("t.wrap")
	e.extend = func(b *graft.Builder) error {
		return b.WrapEncoder("application/cbor", func(inner graft.EncodeFunc) graft.EncodeFunc { return inner })
	}
	app := graft.New(graft.Config{})
	app.Register(e)
	err := app.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "t.wrap") || !strings.Contains(err.Error(), "no encoder for application/cbor") {
		t.Fatalf("err = %v", err)
	}
}

func TestBindUsesRegisteredJSONDecoder(t *testing.T) {
	var rec recorder
	strict := rec.ext("t.jsondec")
	strict.extend = func(b *graft.Builder) error {
		b.Decoder("application/json", func(data []byte, v any) error {
			*(v.(*map[string]string)) = map[string]string{"via": "extension"}
			return nil
		})
		return nil
	}
	app := graft.New(graft.Config{})
	v2 := app.Group("/v2")
	v2.Register(strict)
	echo := func(c *graft.Ctx) error {
		m := map[string]string{}
		if err := c.Bind(&m); err != nil {
			return err
		}
		return c.JSON(200, m)
	}
	app.POST("/in", echo)
	v2.POST("/in", echo)
	srv := httptest.NewServer(app)
	defer srv.Close()
	for path, want := range map[string]string{"/in": `{"a":"b"}`, "/v2/in": `{"via":"extension"}`} {
		res, err := srv.Client().Post(srv.URL+path, "application/json", strings.NewReader(`{"a":"b"}`))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(b) != want {
			t.Errorf("%s: %s, want %s", path, b, want)
		}
	}
}
