package graft

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/graftgo/graft/di"
)

// panicLog records what a panic handler got.
type panicLog struct {
	mu    sync.Mutex
	calls []string // "who:value"
	stack []string
}

func (l *panicLog) handler(who string, answer func(c *Ctx, v any) error) PanicHandler {
	return func(c *Ctx, v any, stack []byte) error {
		l.mu.Lock()
		l.calls = append(l.calls, who+":"+errString(v))
		l.stack = append(l.stack, string(stack))
		l.mu.Unlock()
		return answer(c, v)
	}
}

func (l *panicLog) take() ([]string, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, s := l.calls, l.stack
	l.calls, l.stack = nil, nil
	return c, s
}

func errString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if e, ok := v.(error); ok {
		return e.Error()
	}
	return "?"
}

// Config.PanicHandler replaces the default recovery on every route; its
// error is answered by the error handler, nil with nothing written is a
// 500, and a panic in it falls back to the default.
func TestConfigPanicHandler(t *testing.T) {
	var pl panicLog
	app, logs := newApp(t, Config{PanicHandler: pl.handler("app", func(c *Ctx, v any) error {
		switch v {
		case "answer":
			return c.Text(http.StatusTeapot, "handled")
		case "silent":
			return nil
		case "again":
			panic("the handler panics")
		}
		return &HTTPError{Status: http.StatusServiceUnavailable, Detail: "try later"}
	})})
	app.GET("/p/{v}", func(c *Ctx) error { panic(c.Param("v")) })
	app.GET("/abort", func(c *Ctx) error { panic(http.ErrAbortHandler) })
	app.GET("/ok", text("ok"))
	srv := serveTest(t, app)

	if res := do(t, srv, "GET", "/p/boom", nil); res.status != 503 || !strings.Contains(res.body, "try later") {
		t.Errorf("error answer: %d %q", res.status, res.body)
	}
	calls, stacks := pl.take()
	if len(calls) != 1 || calls[0] != "app:boom" || !strings.Contains(stacks[0], "panic_handler_test.go") {
		t.Errorf("handler calls %q; stack has the panic site: %v", calls, len(stacks) == 1 && strings.Contains(stacks[0], "panic_handler_test.go"))
	}
	if res := do(t, srv, "GET", "/p/answer", nil); res.status != 418 || res.body != "handled" {
		t.Errorf("own answer: %d %q", res.status, res.body)
	}
	if res := do(t, srv, "GET", "/p/silent", nil); res.status != 500 {
		t.Errorf("nil, nothing written: %d", res.status)
	}
	if strings.Contains(logs.String(), "panic in handler") {
		t.Errorf("the default logged a panic a handler handled:\n%s", logs)
	}
	// A panicking panic handler: logged, and the default answers.
	if res := do(t, srv, "GET", "/p/again", nil); res.status != 500 || !strings.Contains(res.body, `"status":500`) {
		t.Errorf("panicking handler: %d %q", res.status, res.body)
	}
	if l := logs.String(); !containsAll(l, "the panic handler panicked", `panic="the handler panics"`, "panic in handler", `panic=again`) {
		t.Errorf("logs:\n%s", l)
	}
	pl.take()
	// ErrAbortHandler never reaches the handler and aborts the connection.
	req, _ := http.NewRequestWithContext(context.Background(), "GET", srv.URL+"/abort", nil)
	if res, err := srv.Client().Do(req); err == nil {
		res.Body.Close()
		t.Errorf("GET /abort answered %d; want the connection aborted", res.StatusCode)
	}
	if calls, _ := pl.take(); len(calls) != 0 {
		t.Errorf("ErrAbortHandler reached the handler: %q", calls)
	}
	if res := do(t, srv, "GET", "/ok", nil); res.status != 200 {
		t.Errorf("after the panics: GET /ok = %d", res.status)
	}
}

// A panic handler may abort the connection with http.ErrAbortHandler.
func TestPanicHandlerAborts(t *testing.T) {
	app, logs := newApp(t, Config{PanicHandler: func(*Ctx, any, []byte) error { panic(http.ErrAbortHandler) }})
	app.GET("/p", func(c *Ctx) error { panic("x") })
	app.GET("/ok", text("ok"))
	srv := serveTest(t, app)
	req, _ := http.NewRequestWithContext(context.Background(), "GET", srv.URL+"/p", nil)
	if res, err := srv.Client().Do(req); err == nil {
		res.Body.Close()
		t.Errorf("GET /p answered %d; want the connection aborted", res.StatusCode)
	}
	if l := logs.String(); strings.Contains(l, "panic") {
		t.Errorf("an abort was logged:\n%s", l)
	}
	if res := do(t, srv, "GET", "/ok", nil); res.status != 200 {
		t.Errorf("GET /ok = %d", res.status)
	}
}

type panicDep struct{}

type panicIn struct {
	Mode string    `query:"mode"`
	Dep  *panicDep `inject:""`
}

type panicPlainIn struct {
	Mode string `query:"mode"`
}

// Signature.OnPanic: the endpoint's panics (pre-bind hook, plugin
// middleware, provider, handler) go to the endpoint's handler; the
// middleware around the endpoint keeps the app's.
func TestSignatureOnPanic(t *testing.T) {
	var pl panicLog
	app, logs := newApp(t, Config{PanicHandler: pl.handler("app", func(c *Ctx, v any) error { return NewError(http.StatusBadGateway, "app") })})
	di.Provide(app.Graph(), di.Scoped, di.Func1(func(r *http.Request) (*panicDep, error) {
		if r.URL.Query().Get("mode") == "provider" {
			panic("provider")
		}
		return &panicDep{}, nil
	}))
	app.Use(func(next HandlerFunc) HandlerFunc {
		return func(c *Ctx) error {
			if c.Query("mode") == "outer" {
				panic("outer")
			}
			return next(c)
		}
	})
	ep := PluginFunc(func(_ *di.Graph, next Endpoint, sig *Signature) (Endpoint, error) {
		sig.OnPanic(pl.handler("endpoint", func(c *Ctx, v any) error { return NewError(http.StatusTeapot, "endpoint") }))
		sig.PreBind(func(c *Ctx) error {
			if c.Query("mode") == "prebind" {
				panic("prebind")
			}
			return nil
		})
		sig.Use(func(next HandlerFunc) HandlerFunc {
			return func(c *Ctx) error {
				if c.Query("mode") == "middleware" {
					panic("middleware")
				}
				return next(c)
			}
		})
		return next, nil
	})
	h := func(_ context.Context, in *panicIn) (*struct{ Body string }, error) {
		if in.Mode == "handler" {
			panic("handler")
		}
		return &struct{ Body string }{"fine"}, nil
	}
	Get(app, "/guarded", h, Plugins(ep))
	Get(app, "/plain", h)
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	srv := serveTest(t, app)

	for _, tc := range []struct {
		path, who string
		status    int
	}{
		{"/guarded?mode=handler", "endpoint:handler", 418},
		{"/guarded?mode=prebind", "endpoint:prebind", 418},
		{"/guarded?mode=middleware", "endpoint:middleware", 418},
		{"/guarded?mode=provider", "endpoint:provider", 418},
		{"/guarded?mode=outer", "app:outer", 502},
		{"/plain?mode=handler", "app:handler", 502},
		{"/plain?mode=provider", "app:provider", 502},
	} {
		res := do(t, srv, "GET", tc.path, nil)
		calls, stacks := pl.take()
		if res.status != tc.status || len(calls) != 1 || calls[0] != tc.who {
			t.Errorf("GET %s: %d, handler calls %q; want %d from %s", tc.path, res.status, calls, tc.status, tc.who)
			continue
		}
		if !strings.Contains(stacks[0], "panic_handler_test.go") {
			t.Errorf("GET %s: the stack lacks the panic site:\n%.1000s", tc.path, stacks[0])
		}
	}
	if res := do(t, srv, "GET", "/guarded", nil); res.status != 200 || res.body != "fine" {
		t.Errorf("GET /guarded = %d %q", res.status, res.body)
	}
	if strings.Contains(logs.String(), "panic") {
		t.Errorf("the default logged panics the handlers took:\n%s", logs)
	}
}

// Without a panic handler, a provider's panic is answered as a panic:
// logged once with the provider's stack, a 500.
func TestProviderPanicDefault(t *testing.T) {
	app, logs := newApp(t, Config{})
	di.Provide(app.Graph(), di.Scoped, di.Func0(func() (*panicDep, error) { panic(errors.New("no dep")) }))
	Get(app, "/p", func(_ context.Context, in *panicIn) (*struct{}, error) { return &struct{}{}, nil })
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	srv := serveTest(t, app)
	if res := do(t, srv, "GET", "/p", nil); res.status != 500 || strings.Contains(res.body, "no dep") {
		t.Errorf("GET /p = %d %q", res.status, res.body)
	}
	l := logs.String()
	if strings.Count(l, "level=ERROR") != 1 || !containsAll(l, "panic in handler", "route=/p", `panic="no dep"`, "panic_handler_test.go") {
		t.Errorf("want one record with the route, value and the provider's stack:\n%s", l)
	}
}

// OnPanic mistakes stop start-up naming the endpoint.
func TestOnPanicMistakes(t *testing.T) {
	h := func(*Ctx, any, []byte) error { return nil }
	set := func(h PanicHandler) Plugin {
		return PluginFunc(func(_ *di.Graph, next Endpoint, sig *Signature) (Endpoint, error) {
			sig.OnPanic(h)
			return next, nil
		})
	}
	for _, tc := range []struct {
		plugins []Plugin
		want    string
	}{
		{[]Plugin{set(nil)}, "endpoint GET /x: plugin"},
		{[]Plugin{set(h), set(h)}, "the endpoint has a panic handler already"},
	} {
		app := New(Config{})
		Get(app, "/x", func(context.Context, *panicPlainIn) (*struct{}, error) { return &struct{}{}, nil }, Plugins(tc.plugins...))
		err := app.Start(context.Background())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("start-up error %v; want %q", err, tc.want)
		}
		app.Stop(context.Background())
	}
}
