package graft

import (
	"context"
	"mime/multipart"
	"reflect"
	"strings"
	"testing"

	"github.com/graftgo/graft/di"
)

type paging struct {
	Limit int `query:"limit" default:"20"`
}

type envelope struct {
	Body struct{ Inner string }
}

// Setup mistakes that used to be accepted silently: each panics at
// registration, naming the endpoint (method and route) and the field.
func TestEndpointSilentSetupMistakes(t *testing.T) {
	type out struct{}
	cases := []struct {
		name string
		reg  func(a *App[Ctx])
		want []string
	}{
		{"default above max", func(a *App[Ctx]) {
			type in struct {
				Limit int `query:"limit" default:"500" max:"100"`
			}
			Get(a, "/items", func(context.Context, *in) (*out, error) { return nil, nil })
		}, []string{"endpoint GET /items", "field Limit", `default:"500"`, "query.limit must be at most 100"}},
		{"default below minLength", func(a *App[Ctx]) {
			type in struct {
				Sort string `header:"X-Sort" default:"a" minLength:"3"`
			}
			Get(a, "/items", func(context.Context, *in) (*out, error) { return nil, nil })
		}, []string{"endpoint GET /items", "field Sort", `default:"a"`, "header.x-sort"}},
		{"slice default outside enum", func(a *App[Ctx]) {
			type in struct {
				Tags []string `query:"tags" explode:"false" default:"red,pink" enum:"red,green"`
			}
			Get(a, "/items", func(context.Context, *in) (*out, error) { return nil, nil })
		}, []string{"endpoint GET /items", "field Tags", `default:"red,pink"`, "query.tags[1]"}},
		{"two query fields, one name", func(a *App[Ctx]) {
			type in struct {
				ID    int    `query:"id"`
				IDStr string `query:"id"`
			}
			Get(a, "/items", func(context.Context, *in) (*out, error) { return nil, nil })
		}, []string{"endpoint GET /items", "fields ID and IDStr both read query \"id\""}},
		{"header names differing in case", func(a *App[Ctx]) {
			type in struct {
				A string `header:"X-Token"`
				B string `header:"x-token"`
			}
			Get(a, "/items", func(context.Context, *in) (*out, error) { return nil, nil })
		}, []string{"endpoint GET /items", "fields A and B both read header"}},
		{"embedded field with the same name", func(a *App[Ctx]) {
			type in struct {
				Max int `query:"limit"`
				paging
			}
			Get(a, "/items", func(context.Context, *in) (*out, error) { return nil, nil })
		}, []string{"endpoint GET /items", "fields Max and paging.Limit both read query \"limit\""}},
		{"form value and file, one name", func(a *App[Ctx]) {
			type in struct {
				Name string                `form:"doc"`
				Doc  *multipart.FileHeader `form:"doc"`
			}
			Post(a, "/up", func(context.Context, *in) (*out, error) { return nil, nil })
		}, []string{"endpoint POST /up", "fields Name and Doc both read form \"doc\""}},
		{"Body shadowed by an embedded Body", func(a *App[Ctx]) {
			type in struct {
				Body struct{ Name string }
				envelope
			}
			Post(a, "/items", func(context.Context, *in) (*out, error) { return nil, nil })
		}, []string{"endpoint POST /items", "fields Body and envelope.Body are both the request body"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				msg, _ := recover().(string)
				if msg == "" {
					t.Fatal("registration did not panic")
				}
				t.Log(msg)
				for _, w := range tc.want {
					if !strings.Contains(msg, w) {
						t.Errorf("panic %q\nlacks %q", msg, w)
					}
				}
			}()
			tc.reg(New(Config{}))
		})
	}
}

// The same name in different locations is no mistake, nor is a default
// that fits its constraints.
func TestEndpointSameNameElsewhereIsFine(t *testing.T) {
	type in struct {
		QID   string   `query:"id"`
		HID   string   `header:"id"`
		CID   string   `cookie:"id"`
		Limit int      `query:"limit" default:"100" max:"100"`
		Tags  []string `query:"tags" explode:"false" default:"red,green" enum:"red,green"`
	}
	app := New(Config{})
	Get(app, "/items/{id}", func(context.Context, *struct {
		in
		PID string `path:"id"`
	}) (*struct{}, error) {
		return nil, nil
	})
}

// Registering a provider after the app started would change nothing that
// was resolved: it panics naming the type and the call site.
func TestProvideAfterStart(t *testing.T) {
	app := New(Config{})
	g := app.Graph()
	di.Provide(g, di.Singleton, di.Func0(func() (*startPool, error) { return &startPool{}, nil }))
	app.OnLifecycle(Hook{Name: "db", OnStart: func(context.Context) error {
		di.Value(g, &dbConn{name: "from a hook"}) // still allowed
		return nil
	}})
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	for _, c := range []struct {
		name string
		reg  func()
		want string
	}{
		{"Provide", func() { di.Provide(g, di.Scoped, di.Func0(func() (*repo, error) { return nil, nil })) }, "a provider of *graft.repo at setup_mistakes_test.go:"},
		{"Override", func() { di.OverrideValue(g, &startPool{}) }, "a provider of *graft.startPool at setup_mistakes_test.go:"},
		{"External", func() { g.External(reflect.TypeFor[*user]()) }, "external type *graft.user at setup_mistakes_test.go:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, c.want) || !strings.Contains(msg, "the app started") || !strings.Contains(msg, "before Start") {
					t.Fatalf("panic %q, want one naming %q and saying when to register", msg, c.want)
				}
				t.Log(msg)
			}()
			c.reg()
		})
	}
}

// A failed start seals the graph too.
func TestProvideAfterFailedStart(t *testing.T) {
	app := New(Config{})
	app.OnLifecycle(Hook{Name: "db", OnStart: func(context.Context) error { return context.Canceled }})
	if err := app.Start(context.Background()); err == nil {
		t.Fatal("start did not fail")
	}
	defer func() {
		if msg, _ := recover().(string); !strings.Contains(msg, "a provider of *graft.repo") {
			t.Fatalf("panic %q", msg)
		}
	}()
	di.Provide(app.Graph(), di.Scoped, di.Func0(func() (*repo, error) { return nil, nil }))
}
