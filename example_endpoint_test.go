package graft_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/di"
)

type GetUserIn struct {
	ID    int    `path:"id" min:"1"`
	Limit int    `query:"limit" default:"10" max:"100"`
	Token string `header:"X-Token" required:"true"`
}

type GetUserOut struct {
	Body struct {
		ID    int `json:"id"`
		Limit int `json:"limit"`
	}
}

// A typed endpoint: the input is bound and validated before the handler
// runs; a bad request is answered 422 listing every failing field.
func ExampleGet() {
	app := graft.New(graft.Config{})
	graft.Get(app, "/users/{id}", func(_ context.Context, in *GetUserIn) (*GetUserOut, error) {
		out := &GetUserOut{}
		out.Body.ID, out.Body.Limit = in.ID, in.Limit
		return out, nil
	})

	for _, path := range []string{"/users/7", "/users/0?limit=500"} {
		req := httptest.NewRequest("GET", path, nil)
		if path == "/users/7" {
			req.Header.Set("X-Token", "t")
		}
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, req)
		fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	// Output:
	// 200 {"id":7,"limit":10}
	// 422 {"type":"about:blank","title":"Unprocessable Entity","status":422,"detail":"the request has invalid fields; see errors","instance":"/users/0","errors":[{"location":"path.id","message":"must be at least 1","value":0},{"location":"query.limit","message":"must be at most 100","value":500},{"location":"header.x-token","message":"is required"}]}
}

type CreateItemIn struct {
	Body struct {
		Name string `json:"name" required:"true" minLength:"2"`
	}
	Store *ItemStore `inject:""`
}

type CreateItemOut struct {
	Status   int    `default:"201"`
	Location string `header:"Location"`
	Body     struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	}
}

// ItemStore is a resource the lifespan hook registers in the graph.
type ItemStore struct{ names []string }

// A lifespan hook puts a resource in the graph; the endpoint gets it
// through an inject field.
func ExamplePost() {
	app := graft.New(graft.Config{})
	app.OnLifecycle(graft.Hook{Name: "store", OnStart: func(context.Context) error {
		di.Value(app.Graph(), &ItemStore{})
		return nil
	}})
	graft.Post(app, "/items", func(_ context.Context, in *CreateItemIn) (*CreateItemOut, error) {
		in.Store.names = append(in.Store.names, in.Body.Name)
		out := &CreateItemOut{}
		out.Body.ID, out.Body.Name = len(in.Store.names), in.Body.Name
		out.Location = fmt.Sprintf("/items/%d", out.Body.ID)
		return out, nil
	})
	req := httptest.NewRequest("POST", "/items", strings.NewReader(`{"name":"tea"}`))
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get("Location"), strings.TrimSpace(rec.Body.String()))
	// Output:
	// 201 /items/1 {"id":1,"name":"tea"}
}

type Clock struct{ now string }

type TimeIn struct {
	Clock *Clock `plugin:""` // filled by the plugin, never read from the request
}

type TimeOut struct{ Body string }

// A plugin sees the endpoint's signature at start-up and wraps only the
// endpoints that declare what it supplies.
func ExamplePluginFunc() {
	clockPlugin := graft.PluginFunc(func(_ *di.Graph, next graft.Endpoint, sig *graft.Signature) (graft.Endpoint, error) {
		f := graft.PluginField[*Clock](sig)
		if f == nil {
			return next, nil // nothing to do: the endpoint is served as it is
		}
		clock := &Clock{now: "12:00"}
		return func(ctx context.Context, c *graft.Ctx, in any) (any, error) {
			f.Set(in, clock)
			return next(ctx, c, in)
		}, nil
	})
	app := graft.New(graft.Config{})
	api := app.Group("/api", graft.Plugins(clockPlugin))
	graft.Get(api, "/time", func(_ context.Context, in *TimeIn) (*TimeOut, error) {
		return &TimeOut{Body: "it is " + in.Clock.now}, nil
	})
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest("GET", "/api/time?Clock=x", nil))
	fmt.Println(rec.Code, rec.Body.String())
	// Output:
	// 200 it is 12:00
}

// The signature of an endpoint, as plugins and OpenAPI see it.
func ExampleSignatureOf() {
	app := graft.New(graft.Config{})
	ri := graft.Get(app, "/users/{id}", func(context.Context, *GetUserIn) (*GetUserOut, error) { return nil, nil })
	sig := graft.SignatureOf(ri)
	for _, p := range sig.Params() {
		fmt.Println(p.In, p.Name, p.Type, p.Required)
	}
	fmt.Println(sig.StatusCode(), sig.MediaType(), sig.Static(), http.StatusText(sig.Returns[1].Status))
	// Output:
	// path id int true
	// query limit int false
	// header X-Token string true
	// 200 application/json false Unprocessable Entity
}
