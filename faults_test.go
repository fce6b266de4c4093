package graft

import (
	"context"
	"errors"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft/di"
)

// The faults matrix of docs/reliability.md: a panic in each place user or
// extension code runs during a request is contained (the client gets a 500
// problem, or a dropped connection once the answer has started), logged
// exactly once by graft (never by net/http's "http: panic serving"), and the
// next request on the same pooled objects is served normally.

type faultIn struct {
	ID  string        `path:"id"`
	Dep *faultDep     `inject:""`
	Cfg *faultPlugged `plugin:""`
}

type faultDep struct{ n int }

type faultPlugged struct{ v string }

type faultOut struct{ Body string }

// faultWhere names where a case's code panics; the shared app below reads it
// from the request's X-Panic header, so one app serves every case and the
// pooled contexts carry from one case to the next.
const faultHeader = "X-Panic"

func wantPanic(c *Ctx, where string) {
	if c.Request.Header.Get(faultHeader) == where {
		panic("fault in " + where)
	}
}

func TestFaultsMatrix(t *testing.T) {
	var logs syncBuffer
	var netLog syncBuffer
	errorHandlerPanics := false
	app := New(Config{
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		ErrorHandler: func(c *Ctx, err error) {
			if errorHandlerPanics && c.Request.Header.Get(faultHeader) == "error-handler" {
				panic("fault in error-handler")
			}
			DefaultErrorHandler(c, err)
		},
	})
	app.Use(func(next HandlerFunc) HandlerFunc {
		return func(c *Ctx) error {
			wantPanic(c, "app-middleware")
			return next(c)
		}
	})
	app.Register(ExtensionFunc("test.faults", func(b *Builder) error {
		b.Use(func(next HandlerFunc) HandlerFunc {
			return func(c *Ctx) error {
				wantPanic(c, "extension-middleware")
				return next(c)
			}
		})
		b.OnWriteHeader(func(c *Ctx, _ int) { wantPanic(c, "header-hook") })
		b.WrapResponse(func(c *Ctx, inner http.ResponseWriter) http.ResponseWriter {
			wantPanic(c, "wrap-response")
			return inner
		})
		b.Encoder("application/x-fault", func(v any) ([]byte, error) { panic("fault in encoder") })
		b.Decoder("application/x-fault", func(data []byte, v any) error { panic("fault in decoder") })
		return nil
	}))
	di.Provide(app.Graph(), di.Scoped, di.Func1(func(r *http.Request) (*faultDep, error) {
		if r.Header.Get(faultHeader) == "provider" {
			panic("fault in provider")
		}
		return &faultDep{n: 1}, nil
	}))
	plug := PluginFunc(func(_ *di.Graph, next Endpoint, sig *Signature) (Endpoint, error) {
		fill := PluginField[*faultPlugged](sig)
		sig.PreBind(func(c *Ctx) error {
			wantPanic(c, "plugin-prebind")
			return nil
		})
		sig.Use(func(next HandlerFunc) HandlerFunc {
			return func(c *Ctx) error {
				wantPanic(c, "plugin-middleware")
				return next(c)
			}
		})
		return func(ctx context.Context, c *Ctx, in any) (any, error) {
			wantPanic(c, "plugin-endpoint")
			fill.Set(in, &faultPlugged{v: "p"})
			return next(ctx, c, in)
		}, nil
	})
	Get(app, "/typed/{id}", func(_ context.Context, in *faultIn) (*faultOut, error) {
		if in.ID == "panic" {
			panic("fault in typed handler")
		}
		return &faultOut{Body: "typed " + in.ID + " " + in.Cfg.v}, nil
	}, Plugins(plug))
	app.GET("/plain", func(c *Ctx) error {
		wantPanic(c, "handler")
		if c.Request.Header.Get(faultHeader) == "error-handler" {
			return NewError(http.StatusTeapot, "the error handler will panic")
		}
		if c.Request.Header.Get(faultHeader) == "after-write" {
			_, _ = c.Response().Write([]byte("partial"))
			c.Response().(http.Flusher).Flush()
			panic("fault after write")
		}
		return c.Text(http.StatusOK, "plain ok")
	})
	app.GET("/encode", func(c *Ctx) error { return c.Render(http.StatusOK, map[string]int{"a": 1}) })
	app.POST("/decode", func(c *Ctx) error {
		var v map[string]any
		if err := c.Bind(&v); err != nil {
			return err
		}
		return c.Text(http.StatusOK, "decoded")
	})

	srv := httptest.NewUnstartedServer(app)
	srv.Config.ErrorLog = log.New(&netLog, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)

	type fcase struct {
		where, method, path, ctype, body string
		accept                           string
		// aborted: the answer had started, so the connection drops.
		aborted bool
	}
	cases := []fcase{
		{where: "handler", method: "GET", path: "/plain"},
		{where: "after-write", method: "GET", path: "/plain"},
		{where: "app-middleware", method: "GET", path: "/plain"},
		{where: "extension-middleware", method: "GET", path: "/plain"},
		{where: "header-hook", method: "GET", path: "/plain"},
		{where: "wrap-response", method: "GET", path: "/plain"},
		{where: "typed-handler", method: "GET", path: "/typed/panic"},
		{where: "plugin-prebind", method: "GET", path: "/typed/1"},
		{where: "plugin-middleware", method: "GET", path: "/typed/1"},
		{where: "plugin-endpoint", method: "GET", path: "/typed/1"},
		{where: "provider", method: "GET", path: "/typed/1"},
		{where: "encoder", method: "GET", path: "/encode", accept: "application/x-fault"},
		{where: "decoder", method: "POST", path: "/decode", ctype: "application/x-fault", body: "{}"},
		{where: "error-handler", method: "GET", path: "/plain"},
	}
	healthy := func(t *testing.T) {
		t.Helper()
		if r := epDo(t, srv, "GET", "/plain", "", ""); r.status != 200 || r.body != "plain ok" {
			t.Errorf("next plain request: %d %q", r.status, r.body)
		}
		if r := epDo(t, srv, "GET", "/typed/7", "", ""); r.status != 200 || r.body != "typed 7 p" {
			t.Errorf("next typed request: %d %q", r.status, r.body)
		}
	}
	for _, tc := range cases {
		t.Run(tc.where, func(t *testing.T) {
			errorHandlerPanics = tc.where == "error-handler"
			defer func() { errorHandlerPanics = false }()
			before := len(logs.String())
			netBefore := netLog.String()
			hdr := []string{faultHeader, tc.where}
			if tc.accept != "" {
				hdr = append(hdr, "Accept", tc.accept)
			}
			r := faultDo(t, srv, tc.method, tc.path, tc.ctype, tc.body, hdr...)
			switch tc.where {
			case "after-write":
				// The answer started: the connection is aborted, so the
				// client cannot take the truncated body for a whole one.
				if r.err == nil {
					t.Errorf("panic after a write: %d %q read completely, want the answer to fail", r.status, r.body)
				}
			default:
				if r.err != nil {
					t.Fatalf("request failed: %v", r.err)
				}
				if r.status != 500 {
					t.Errorf("status %d %q, want 500", r.status, r.body)
				}
				if tc.where != "error-handler" && !strings.Contains(r.body, `"status":500`) {
					t.Errorf("body %q is not a 500 problem", r.body)
				}
				if strings.Contains(r.body, "fault in") {
					t.Errorf("the panic value reached the client: %q", r.body)
				}
			}
			l := logs.String()[before:]
			if n := strings.Count(l, "\n"); n != 1 || !strings.Contains(l, "fault ") {
				t.Errorf("graft logged %d records for the panic, want exactly 1:\n%s", n, l)
			}
			if got := strings.TrimPrefix(netLog.String(), netBefore); got != "" {
				t.Errorf("net/http saw the panic too: %q", got)
			}
			healthy(t)
		})
	}
}

type faultResult struct {
	status int
	body   string
	err    error
}

func faultDo(t *testing.T, srv *httptest.Server, method, path, ctype, body string, hdr ...string) faultResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5e9)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		return faultResult{err: err}
	}
	defer res.Body.Close()
	var sb strings.Builder
	if _, err := io.Copy(&sb, res.Body); err != nil {
		return faultResult{status: res.StatusCode, err: err}
	}
	return faultResult{status: res.StatusCode, body: sb.String()}
}

// TestShutdownDeadlineWithStuckRequest: a handler that ignores its context
// cannot hold shutdown past Config.ShutdownTimeout: the server closes its
// connections at the deadline, RunContext returns the deadline error, and
// the stop hooks still run, with a context of their own.
func TestShutdownDeadlineWithStuckRequest(t *testing.T) {
	app, _ := newApp(t, Config{Host: "127.0.0.1", Port: -1, ShutdownTimeout: 200 * time.Millisecond})
	started, release := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(release) })
	app.GET("/stuck", func(c *Ctx) error {
		close(started)
		<-release // ignores c.Request.Context() on purpose
		return nil
	})
	hookErr := make(chan error, 1)
	app.OnLifecycle(Hook{Name: "db", OnStop: func(ctx context.Context) error {
		hookErr <- ctx.Err()
		return nil
	}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- app.RunContext(ctx) }()
	addr := waitAddr(t, app)
	cl := newClient(t, &http.Transport{DisableKeepAlives: true})
	clientErr := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("GET", "http://"+addr+"/stuck", nil)
		res, err := cl.Do(req)
		if err == nil {
			res.Body.Close()
		}
		clientErr <- err
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the stuck request never reached its handler")
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("RunContext = %v, want the shutdown deadline error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RunContext did not return after the shutdown deadline")
	}
	select {
	case err := <-clientErr:
		if err == nil {
			t.Error("the stuck request got an answer; want its connection closed at the deadline")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the client of the stuck request never saw its connection close")
	}
	select {
	case err := <-hookErr:
		if err != nil {
			t.Errorf("the stop hook got a context already done (%v); it must get its own deadline", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stop hook did not run")
	}
}

// waitAddr waits for app to listen and returns its address.
func waitAddr(t *testing.T, app interface{ Addr() string }) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if a := app.Addr(); a != "" {
			return a
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the app did not start listening within 10s")
	return ""
}

// TestServerErrorLogToAppLogger: what net/http itself reports about a
// connection (here a TLS handshake with a plain-HTTP client) reaches the
// app's logger, not stderr.
func TestServerErrorLogToAppLogger(t *testing.T) {
	app, logs := newApp(t, Config{Host: "127.0.0.1", Port: -1})
	srv := app.httpServer()
	if srv.ErrorLog == nil {
		t.Fatal("the server has no ErrorLog: net/http would write to stderr")
	}
	srv.ErrorLog.Print("http: TLS handshake error from 127.0.0.1:1: client sent an HTTP request to an HTTPS server")
	if l := logs.String(); !strings.Contains(l, "level=WARN") || !strings.Contains(l, "source=net/http") || !strings.Contains(l, "TLS handshake error") {
		t.Errorf("app log %q lacks net/http's message at warn level", l)
	}
}
