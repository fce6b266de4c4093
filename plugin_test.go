package graft

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/graftgo/graft/di"
)

// tracePlugin is a plugin that records the order in which wrappers run.
type tracePlugin struct {
	name string
	mu   *sync.Mutex
	log  *[]string
}

func (p *tracePlugin) Apply(_ *di.Graph, next Endpoint, _ *Signature) (Endpoint, error) {
	return func(ctx context.Context, c *Ctx, in any) (any, error) {
		p.mu.Lock()
		*p.log = append(*p.log, p.name)
		p.mu.Unlock()
		return next(ctx, c, in)
	}, nil
}

type okOut struct{ Body string }

// nilBus fills createIn's plugin field with nil, so that tests can see the
// request's "Bus" values never reach it.
var nilBus = PluginFunc(func(_ *di.Graph, next Endpoint, sig *Signature) (Endpoint, error) {
	PluginField[*struct{}](sig)
	return next, nil
})

func TestPluginOrderAndDedup(t *testing.T) {
	var mu sync.Mutex
	var log []string
	mk := func(n string) *tracePlugin { return &tracePlugin{name: n, mu: &mu, log: &log} }
	appP, outer, inner, ep, shared := mk("app"), mk("outer"), mk("inner"), mk("endpoint"), mk("shared")

	app := New(Config{})
	app.UsePlugins(appP, shared)
	g1 := app.Group("/a", Plugins(outer, shared))
	g2 := g1.Group("/b", Plugins(inner))
	Get(g2, "/c", func(context.Context, *struct{}) (*okOut, error) { return &okOut{Body: "ok"}, nil },
		Plugins(ep, appP, shared))
	srv := epServer(t, app)
	r := epDo(t, srv, "GET", "/a/b/c", "", "")
	if r.status != 200 || r.body != "ok" {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if want := []string{"app", "shared", "outer", "inner", "endpoint"}; !slices.Equal(log, want) {
		t.Errorf("order %v, want %v", log, want)
	}
}

type busT struct{ events []string }

type pluginIn struct {
	ID  string `path:"id"`
	Bus *busT  `plugin:"bus"`
}

func TestPluginFillsPluginField(t *testing.T) {
	bus := &busT{}
	inject := PluginFunc(func(_ *di.Graph, next Endpoint, sig *Signature) (Endpoint, error) {
		f := PluginFieldTagged[*busT](sig, "bus")
		if f == nil {
			return next, nil
		}
		return func(ctx context.Context, c *Ctx, in any) (any, error) {
			f.Set(in, bus)
			return next(ctx, c, in)
		}, nil
	})
	app := New(Config{})
	app.UsePlugins(inject)
	Post(app, "/users/{id}", func(_ context.Context, in *pluginIn) (*okOut, error) {
		if in.Bus == nil {
			return nil, errors.New("no bus")
		}
		in.Bus.events = append(in.Bus.events, "created "+in.ID)
		return &okOut{Body: "ok"}, nil
	})
	// The plugin leaves endpoints without a bus field as they are.
	plain := Get(app, "/plain", func(context.Context, *struct{}) (*okOut, error) { return &okOut{Body: "plain"}, nil })
	srv := epServer(t, app)
	// A value for the plugin field in the request is never read.
	if r := epDo(t, srv, "POST", "/users/7?bus=x&Bus=x", "", "", "Bus", "x"); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if !slices.Equal(bus.events, []string{"created 7"}) {
		t.Errorf("events %v", bus.events)
	}
	rt := plain.rt
	if rt.handler == nil || SignatureOf(plain).Static() != true {
		t.Fatal("plain endpoint not static")
	}
	if r := epDo(t, srv, "GET", "/plain", "", ""); r.body != "plain" {
		t.Errorf("plain %q", r.body)
	}
}

func TestPluginUnchangedCostsNothing(t *testing.T) {
	app := New(Config{})
	noop := PluginFunc(func(_ *di.Graph, next Endpoint, _ *Signature) (Endpoint, error) { return next, nil })
	type out struct{ Body []byte }
	res := &out{Body: []byte("x")}
	ri := Get(app, "/x", func(context.Context, *struct{}) (*out, error) { return res, nil }, Plugins(noop, noop))
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	w := &nopWriter{h: http.Header{}}
	r, _ := http.NewRequest("GET", "/x", nil)
	app.ServeHTTP(w, r)
	if n := testing.AllocsPerRun(100, func() { app.ServeHTTP(w, r) }); n != 0 {
		t.Errorf("%v allocs with a no-op plugin", n)
	}
	_ = ri
}

func TestPluginFactoryAndSignatureEdits(t *testing.T) {
	type limiter struct{ max int }
	app := New(Config{})
	maxReq := 3
	app.OnLifecycle(Hook{Name: "limiter", OnStart: func(context.Context) error {
		di.Value(app.Graph(), &limiter{max: maxReq})
		return nil
	}})
	built := 0
	factory := PluginFactory(func(g *di.Graph, sig *Signature) (Plugin, error) {
		l, err := di.Get[*limiter](g) // created by the lifespan hook
		if err != nil {
			return nil, err
		}
		built++
		sig.AddParam(Param{Name: "Authorization", In: InHeader, Required: true})
		sig.AddReturn(Return{Status: http.StatusUnauthorized, MediaType: mediaProblem, Encoder: "problem"})
		return PluginFunc(func(_ *di.Graph, next Endpoint, _ *Signature) (Endpoint, error) {
			return func(ctx context.Context, c *Ctx, in any) (any, error) {
				if c.Header("Authorization") == "" {
					return nil, &HTTPError{Status: http.StatusUnauthorized, Header: http.Header{"Www-Authenticate": {"Bearer"}}}
				}
				c.SetHeader("X-Limit", string(rune('0'+l.max)))
				return next(ctx, c, in)
			}, nil
		}), nil
	})
	ri := Get(app, "/x", func(context.Context, *struct{}) (*okOut, error) { return &okOut{Body: "ok"}, nil }, Plugins(factory))
	srv := epServer(t, app)
	if r := epDo(t, srv, "GET", "/x", "", ""); r.status != 401 || r.header.Get("Www-Authenticate") != "Bearer" {
		t.Errorf("no auth: %d %v", r.status, r.header)
	}
	if r := epDo(t, srv, "GET", "/x", "", "", "Authorization", "t"); r.status != 200 || r.header.Get("X-Limit") != "3" {
		t.Errorf("auth: %d %v", r.status, r.header)
	}
	sig := SignatureOf(ri)
	if built != 1 || len(sig.HeaderParams) != 1 || sig.HeaderParams[0].Name != "Authorization" {
		t.Errorf("built %d, header params %+v", built, sig.HeaderParams)
	}
	found := false
	for _, r := range sig.Returns {
		found = found || r.Status == 401
	}
	if !found {
		t.Errorf("returns %+v", sig.Returns)
	}
}

func TestPluginErrorStopsStartup(t *testing.T) {
	cases := []struct {
		name string
		p    Plugin
		want string
	}{
		{"error", NamedPlugin("auth", PluginFunc(func(*di.Graph, Endpoint, *Signature) (Endpoint, error) {
			return nil, errors.New("no key configured")
		})), "graft: endpoint POST /users: plugin auth: no key configured"},
		{"panic", &panicky{}, "plugin *graft.panicky: panic: boom"},
		{"nil handler", PluginFunc(func(*di.Graph, Endpoint, *Signature) (Endpoint, error) { return nil, nil }), "returned a nil handler"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := New(Config{})
			Post(app, "/users", func(context.Context, *struct{}) (*okOut, error) { return nil, nil }, Plugins(tc.p))
			err := app.Start(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("start error %v, want %q", err, tc.want)
			}
		})
	}
}

type panicky struct{}

func (*panicky) Apply(*di.Graph, Endpoint, *Signature) (Endpoint, error) { panic("boom") }

func TestPluginOtherOutput(t *testing.T) {
	cache := PluginFunc(func(_ *di.Graph, next Endpoint, _ *Signature) (Endpoint, error) {
		return func(ctx context.Context, c *Ctx, in any) (any, error) {
			if c.Query("cached") != "" {
				return map[string]bool{"cached": true}, nil
			}
			return next(ctx, c, in)
		}, nil
	})
	app := New(Config{})
	Get(app, "/x", func(context.Context, *struct{}) (*okOut, error) { return &okOut{Body: "fresh"}, nil }, Plugins(cache))
	srv := epServer(t, app)
	if r := epDo(t, srv, "GET", "/x?cached=1", "", ""); r.body != `{"cached":true}` {
		t.Errorf("cached: %q", r.body)
	}
	if r := epDo(t, srv, "GET", "/x", "", ""); r.body != "fresh" {
		t.Errorf("fresh: %q", r.body)
	}
}
