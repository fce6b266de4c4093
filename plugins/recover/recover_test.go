package recover_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/di"
	"github.com/graftgo/graft/graftest"
	"github.com/graftgo/graft/plugins/recover"
	"github.com/graftgo/graft/plugins/requestid"
)

// records is a slog.Handler keeping every record's message and
// attributes.
type records struct {
	mu   sync.Mutex
	recs []rec
}

type rec struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *records) WithGroup(string) slog.Handler            { return r }
func (r *records) Handle(_ context.Context, sr slog.Record) error {
	x := rec{level: sr.Level, msg: sr.Message, attrs: map[string]string{}}
	sr.Attrs(func(a slog.Attr) bool { x.attrs[a.Key] = a.Value.String(); return true })
	r.mu.Lock()
	r.recs = append(r.recs, x)
	r.mu.Unlock()
	return nil
}

func (r *records) take() []rec {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.recs
	r.recs = nil
	return out
}

type dep struct{}

type itemIn struct {
	C    *graft.Ctx `inject:""`
	Mode string     `query:"mode"`
	N    int        `query:"n"`
	Dep  *dep       `inject:""`
}

type itemOut struct {
	Body struct {
		N int `json:"n"`
	}
}

// modes is a plugin whose middleware panics on ?mode=middleware: a
// plugin inside the endpoint.
var modes = graft.PluginFunc(func(_ *di.Graph, next graft.Endpoint, sig *graft.Signature) (graft.Endpoint, error) {
	sig.Use(func(next graft.HandlerFunc) graft.HandlerFunc {
		return func(c *graft.Ctx) error {
			if c.Query("mode") == "middleware" {
				panic("middleware panics")
			}
			return next(c)
		}
	})
	return next, nil
})

func build(t *testing.T, cfg recover.Config) (*graftest.Server, *records, *graft.App[graft.Ctx]) {
	t.Helper()
	logs := &records{}
	p := recover.New(cfg)
	app := graft.New(graft.Config{Logger: slog.New(logs), RequestPoolMaxItems: 1, PanicHandler: p.PanicHandler()})
	app.Register(requestid.New(requestid.Config{}))
	di.Provide(app.Graph(), di.Scoped, di.Func1(func(r *http.Request) (*dep, error) {
		if r.URL.Query().Get("mode") == "provider" {
			panic(errors.New("provider panics"))
		}
		return &dep{}, nil
	}))
	app.UsePlugins(p)
	graft.Get(app, "/items", func(_ context.Context, in *itemIn) (*itemOut, error) {
		in.C.SetHeader("X-Handler", "ran")
		switch in.Mode {
		case "handler":
			panic("handler panics")
		case "partial":
			w := in.C.Response()
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, "partial answer")
			http.NewResponseController(w).Flush()
			panic("after a partial write")
		case "abort":
			panic(http.ErrAbortHandler)
		}
		out := &itemOut{}
		out.Body.N = in.N
		return out, nil
	}, graft.Plugins(modes))
	app.GET("/plain", func(c *graft.Ctx) error {
		if c.Query("mode") == "handler" {
			panic("plain panics")
		}
		return c.Text(http.StatusOK, "plain")
	})
	return graftest.Start(t, app), logs, app
}

// getAborted sends a GET and expects the connection aborted: no answer,
// or an answer whose body ends short.
func getAborted(t *testing.T, s *graftest.Server, path string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), graftest.Timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+path, nil)
	res, err := s.Client.Do(req)
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err == nil {
		t.Fatalf("GET %s: a complete answer %d %q; want the connection aborted", path, res.StatusCode, b)
	}
	return string(b)
}

func TestPanics(t *testing.T) {
	s, logs, app := build(t, recover.Config{})
	for _, tc := range []struct {
		path, route, value, typ string
	}{
		{"/items?mode=handler&n=5", "/items", "handler panics", "string"},
		{"/items?mode=middleware&n=5", "/items", "middleware panics", "string"},
		{"/items?mode=provider&n=5", "/items", "provider panics", "*errors.errorString"},
		{"/plain?mode=handler", "/plain", "plain panics", "string"},
	} {
		t.Run(tc.value, func(t *testing.T) {
			s := s.For(t)
			res := s.Get(tc.path, "X-Request-Id", "req-"+strings.ReplaceAll(tc.value, " ", "-")).WantStatus(500)
			if p := res.Problem(); p.Title != "Internal Server Error" || strings.Contains(string(res.Body), "panics") {
				t.Errorf("answer %s; want a 500 problem that does not show the panic", res.Body)
			}
			recs := logs.take()
			if len(recs) != 1 {
				t.Fatalf("%d records, want exactly 1: %+v", len(recs), recs)
			}
			r := recs[0]
			want := map[string]string{"method": "GET", "route": tc.route, "panic": tc.value, "panic_type": tc.typ,
				"request_id": "req-" + strings.ReplaceAll(tc.value, " ", "-")}
			for k, v := range want {
				if r.attrs[k] != v {
					t.Errorf("record %s = %q, want %q", k, r.attrs[k], v)
				}
			}
			if r.level != slog.LevelError || r.msg != "panic recovered" || !strings.Contains(r.attrs["stack"], "recover_test.go") {
				t.Errorf("record %v %q; stack with the panic site: %.500s", r.level, r.msg, r.attrs["stack"])
			}
			// The next request, on the same pooled context, is served as
			// if nothing happened.
			var out struct{ N int }
			next := s.Get("/items").WantStatus(200)
			next.JSON(&out)
			if out.N != 0 || next.Header.Get("X-Request-Id") == want["request_id"] {
				t.Errorf("the next request saw n=%d, request id %q", out.N, next.Header.Get("X-Request-Id"))
			}
			if recs := logs.take(); len(recs) != 0 {
				t.Errorf("the next request logged %+v", recs)
			}
		})
	}
	if st := app.PoolStats(); st.Created != 1 {
		t.Errorf("pool stats %+v: the panicking requests did not give their context back", st)
	}
}

// After a partial answer the connection is aborted (the client sees a
// truncated answer), logged once; http.ErrAbortHandler passes through,
// not logged.
func TestAnswerStartedAndAbort(t *testing.T) {
	s, logs, _ := build(t, recover.Config{OmitStack: true})
	if got := getAborted(t, s, "/items?mode=partial"); got != "partial answer" {
		t.Errorf("truncated body %q; want what was flushed before the panic", got)
	}
	graftest.WaitFor(t, "the record of the partial answer's panic", func() bool {
		logs.mu.Lock()
		defer logs.mu.Unlock()
		return len(logs.recs) > 0
	})
	recs := logs.take()
	if len(recs) != 1 || recs[0].attrs["panic"] != "after a partial write" || recs[0].attrs["answer_started"] != "true" {
		t.Fatalf("records %+v; want one, saying the answer had started", recs)
	}
	if _, ok := recs[0].attrs["stack"]; ok {
		t.Error("OmitStack: the record has a stack")
	}
	getAborted(t, s, "/items?mode=abort")
	s.Get("/items").WantStatus(200)
	if recs := logs.take(); len(recs) != 0 {
		t.Errorf("ErrAbortHandler logged %+v", recs)
	}
}

// OnPanic answers instead of the 500; an error it returns goes to the
// error handler.
func TestOnPanic(t *testing.T) {
	var seen []any
	var mu sync.Mutex
	s, logs, _ := build(t, recover.Config{Message: "boom", RequestIDKey: "-", Level: slog.LevelWarn, OnPanic: func(c *graft.Ctx, v any) error {
		mu.Lock()
		seen = append(seen, v)
		mu.Unlock()
		if c.RoutePattern() == "/plain" {
			return &graft.HTTPError{Status: http.StatusServiceUnavailable, Detail: "try again later"}
		}
		return c.JSON(http.StatusTeapot, map[string]string{"sorry": "yes"})
	}})
	res := s.Get("/items?mode=handler", "X-Request-Id", "abc").WantStatus(http.StatusTeapot)
	if strings.TrimSpace(res.Text()) != `{"sorry":"yes"}` {
		t.Errorf("body %q", res.Body)
	}
	if p := s.Get("/plain?mode=handler").WantStatus(503).Problem(); p.Detail != "try again later" {
		t.Errorf("problem %+v", p)
	}
	recs := logs.take()
	if len(recs) != 2 || recs[0].msg != "boom" || recs[0].level != slog.LevelWarn {
		t.Fatalf("records %+v", recs)
	}
	if _, ok := recs[0].attrs["request_id"]; ok {
		t.Error(`RequestIDKey "-": the record has a request id`)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || seen[0] != "handler panics" || seen[1] != "plain panics" {
		t.Errorf("OnPanic saw %v", seen)
	}
}

// A panic in OnPanic is still a 500 (graft's default takes over).
func TestOnPanicPanics(t *testing.T) {
	s, logs, _ := build(t, recover.Config{OnPanic: func(*graft.Ctx, any) error { panic("OnPanic panics") }})
	s.Get("/items?mode=handler").WantStatus(500).Problem()
	var msgs []string
	for _, r := range logs.take() {
		msgs = append(msgs, r.msg+" "+r.attrs["panic"])
	}
	if len(msgs) != 3 || msgs[0] != "panic recovered handler panics" || !strings.Contains(msgs[1], "the panic handler panicked") || !strings.Contains(msgs[2], "panic in handler") {
		t.Errorf("records %q", msgs)
	}
}

// The plugin adds the 500 to the signature.
func TestSignature(t *testing.T) {
	app := graft.New(graft.Config{})
	app.UsePlugins(recover.New(recover.Config{}))
	ri := graft.Get(app, "/x", func(context.Context, *struct{}) (*struct{}, error) { return &struct{}{}, nil })
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	for _, r := range ri.Signature().Returns {
		if r.Status == 500 && r.MediaType == "application/problem+json" {
			return
		}
	}
	t.Errorf("returns %+v; want the 500", ri.Signature().Returns)
}

// Without Config.PanicHandler the plugin covers the typed endpoints it is
// applied to; plain handlers keep graft's default.
func TestPluginAlone(t *testing.T) {
	logs := &records{}
	app := graft.New(graft.Config{Logger: slog.New(logs)})
	app.UsePlugins(recover.New(recover.Config{}))
	graft.Get(app, "/typed", func(context.Context, *struct{}) (*struct{}, error) { panic("typed") })
	app.GET("/plain", func(*graft.Ctx) error { panic("plain") })
	s := graftest.Start(t, app)
	s.Get("/typed").WantStatus(500).Problem()
	s.Get("/plain").WantStatus(500).Problem()
	recs := logs.take()
	if len(recs) != 2 || recs[0].msg != "panic recovered" || recs[0].attrs["panic"] != "typed" ||
		recs[1].msg != "graft: panic in handler" || recs[1].attrs["panic"] != "plain" {
		t.Errorf("records %+v", recs)
	}
}
