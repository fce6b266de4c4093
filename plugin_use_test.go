package graft

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/graftgo/graft/di"
)

type useIn struct {
	Body struct {
		N int `json:"n" min:"1"`
	}
}

type useOut struct {
	Status int `default:"201"`
	Body   struct {
		N int `json:"n"`
	}
}

// recorder is a writer below the Ctx's that keeps a copy of the body.
type recorder struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (r *recorder) Write(b []byte) (int, error) {
	r.buf.Write(b)
	return r.ResponseWriter.Write(b)
}

// Endpoint middleware added by plugins runs after every pre-bind hook,
// the outermost plugin's first; its next finishes the answer, so it sees
// the final status (a 422 from binding too) and, through SwapWriter, the
// bytes written; it may answer without calling next.
func TestSignatureUse(t *testing.T) {
	var mu sync.Mutex
	var trace []string
	log := func(s string) { mu.Lock(); trace = append(trace, s); mu.Unlock() }
	plugin := func(name string) Plugin {
		return NamedPlugin(name, PluginFunc(func(_ *di.Graph, next Endpoint, sig *Signature) (Endpoint, error) {
			sig.PreBind(func(*Ctx) error { log(name + " pre-bind"); return nil })
			sig.Use(func(next HandlerFunc) HandlerFunc {
				return func(c *Ctx) error {
					if c.Header("X-Short") == name {
						log(name + " answers")
						return c.Text(http.StatusTeapot, "short "+name)
					}
					rec := &recorder{ResponseWriter: c.SwapWriter(nil)}
					c.SwapWriter(rec)
					err := next(c)
					c.SwapWriter(rec.ResponseWriter)
					log(name + " after: " + strconv.Itoa(c.StatusCode()) + " " + strings.TrimSpace(rec.buf.String()) + " err=" + strconv.FormatBool(err != nil))
					return err
				}
			})
			return func(ctx context.Context, c *Ctx, in any) (any, error) {
				log(name + " wrapper")
				return next(ctx, c, in)
			}, nil
		}))
	}
	app := New(Config{})
	app.UsePlugins(plugin("outer"))
	Post(app, "/n", func(_ context.Context, in *useIn) (*useOut, error) {
		log("handler")
		out := &useOut{}
		out.Body.N = in.Body.N
		return out, nil
	}, Plugins(plugin("inner")))
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	srv := epServer(t, app)
	for _, tc := range []struct {
		body, short string
		status      int
		want        []string
	}{
		{`{"n":2}`, "", 201, []string{"outer pre-bind", "inner pre-bind", "outer wrapper", "inner wrapper", "handler",
			`inner after: 201 {"n":2} err=false`, `outer after: 201 {"n":2} err=false`}},
		{`{"n":0}`, "", 422, []string{"outer pre-bind", "inner pre-bind", "inner after: 422", "outer after: 422"}},
		{`{"n":2}`, "inner", 418, []string{"outer pre-bind", "inner pre-bind", "inner answers", "outer after: 418 short inner err=false"}},
	} {
		trace = nil
		r := epDo(t, srv, "POST", "/n", "application/json", tc.body, "X-Short", tc.short)
		if r.status != tc.status {
			t.Errorf("%s: status %d, want %d", tc.body, r.status, tc.status)
		}
		mu.Lock()
		got := strings.Join(trace, " | ")
		mu.Unlock()
		for i, w := range tc.want {
			if len(trace) <= i || !strings.HasPrefix(trace[i], w) {
				t.Errorf("%s %s: trace %s, want %q at %d", tc.body, tc.short, got, w, i)
				break
			}
		}
		if len(trace) != len(tc.want) {
			t.Errorf("%s %s: trace %s has %d steps, want %d", tc.body, tc.short, got, len(trace), len(tc.want))
		}
	}
}

// A pre-bind hook that refuses the request ends it before any endpoint
// middleware runs.
func TestSignatureUseAfterPreBind(t *testing.T) {
	ran := false
	app := New(Config{})
	Get(app, "/x", func(context.Context, *struct{}) (*okOut, error) { return &okOut{}, nil }, Plugins(PluginFunc(func(_ *di.Graph, next Endpoint, sig *Signature) (Endpoint, error) {
		sig.PreBind(func(*Ctx) error { return NewError(http.StatusUnauthorized, "no") })
		sig.Use(func(next HandlerFunc) HandlerFunc { return func(c *Ctx) error { ran = true; return next(c) } })
		return next, nil
	})))
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	if r := epDo(t, epServer(t, app), "GET", "/x", "", ""); r.status != 401 || ran {
		t.Errorf("status %d, middleware ran %v; want 401 and not run", r.status, ran)
	}
}

func TestSignatureUseNilStopsStartup(t *testing.T) {
	app := New(Config{})
	Get(app, "/x", func(context.Context, *struct{}) (*okOut, error) { return &okOut{}, nil }, Plugins(NamedPlugin("bad", PluginFunc(func(_ *di.Graph, next Endpoint, sig *Signature) (Endpoint, error) {
		sig.Use(nil)
		return next, nil
	}))))
	err := app.Start(context.Background())
	if err == nil {
		app.Stop(context.Background())
		t.Fatal("started")
	}
	if !strings.Contains(err.Error(), "endpoint GET /x: plugin bad: Use: middleware #1 is nil") {
		t.Errorf("error %q", err)
	}
}
