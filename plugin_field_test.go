package graft

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graftgo/graft/di"
)

type tenant struct{ id string }

type tenantIn struct {
	ID     int     `path:"id"`
	Tenant *tenant `plugin:""`
	Body   *struct {
		N int `json:"n" min:"1"`
	}
}

type tenantOut struct {
	Body struct {
		ID     int    `json:"id"`
		Tenant string `json:"tenant"`
	}
}

func tenantHandler(_ context.Context, in *tenantIn) (*tenantOut, error) {
	out := &tenantOut{}
	out.Body.ID = in.ID
	if in.Tenant != nil {
		out.Body.Tenant = in.Tenant.id
	}
	return out, nil
}

// tenantPlugin binds the query param "tenant" (or p) into the *tenant
// plugin field with decode.
func tenantPlugin(p Param, decode func(c *Ctx, raw string) (*tenant, error)) Plugin {
	return NamedPlugin("tenant", PluginFunc(func(_ *di.Graph, next Endpoint, sig *Signature) (Endpoint, error) {
		if f := PluginField[*tenant](sig); f != nil {
			f.Bind(p, decode)
		}
		return next, nil
	}))
}

func decodeTenant(_ *Ctx, raw string) (*tenant, error) {
	switch raw {
	case "evil":
		return nil, &HTTPError{Status: http.StatusForbidden, Detail: "tenant evil is banned"}
	case "gone":
		return nil, errors.New("no such tenant")
	}
	return &tenant{id: raw}, nil
}

func TestPluginBindParam(t *testing.T) {
	min2 := 2
	p := Param{Name: "tenant", In: InQuery, Required: true, Constraints: Constraints{MinLength: &min2, Pattern: "^[a-z]+$"}}
	app := New(Config{})
	ri := Post(app, "/t/{id}", tenantHandler, Plugins(tenantPlugin(p, decodeTenant)))
	srv := epServer(t, app)
	cases := []struct {
		name, path, body string
		status           int
		want             string
	}{
		{"bound", "/t/1?tenant=acme", "", 200, `{"id":1,"tenant":"acme"}`},
		{"missing", "/t/1", "", 422, `"location":"query.tenant","message":"is required"`},
		{"constraint, value not echoed", "/t/1?tenant=A1", "", 422, `{"location":"query.tenant","message":"must match the pattern ^[a-z]+$"}`},
		{"decoder error is a 422 entry", "/t/1?tenant=gone", "", 422, `{"location":"query.tenant","message":"no such tenant"}`},
		{"422 entries join the others", "/t/x?tenant=gone", `{"n":0}`, 422, `"location":"path.id"`},
		{"HTTPError ends binding before the body", "/t/x?tenant=evil", `{"n":`, 403, `"detail":"tenant evil is banned"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := epDo(t, srv, "POST", tc.path, "application/json", tc.body)
			if r.status != tc.status || !strings.Contains(r.body, tc.want) {
				t.Errorf("%d %s\nwant %d with %s", r.status, r.body, tc.status, tc.want)
			}
		})
	}
	if r := epDo(t, srv, "POST", "/t/x?tenant=gone", "application/json", `{"n":0}`); !slices.Equal(epFields(t, r.body), []string{"body.n", "path.id", "query.tenant"}) {
		t.Errorf("422 fields %v: %s", epFields(t, r.body), r.body)
	}
	sig := SignatureOf(ri)
	if len(sig.QueryParams) != 1 {
		t.Fatalf("query params %+v", sig.QueryParams)
	}
	if q := sig.QueryParams[0]; q.Name != "tenant" || q.Field != "Tenant" || q.Type.Kind().String() != "string" || !q.Required || q.Constraints.Pattern != "^[a-z]+$" {
		t.Errorf("plugin param in the signature: %+v", q)
	}
}

func TestPluginBindDefaultAndOptional(t *testing.T) {
	app := New(Config{})
	Get(app, "/d/{id}", tenantHandler, Plugins(tenantPlugin(Param{Name: "X-Tenant", In: InHeader, Default: "main"}, decodeTenant)))
	Get(app, "/o/{id}", tenantHandler, Plugins(tenantPlugin(Param{Name: "t", In: InCookie}, decodeTenant)))
	srv := epServer(t, app)
	for _, tc := range []struct {
		path string
		hdr  []string
		want string
	}{
		{"/d/1", nil, `{"id":1,"tenant":"main"}`},
		{"/d/1", []string{"x-tenant", "acme"}, `{"id":1,"tenant":"acme"}`},
		{"/o/1", nil, `{"id":1,"tenant":""}`}, // optional and absent: decode is not called
		{"/o/1", []string{"Cookie", "t=acme"}, `{"id":1,"tenant":"acme"}`},
	} {
		if r := epDo(t, srv, "GET", tc.path, "", "", tc.hdr...); r.status != 200 || strings.TrimSpace(r.body) != tc.want {
			t.Errorf("%s %v: %d %s, want %s", tc.path, tc.hdr, r.status, r.body, tc.want)
		}
	}
}

func TestPluginFieldUnfilledStopsStartup(t *testing.T) {
	looker := NamedPlugin("looker", PluginFunc(func(_ *di.Graph, next Endpoint, sig *Signature) (Endpoint, error) {
		for range sig.Plugins { // reads the list but declares nothing
		}
		return next, nil
	}))
	nilFactory := PluginFactory(func(*di.Graph, *Signature) (Plugin, error) { return nil, nil })
	reader := NamedPlugin("reader", PluginFunc(func(_ *di.Graph, next Endpoint, sig *Signature) (Endpoint, error) {
		if ReadPluginField[*busT](sig) == nil {
			return nil, errors.New("reader: no *busT field")
		}
		return next, nil // reads the field (ReadPluginField), fills nothing
	}))
	for _, tc := range []struct {
		name string
		opts []Option
	}{
		{"no plugin", nil},
		{"a plugin that does not claim it", []Option{Plugins(looker)}},
		{"a factory that builds nothing", []Option{Plugins(nilFactory)}},
		{"a plugin that only reads it", []Option{Plugins(reader)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := New(Config{})
			Post(app, "/users/{id}", func(context.Context, *pluginIn) (*okOut, error) { return nil, nil }, tc.opts...)
			err := app.Start(context.Background())
			if err == nil {
				app.Stop(context.Background())
				t.Fatal("started")
			}
			for _, w := range []string{"endpoint POST /users/{id}", "field Bus (*graft.busT, plugin:\"bus\")", "filled by no plugin", "graft.PluginField"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%v\nlacks %q", err, w)
				}
			}
		})
	}
}

type twoBusIn struct {
	A *busT `plugin:"a"`
	B *busT `plugin:"b"`
}

func TestPluginFieldAmbiguousAndTagged(t *testing.T) {
	app := New(Config{})
	Get(app, "/x", func(context.Context, *twoBusIn) (*okOut, error) { return nil, nil },
		Plugins(NamedPlugin("bus", PluginFunc(func(_ *di.Graph, next Endpoint, sig *Signature) (Endpoint, error) {
			PluginField[*busT](sig)
			return next, nil
		}))))
	err := app.Start(context.Background())
	if err == nil {
		app.Stop(context.Background())
		t.Fatal("started")
	}
	for _, w := range []string{"graft: endpoint GET /x: plugin bus: 2 plugin fields of type *graft.busT (A, B)", "PluginFieldTagged"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%v\nlacks %q", err, w)
		}
	}

	app = New(Config{})
	Get(app, "/x", func(_ context.Context, in *twoBusIn) (*okOut, error) {
		return &okOut{Body: in.A.events[0] + in.B.events[0]}, nil
	}, Plugins(PluginFunc(func(_ *di.Graph, next Endpoint, sig *Signature) (Endpoint, error) {
		a, b := PluginFieldTagged[*busT](sig, "a"), PluginFieldTagged[*busT](sig, "b")
		if PluginFieldTagged[*busT](sig, "c") != nil {
			t.Error("found a field tagged c")
		}
		return func(ctx context.Context, c *Ctx, in any) (any, error) {
			a.Set(in, &busT{events: []string{"a"}})
			b.Set(in, &busT{events: []string{"b"}})
			if a.Get(in).events[0] != "a" {
				t.Error("Get does not read what Set stored")
			}
			return next(ctx, c, in)
		}, nil
	})))
	srv := epServer(t, app)
	if r := epDo(t, srv, "GET", "/x", "", ""); r.body != "ab" {
		t.Errorf("%d %s", r.status, r.body)
	}
}

func TestPluginBindSetupErrors(t *testing.T) {
	ok := func(*Ctx, string) (*tenant, error) { return nil, nil }
	for _, tc := range []struct {
		name   string
		p      Param
		decode func(*Ctx, string) (*tenant, error)
		want   string
	}{
		{"path", Param{Name: "id", In: InPath}, ok, "use InQuery, InHeader or InCookie"},
		{"form", Param{Name: "f", In: InForm}, ok, "use InQuery, InHeader or InCookie"},
		{"no name", Param{In: InHeader}, ok, "set Param.Name"},
		{"nil decode", Param{Name: "t", In: InQuery}, nil, "decode is nil"},
		{"taken by a field", Param{Name: "x-token", In: InHeader}, ok, `already has the header param "X-Token" (field "Token")`},
		{"bad constraint", Param{Name: "t", In: InQuery, Constraints: Constraints{Min: new(1.0)}}, ok, "use minLength/maxLength"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			type in struct {
				ID     int     `path:"id"`
				Token  string  `header:"X-Token"`
				Tenant *tenant `plugin:""`
			}
			app := New(Config{})
			Get(app, "/t/{id}", func(context.Context, *in) (*okOut, error) { return nil, nil }, Plugins(tenantPlugin(tc.p, tc.decode)))
			err := app.Start(context.Background())
			if err == nil {
				app.Stop(context.Background())
				t.Fatal("started")
			}
			for _, w := range []string{"graft: endpoint GET /t/{id}: plugin tenant: binding plugin field Tenant", tc.want} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%v\nlacks %q", err, w)
				}
			}
		})
	}
	t.Run("bound twice", func(t *testing.T) {
		app := New(Config{})
		Get(app, "/t/{id}", tenantHandler, Plugins(tenantPlugin(Param{Name: "a", In: InQuery}, ok), tenantPlugin(Param{Name: "b", In: InQuery}, ok)))
		if err := app.Start(context.Background()); err == nil || !strings.Contains(err.Error(), `already bound to query "b"`) {
			t.Errorf("start error %v", err)
		}
	})
}

func TestPreBindOrder(t *testing.T) {
	var mu sync.Mutex
	var log []string
	rec := func(s string) {
		mu.Lock()
		log = append(log, s)
		mu.Unlock()
	}
	// each plugin adds two pre-bind hooks and wraps the endpoint
	mk := func(name string) Plugin {
		return PluginFunc(func(_ *di.Graph, next Endpoint, sig *Signature) (Endpoint, error) {
			for i := range 2 {
				sig.PreBind(func(c *Ctx) error {
					rec(fmt.Sprintf("%s.pre%d", name, i))
					if c.Query("stop") == name {
						return &HTTPError{Status: http.StatusTooManyRequests}
					}
					return nil
				})
			}
			return func(ctx context.Context, c *Ctx, in any) (any, error) {
				rec(name + ".wrap")
				return next(ctx, c, in)
			}, nil
		})
	}
	app := New(Config{})
	app.UsePlugins(mk("app"))
	g := app.Group("/g", Plugins(mk("group")))
	Get(g, "/x", func(context.Context, *struct {
		N int `query:"n"`
	}) (*okOut, error) {
		rec("handler")
		return &okOut{Body: "ok"}, nil
	}, Plugins(mk("ep")))
	Get(g, "/static", func(context.Context, *struct{}) (*okOut, error) { rec("static"); return &okOut{Body: "ok"}, nil })
	srv := epServer(t, app)

	want := []string{"app.pre0", "app.pre1", "group.pre0", "group.pre1", "ep.pre0", "ep.pre1", "app.wrap", "group.wrap", "ep.wrap", "handler"}
	if r := epDo(t, srv, "GET", "/g/x", "", ""); r.status != 200 || !slices.Equal(log, want) {
		t.Errorf("%d: order %v\nwant %v", r.status, log, want)
	}
	log = nil
	if r := epDo(t, srv, "GET", "/g/x?stop=group&n=bad", "", ""); r.status != 429 || !slices.Equal(log, []string{"app.pre0", "app.pre1", "group.pre0"}) {
		t.Errorf("stopped: %d %s, ran %v", r.status, r.body, log)
	}
	log = nil
	if r := epDo(t, srv, "GET", "/g/static?stop=app", "", ""); r.status != 429 || !slices.Equal(log, []string{"app.pre0"}) {
		t.Errorf("static endpoint: %d, ran %v", r.status, log)
	}
}

func TestPreBindAfterStartPanics(t *testing.T) {
	app := New(Config{})
	var sig *Signature
	Get(app, "/x", func(context.Context, *struct{}) (*okOut, error) { return nil, nil }, Plugins(PluginFunc(func(_ *di.Graph, next Endpoint, s *Signature) (Endpoint, error) {
		sig = s
		return next, nil
	})))
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	defer func() {
		if msg, _ := recover().(string); !strings.Contains(msg, "endpoint GET /x: PreBind after start-up") || !strings.Contains(msg, "call it from Plugin.Apply") {
			t.Errorf("panic %q", msg)
		}
	}()
	sig.PreBind(func(*Ctx) error { return nil })
}

// passPlugin adds a pre-bind hook that lets every request through; it
// counts its calls in passCalls (the apps it is on are served from one
// goroutine at a time).
var passPlugin = PluginFunc(func(_ *di.Graph, next Endpoint, sig *Signature) (Endpoint, error) {
	sig.PreBind(func(c *Ctx) error {
		if c.Request == nil {
			return errors.New("no request")
		}
		passCalls++
		return nil
	})
	return next, nil
})

var passCalls int

// preBindApps builds two endpoints (a query param only; the path,
// query and JSON body) in two apps: without and with a pre-bind hook that
// lets every request through.
func preBindApps(tb testing.TB) (plain, hooked *App[Ctx]) {
	tb.Helper()
	plain, hooked = New(Config{}), New(Config{})
	type qIn struct {
		N int `query:"n"`
	}
	type qOut struct{ Body []byte }
	res := &qOut{Body: []byte("ok")}
	q := func(context.Context, *qIn) (*qOut, error) { return res, nil }
	Post(plain, "/users/{id}", benchHandler)
	Get(plain, "/q", q)
	Post(hooked, "/users/{id}", benchHandler, Plugins(passPlugin))
	Get(hooked, "/q", q, Plugins(passPlugin))
	for _, a := range []*App[Ctx]{plain, hooked} {
		if err := a.Start(context.Background()); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { a.Stop(context.Background()) })
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, newBenchRequest().next())
		if rec.Code != 200 || rec.Body.String() != benchWant {
			tb.Fatalf("%d %s", rec.Code, rec.Body)
		}
		rec = httptest.NewRecorder()
		a.ServeHTTP(rec, queryRequest)
		if rec.Code != 200 || rec.Body.String() != "ok" {
			tb.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	return plain, hooked
}

var queryRequest = httptest.NewRequest("GET", "/q?n=7", nil)

func TestPreBindAddsNoAllocation(t *testing.T) {
	if raceEnabled {
		t.Skip("the typed input is pooled and sync.Pool drops items at random under the race detector")
	}
	plain, hooked := preBindApps(t)
	w := &nopWriter{h: http.Header{}}
	query := func(app *App[Ctx]) float64 {
		return testing.AllocsPerRun(200, func() { app.ServeHTTP(w, queryRequest) })
	}
	if a, b := query(plain), query(hooked); a != b || a > 1 {
		t.Errorf("query endpoint: %v allocs with a pre-bind hook, %v without (want the same, at most the bound input)", b, a)
	}
	body := func(app *App[Ctx]) float64 {
		req := newBenchRequest()
		app.ServeHTTP(w, req.next())
		return testing.AllocsPerRun(200, func() { app.ServeHTTP(w, req.next()) })
	}
	if a, b := body(plain), body(hooked); a != b {
		t.Errorf("body endpoint: %v allocs with a pre-bind hook, %v without", b, a)
	}
}

// BenchmarkPreBind measures what a pre-bind hook that lets the request
// through costs: compare pass with none.
func BenchmarkPreBind(b *testing.B) {
	plain, hooked := preBindApps(b)
	apps := []struct {
		name string
		app  *App[Ctx]
	}{{"none", plain}, {"pass", hooked}}
	for _, a := range apps {
		b.Run("query/"+a.name, func(b *testing.B) {
			w := &nopWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				a.app.ServeHTTP(w, queryRequest)
			}
		})
	}
	for _, a := range apps {
		b.Run("body/"+a.name, func(b *testing.B) {
			req := newBenchRequest()
			w := &nopWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				a.app.ServeHTTP(w, req.next())
			}
		})
	}
}

// BenchmarkPreBindDelta serves the query endpoint without and with the
// pre-bind hook in short alternating rounds of the same run (which goes
// first alternates too), so that the noise of a shared machine falls on
// both alike, and reports the medians over the rounds of each one's ns/op
// and of the paired difference (delta-ns/op: what the hook costs).
func BenchmarkPreBindDelta(b *testing.B) {
	plain, hooked := preBindApps(b)
	w := &nopWriter{h: http.Header{}}
	const round = 200
	timeRound := func(app *App[Ctx]) float64 {
		start := time.Now()
		for range round {
			app.ServeHTTP(w, queryRequest)
		}
		return float64(time.Since(start).Nanoseconds()) / round
	}
	var none, pass, delta []float64
	n := 0
	passCalls = 0
	for b.Loop() {
		if n%round == 0 {
			var a, h float64
			if len(none)%2 == 0 {
				a, h = timeRound(plain), timeRound(hooked)
			} else {
				h, a = timeRound(hooked), timeRound(plain)
			}
			none, pass, delta = append(none, a), append(pass, h), append(delta, h-a)
		}
		n++
	}
	if passCalls < len(pass)*round {
		b.Fatalf("the pre-bind hook ran %d times for %d requests", passCalls, len(pass)*round)
	}
	median := func(v []float64) float64 {
		slices.Sort(v)
		return v[len(v)/2]
	}
	b.ReportMetric(median(none), "none-ns/op")
	b.ReportMetric(median(pass), "pass-ns/op")
	b.ReportMetric(median(delta), "delta-ns/op")
}

// benchRequest is the benchmark's POST, its body rewound for every use.
type benchRequest struct {
	r    *http.Request
	body *strings.Reader
}

func newBenchRequest() *benchRequest {
	body := strings.NewReader(benchJSON)
	r := httptest.NewRequest("POST", "/users/42?limit=10", body)
	r.Header.Set("Content-Type", "application/json")
	return &benchRequest{r: r, body: body}
}

func (b *benchRequest) next() *http.Request {
	b.body.Reset(benchJSON)
	b.r.Body = readCloser{b.body}
	return b.r
}

type challenge struct {
	Realm string `json:"realm"`
}

// A pre-bind hook and a plugin param's decoder may answer an outcome the
// plugin declared (AddReturn with a body type) with Respond.
func TestPreBindRespondsDeclaredOutcome(t *testing.T) {
	auth := PluginFunc(func(_ *di.Graph, next Endpoint, sig *Signature) (Endpoint, error) {
		sig.AddReturn(Return{Status: http.StatusUnauthorized, Type: reflect.TypeFor[challenge](), MediaType: mediaJSON, Encoder: "json"})
		sig.PreBind(func(c *Ctx) error {
			if c.Query("pre") != "" {
				return Respond(http.StatusUnauthorized, challenge{Realm: "pre"})
			}
			return nil
		})
		if f := PluginField[*tenant](sig); f != nil {
			f.Bind(Param{Name: "t", In: InQuery}, func(_ *Ctx, raw string) (*tenant, error) {
				if raw == "x" {
					return nil, fmt.Errorf("wrapped: %w", Respond(http.StatusUnauthorized, challenge{Realm: "bind"}))
				}
				return &tenant{id: raw}, nil
			})
		}
		return next, nil
	})
	app := New(Config{})
	Post(app, "/t/{id}", tenantHandler, Plugins(auth))
	srv := epServer(t, app)
	for _, tc := range []struct{ path, want string }{
		{"/t/1?pre=1", `{"realm":"pre"}`},
		{"/t/1?t=x", `{"realm":"bind"}`},
	} {
		r := epDo(t, srv, "POST", tc.path, "application/json", `{"n":`)
		if r.status != 401 || strings.TrimSpace(r.body) != tc.want {
			t.Errorf("%s: %d %s, want 401 %s", tc.path, r.status, r.body, tc.want)
		}
	}
}

// A param a plugin binds costs no allocation beyond what the same param
// bound from an In field costs.
func TestPluginBindAddsNoAllocation(t *testing.T) {
	type fieldIn struct {
		T string `header:"X-Tenant" minLength:"2"`
	}
	type pluginIn struct {
		T string `plugin:""`
	}
	type out struct{ Body []byte }
	res := &out{Body: []byte("ok")}
	min2 := 2
	bindT := PluginFunc(func(_ *di.Graph, next Endpoint, sig *Signature) (Endpoint, error) {
		PluginField[string](sig).Bind(Param{Name: "X-Tenant", In: InHeader, Constraints: Constraints{MinLength: &min2}},
			func(_ *Ctx, raw string) (string, error) { return raw, nil })
		return next, nil
	})
	app := New(Config{})
	Get(app, "/field", func(_ context.Context, in *fieldIn) (*out, error) {
		if in.T != "acme" {
			return nil, errors.New("not bound")
		}
		return res, nil
	})
	Get(app, "/plugin", func(_ context.Context, in *pluginIn) (*out, error) {
		if in.T != "acme" {
			return nil, errors.New("not bound")
		}
		return res, nil
	}, Plugins(bindT))
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	allocs := func(path string) float64 {
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set("X-Tenant", "acme")
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, r)
		if rec.Code != 200 {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
		w := &nopWriter{h: http.Header{}}
		return testing.AllocsPerRun(200, func() { app.ServeHTTP(w, r) })
	}
	if a, b := allocs("/field"), allocs("/plugin"); a != b {
		t.Errorf("%v allocs with the param bound by a plugin, %v from an In field", b, a)
	}
}
