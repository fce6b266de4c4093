package graft

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/graftgo/graft/di"
)

type opIn struct {
	ID int `path:"id"`
}
type opOut struct{ Body string }

func opHandler(context.Context, *opIn) (*opOut, error) { return &opOut{Body: "ok"}, nil }

// TestOperationOf: a route's own options and its groups' tags (outer
// first, no repeats) and deprecation.
func TestOperationOf(t *testing.T) {
	app, _ := newApp(t, Config{})
	api := app.Group("/api", Tags("api"))
	users := api.Group("/users", Tags("users", "api"), Deprecated())
	ri := Get(users, "/{id}", opHandler, Summary("Get a user"), Description("Reads one user."), OperationID("getUser"), Tags("read", "users"))
	plain := AddRoute(app, http.MethodGet, "/plain", func(*Ctx) error { return nil }, "plain")
	want := Operation{ID: "getUser", Summary: "Get a user", Description: "Reads one user.", Tags: []string{"api", "users", "read"}, Deprecated: true}
	if got := OperationOf(ri); !reflect.DeepEqual(got, want) {
		t.Errorf("OperationOf = %+v, want %+v", got, want)
	}
	if got := ri.Operation(); !reflect.DeepEqual(got, want) {
		t.Errorf("Route.Operation = %+v, want %+v", got, want)
	}
	if got := OperationOf(plain); !reflect.DeepEqual(got, Operation{}) {
		t.Errorf("plain route: %+v, want the zero Operation", got)
	}
}

// TestAddSecurity: a plugin's scheme lands in the signature; the same name
// again replaces its scopes; a nameless or unknown-type scheme, or a call
// after assembly, stops start-up naming the endpoint.
func TestAddSecurity(t *testing.T) {
	bearer := SecurityScheme{Name: "bearerAuth", Type: "http", Scheme: "bearer", BearerFormat: "JWT"}
	var kept *Signature
	app, _ := newApp(t, Config{})
	Get(app, "/items/{id}", opHandler, Plugins(PluginFunc(func(_ *di.Graph, next Endpoint, sig *Signature) (Endpoint, error) {
		sig.AddSecurity(bearer, "read")
		sig.AddSecurity(bearer, "read", "write")
		kept = sig
		return next, nil
	})))
	if err := app.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := []SecurityRequirement{{Scheme: bearer, Scopes: []string{"read", "write"}}}
	if !reflect.DeepEqual(kept.Security, want) {
		t.Errorf("Security = %+v, want %+v", kept.Security, want)
	}
	if msg := mustPanic(t, func() { kept.AddSecurity(bearer) }); !containsAll(msg, "GET /items/{id}", "AddSecurity", "Plugin.Apply") {
		t.Errorf("late AddSecurity: %s", msg)
	}
	for _, tc := range []struct {
		s    SecurityScheme
		want string
	}{
		{SecurityScheme{Type: "http"}, "has no Name"},
		{SecurityScheme{Name: "x", Type: "oauth"}, `type "oauth"`},
	} {
		app, _ := newApp(t, Config{})
		Get(app, "/items/{id}", opHandler, Plugins(PluginFunc(func(_ *di.Graph, next Endpoint, sig *Signature) (Endpoint, error) {
			sig.AddSecurity(tc.s)
			return next, nil
		})))
		err := app.Start(t.Context())
		if err == nil || !containsAll(err.Error(), "/items/{id}", tc.want) {
			t.Errorf("%+v: start error %v, want one with %q", tc.s, err, tc.want)
		}
	}
}

// TestBuilderHandleAndOnAssembled: an extension serves a route of its own
// and sees, after assembly, every route with the signature plugins
// finished (a return added by a plugin is there).
func TestBuilderHandleAndOnAssembled(t *testing.T) {
	app, _ := newApp(t, Config{})
	var seen []string
	var returns int
	app.Register(ExtensionFunc("test.doc", func(b *Builder) error {
		b.Handle(http.MethodGet, "/doc", func(c *Ctx) error { return c.Text(http.StatusOK, strings.Join(seen, ",")) })
		b.OnAssembled(func(routes []*Route) error {
			for _, ri := range routes {
				seen = append(seen, methodLabel(ri.Method())+" "+ri.Pattern())
				if s := SignatureOf(ri); s != nil {
					returns = len(s.Returns)
				}
			}
			return nil
		})
		return nil
	}))
	Get(app, "/items/{id}", opHandler, Plugins(PluginFunc(func(_ *di.Graph, next Endpoint, sig *Signature) (Endpoint, error) {
		sig.AddReturn(Return{Status: http.StatusUnauthorized, Type: reflect.TypeFor[Problem](), MediaType: mediaProblem, Encoder: "problem"})
		return next, nil
	})))
	srv := serveTest(t, app)
	if r := do(t, srv, http.MethodGet, "/doc", nil); r.status != 200 || r.body != "GET /items/{id},GET /doc" {
		t.Errorf("GET /doc: %d %q", r.status, r.body)
	}
	if returns != 3 { // 200, the binder's 422, the plugin's 401
		t.Errorf("the hook saw %d returns, want 3", returns)
	}
	var found bool
	for _, e := range app.Extensions() {
		found = found || e.ID == "test.doc" && slices.Contains(e.Contributes, "route GET /doc")
	}
	if !found {
		t.Errorf("listing lacks the extension's route: %+v", app.Extensions())
	}
}

// TestOnAssembledFailure: an error (or panic) in the hook stops start-up
// naming the extension and stops what started.
func TestOnAssembledFailure(t *testing.T) {
	for _, fail := range []func() error{
		func() error { return errors.New("no title") },
		func() error { panic("no title") },
	} {
		app, _ := newApp(t, Config{})
		stopped := false
		app.OnLifecycle(Hook{Name: "res", OnStop: func(context.Context) error { stopped = true; return nil }})
		app.Register(ExtensionFunc("test.doc", func(b *Builder) error {
			b.OnAssembled(func([]*Route) error { return fail() })
			return nil
		}))
		err := app.Start(t.Context())
		if err == nil || !containsAll(err.Error(), "extension test.doc: OnAssembled", "no title") {
			t.Errorf("start error %v", err)
		}
		if !stopped {
			t.Error("the lifespan hook was not stopped after the failed start")
		}
	}
}

// TestBuilderHandleOutsideExtend: a Builder kept past Extend cannot add
// routes.
func TestBuilderHandleOutsideExtend(t *testing.T) {
	app, _ := newApp(t, Config{})
	var kept *Builder
	app.Register(ExtensionFunc("test.keep", func(b *Builder) error { kept = b; return nil }))
	if err := app.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	msg := mustPanic(t, func() { kept.Handle(http.MethodGet, "/late", func(*Ctx) error { return nil }) })
	if !containsAll(msg, "test.keep", "/late", "from Extend") {
		t.Errorf("panic %q", msg)
	}
}
