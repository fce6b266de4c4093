package timeout_test

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
	"github.com/graftgo/graft/plugins/timeout"
)

type in struct {
	N int `query:"n"`
}

type out struct {
	Trace string `header:"X-Trace"`
	Body  string
}

type ctxIn struct {
	C *graft.Ctx `inject:""`
	N int        `query:"n"`
}

// wait is how long a test waits for something that must happen; never a
// threshold on how fast.
const wait = 5 * time.Second

func startApp(t *testing.T, setup func(app *graft.App[graft.Ctx])) *httptest.Server {
	t.Helper()
	app := graft.New(graft.Config{Logger: slog.New(slog.DiscardHandler), RequestPoolMaxItems: 1})
	// Outer middleware sets a header before the timeout's guard exists.
	app.Use(func(next graft.HandlerFunc) graft.HandlerFunc {
		return func(c *graft.Ctx) error { c.SetHeader("X-Outer", "yes"); return next(c) }
	})
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

// get sends a request and returns its answer, or fails after wait.
func get(t *testing.T, srv *httptest.Server, path string) answer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+path, nil)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v (no complete answer within %v)", path, err, wait)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", path, err)
	}
	return answer{res.StatusCode, res.Header, string(b)}
}

func checkTimeoutAnswer(t *testing.T, a answer, status int) {
	t.Helper()
	var p graft.Problem
	if a.status != status || a.header.Get("Content-Type") != "application/problem+json" || json.Unmarshal([]byte(a.body), &p) != nil || p.Status != status {
		t.Fatalf("want a %d problem+json, got %d %s %q", status, a.status, a.header.Get("Content-Type"), a.body)
	}
	if !strings.Contains(p.Detail, "not answered within") {
		t.Errorf("detail %q", p.Detail)
	}
	if a.header.Get("X-Outer") != "yes" {
		t.Errorf("the outer middleware's header is missing: %v", a.header)
	}
}

// A handler that returns when its context ends: the timeout's answer.
func TestCooperativeHandler(t *testing.T) {
	srv := startApp(t, func(app *graft.App[graft.Ctx]) {
		app.UsePlugins(timeout.New(timeout.Config{Timeout: 20 * time.Millisecond, Status: http.StatusGatewayTimeout}))
		graft.Get(app, "/slow", func(ctx context.Context, _ *in) (*out, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		})
	})
	checkTimeoutAnswer(t, get(t, srv, "/slow"), 504)
}

// A handler that ignores its context and returns later: the client has
// the 503 while the handler still runs; the late output is dropped, and
// the next request (same pooled Ctx) is answered as it should be.
func TestHandlerIgnoringCancellation(t *testing.T) {
	release := make(chan struct{})
	var finished atomic.Bool
	srv := startApp(t, func(app *graft.App[graft.Ctx]) {
		app.UsePlugins(timeout.New(timeout.Config{Timeout: 20 * time.Millisecond}))
		graft.Get(app, "/stuck", func(ctx context.Context, in *in) (*out, error) {
			if in.N == 1 {
				<-release
				finished.Store(true)
				return &out{Trace: "late", Body: "late answer"}, nil
			}
			return &out{Trace: "fast", Body: "fast answer"}, nil
		})
	})
	a := get(t, srv, "/stuck?n=1")
	if finished.Load() {
		t.Fatal("the handler finished before the client had its answer")
	}
	checkTimeoutAnswer(t, a, 503)
	close(release)
	for range 3 {
		a := get(t, srv, "/stuck?n=2")
		if a.status != 200 || a.body != "fast answer" || a.header.Get("X-Trace") != "fast" || a.header.Get("X-Outer") != "yes" {
			t.Errorf("next request: %d %q %v", a.status, a.body, a.header)
		}
	}
}

// A handler that writes through the Ctx after the timeout answered: its
// writes fail with http.ErrHandlerTimeout and reach no one; the race
// detector watches the timer's goroutine and the handler's.
func TestLateWriteThroughCtx(t *testing.T) {
	release := make(chan struct{})
	wrote := make(chan error, 1)
	srv := startApp(t, func(app *graft.App[graft.Ctx]) {
		app.UsePlugins(timeout.New(timeout.Config{Timeout: 20 * time.Millisecond}))
		graft.Get(app, "/late", func(ctx context.Context, in *ctxIn) (*out, error) {
			<-release
			in.C.SetHeader("X-Late", "1")
			wrote <- in.C.Text(200, strings.Repeat("late ", 1000))
			return nil, nil
		})
	})
	a := get(t, srv, "/late")
	checkTimeoutAnswer(t, a, 503)
	close(release)
	select {
	case err := <-wrote:
		if !errors.Is(err, http.ErrHandlerTimeout) {
			t.Errorf("late write: %v, want http.ErrHandlerTimeout", err)
		}
	case <-time.After(wait):
		t.Fatal("the handler's late write did not return")
	}
	if a.header.Get("X-Late") != "" {
		t.Error("a late header reached the client")
	}
}

// In time: the handler's answer, with its headers and those set before.
func TestInTime(t *testing.T) {
	srv := startApp(t, func(app *graft.App[graft.Ctx]) {
		app.UsePlugins(timeout.New(timeout.Config{Timeout: time.Minute}))
		graft.Get(app, "/ok", func(ctx context.Context, in *ctxIn) (*out, error) {
			if _, ok := ctx.Deadline(); !ok {
				return nil, errors.New("the handler's context has no deadline")
			}
			in.C.SetHeader("X-Set", "by handler")
			return &out{Trace: "t", Body: "ok"}, nil
		})
	})
	a := get(t, srv, "/ok")
	if a.status != 200 || a.body != "ok" || a.header.Get("X-Set") != "by handler" || a.header.Get("X-Trace") != "t" || a.header.Get("X-Outer") != "yes" {
		t.Errorf("%d %q %v", a.status, a.body, a.header)
	}
}

// A handler whose answer began before the deadline keeps it: the timeout
// never writes after the handler did; it only ends the context.
func TestStartedAnswerIsNotInterrupted(t *testing.T) {
	srv := startApp(t, func(app *graft.App[graft.Ctx]) {
		app.UsePlugins(timeout.New(timeout.Config{Timeout: 20 * time.Millisecond}))
		graft.Get(app, "/stream", func(ctx context.Context, in *ctxIn) (*out, error) {
			w := in.C.Response()
			w.WriteHeader(200)
			io.WriteString(w, "first;")
			w.(http.Flusher).Flush()
			<-ctx.Done()
			io.WriteString(w, "after the deadline")
			return nil, nil
		})
	})
	if a := get(t, srv, "/stream"); a.status != 200 || a.body != "first;after the deadline" {
		t.Errorf("%d %q", a.status, a.body)
	}
}

func TestMiddlewareOnPlainRoute(t *testing.T) {
	mw, err := timeout.New(timeout.Config{Timeout: 20 * time.Millisecond}).Middleware()
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	done := make(chan error, 1)
	srv := startApp(t, func(app *graft.App[graft.Ctx]) {
		app.GET("/plain", func(c *graft.Ctx) error {
			if c.Query("n") == "1" {
				<-release
				done <- c.Text(200, "late")
				return nil
			}
			return c.Text(200, "fast")
		}, graft.WithMiddleware(mw))
	})
	checkTimeoutAnswer(t, get(t, srv, "/plain?n=1"), 503)
	close(release)
	select {
	case err := <-done:
		if !errors.Is(err, http.ErrHandlerTimeout) {
			t.Errorf("late write: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("the plain handler did not return")
	}
	if a := get(t, srv, "/plain"); a.status != 200 || a.body != "fast" {
		t.Errorf("next: %d %q", a.status, a.body)
	}
}

func TestSignatureAndSkip(t *testing.T) {
	app := graft.New(graft.Config{})
	app.UsePlugins(timeout.New(timeout.Config{Timeout: time.Second, Skip: func(sig *graft.Signature) bool { return sig.Route == "/skip" }}))
	a := graft.Get(app, "/a", func(context.Context, *in) (*out, error) { return &out{}, nil })
	s := graft.Get(app, "/skip", func(context.Context, *in) (*out, error) { return &out{}, nil })
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	has := func(ri *graft.Route) bool {
		for _, r := range ri.Signature().Returns {
			if r.Status == 503 {
				return true
			}
		}
		return false
	}
	if !has(a) || has(s) {
		t.Errorf("503 outcome: /a %v, /skip %v; want true, false", has(a), has(s))
	}
}

func TestSetupMistakes(t *testing.T) {
	for _, tc := range []struct {
		cfg  timeout.Config
		want string
	}{
		{timeout.Config{}, "Config.Timeout is 0s"},
		{timeout.Config{Timeout: time.Second, Status: 500}, "Config.Status is 500"},
	} {
		app := graft.New(graft.Config{})
		app.UsePlugins(graft.NamedPlugin("timeout", timeout.New(tc.cfg)))
		graft.Get(app, "/t", func(context.Context, *in) (*out, error) { return &out{}, nil })
		err := app.Start(context.Background())
		if err == nil {
			app.Stop(context.Background())
			t.Errorf("%+v: started", tc.cfg)
			continue
		}
		if !strings.Contains(err.Error(), "endpoint GET /t: plugin timeout: "+tc.want) {
			t.Errorf("error %q, want %q", err, tc.want)
		}
		if _, err := timeout.New(tc.cfg).Middleware(); err == nil {
			t.Errorf("%+v: Middleware without error", tc.cfg)
		}
	}
}
