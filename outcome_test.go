package graft

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/graftgo/graft/di"
)

type item struct {
	ID      int    `json:"id"`
	Name    string `json:"name"`
	Version int    `json:"version"`
}

type conflict struct {
	Current int    `json:"current"`
	Reason  string `json:"reason"`
}

type teapot struct{ Brew string }

type updateIn struct {
	ID   int `path:"id"`
	Body struct {
		Name    string `json:"name"`
		Version int    `json:"version"`
	}
}

type updateOut struct{ Body item }

// update answers each of its declared outcomes, and two it does not
// declare, by the item's id.
func update(_ context.Context, in *updateIn) (*updateOut, error) {
	switch in.ID {
	case 1:
		return &updateOut{Body: item{ID: 1, Name: in.Body.Name, Version: in.Body.Version + 1}}, nil
	case 2:
		r := Respond(http.StatusConflict, conflict{Current: 7, Reason: "changed"})
		r.Header = http.Header{"Etag": {`"v7"`}}
		return nil, r
	case 3:
		return nil, NewError(http.StatusNotFound, "no item 3")
	case 4:
		return nil, fmt.Errorf("wrapped: %w", Respond(http.StatusTeapot, teapot{Brew: "earl grey"}))
	case 5:
		return nil, Respond(http.StatusConflict, "a string, not a conflict")
	case 6:
		return nil, Respond(http.StatusServiceUnavailable, "<p>down</p>")
	}
	return nil, Respond(http.StatusConflict, conflict{Current: in.ID})
}

func outcomeApp(t *testing.T) (*App[Ctx], *syncBuffer, *Route) {
	app, logs := newApp(t, Config{})
	ri := Put(app, "/items/{id}", update,
		Responds[conflict](http.StatusConflict, "the item changed since it was read"),
		Responds[Problem](http.StatusNotFound, ""),
		RespondsAs[string](http.StatusServiceUnavailable, "text/html; charset=utf-8", "maintenance page"))
	return app, logs, ri
}

func TestOutcomes(t *testing.T) {
	app, logs, _ := outcomeApp(t)
	srv := epServer(t, app)
	body := `{"name":"pen","version":1}`
	cases := []struct {
		id     int
		status int
		ctype  string
		body   string
	}{
		{1, 200, mediaJSON, `{"id":1,"name":"pen","version":2}`},
		{2, 409, mediaJSON, `{"current":7,"reason":"changed"}`},
		{3, 404, mediaProblem, `"detail":"no item 3"`},
		{4, 500, mediaProblem, `"status":500`},
		{5, 500, mediaProblem, `"status":500`},
		{6, 503, "text/html; charset=utf-8", `<p>down</p>`},
	}
	for _, tc := range cases {
		r := epDo(t, srv, "PUT", "/items/"+fmt.Sprint(tc.id), mediaJSON, body)
		if r.status != tc.status || r.header.Get("Content-Type") != tc.ctype || !strings.Contains(r.body, tc.body) {
			t.Errorf("item %d: %d %q %s", tc.id, r.status, r.header.Get("Content-Type"), r.body)
		}
		if tc.id == 2 && r.header.Get("ETag") != `"v7"` {
			t.Errorf("the outcome's header is missing: %v", r.header)
		}
	}
	// Undeclared outcomes are logged with the endpoint and what to declare.
	l := logs.String()
	for _, want := range []string{
		"answered 418 with a graft.teapot body, which it does not declare; add graft.Responds[graft.teapot](418",
		"answered 409 with a string body, which it does not declare",
	} {
		if !strings.Contains(l, want) || !strings.Contains(l, "route=/items/{id}") {
			t.Errorf("log lacks %q:\n%s", want, l)
		}
	}
	// (A declared outcome is encoded like Out's body, in a body codec by
	// Accept: ext/msgpack's TestOutcomeMsgpack.)
	// The pooled Ctx does not carry the outcome's header to the next answer.
	if r := epDo(t, srv, "PUT", "/items/1", mediaJSON, body); r.header.Get("ETag") != "" {
		t.Errorf("header leaked into the next request: %v", r.header)
	}
}

func TestOutcomesSignature(t *testing.T) {
	app, _, ri := outcomeApp(t)
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	type ret struct {
		status int
		typ    reflect.Type
		media  string
		enc    string
		desc   string
	}
	var got []ret
	for _, r := range SignatureOf(ri).Returns {
		got = append(got, ret{r.Status, r.Type, r.MediaType, r.Encoder, r.Description})
	}
	problem := reflect.TypeFor[Problem]()
	want := []ret{
		{200, reflect.TypeFor[item](), mediaJSON, "json", "OK"},
		{422, problem, mediaProblem, "problem", "a request field is missing or invalid"},
		{400, problem, mediaProblem, "problem", "the request body is malformed"},
		{413, problem, mediaProblem, "problem", "the request body is over the limit"},
		{415, problem, mediaProblem, "problem", "the request body's media type is not accepted"},
		{409, reflect.TypeFor[conflict](), mediaJSON, "json", "the item changed since it was read"},
		{404, problem, mediaProblem, "problem", "Not Found"},
		{503, reflect.TypeFor[string](), "text/html; charset=utf-8", "raw", "maintenance page"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("returns\n got %v\nwant %v", got, want)
	}
}

// Outcomes declared on a group apply to its endpoints; an endpoint's own
// declaration of the status replaces the group's.
func TestOutcomesGroup(t *testing.T) {
	app := New(Config{})
	g := app.Group("/api", Responds[conflict](http.StatusConflict, "group"), Responds[teapot](http.StatusTeapot, ""))
	h := func(context.Context, *struct{}) (*okOut, error) {
		return nil, Respond(http.StatusConflict, "endpoint's own")
	}
	own := Get(g, "/own", h, Responds[string](http.StatusConflict, "endpoint"))
	inherit := Get(g, "/inherit", func(context.Context, *struct{}) (*okOut, error) {
		return nil, Respond(http.StatusTeapot, teapot{Brew: "green"})
	})
	srv := epServer(t, app)
	if r := epDo(t, srv, "GET", "/api/own", "", ""); r.status != 409 || r.body != "endpoint's own" {
		t.Errorf("own: %d %s", r.status, r.body)
	}
	if r := epDo(t, srv, "GET", "/api/inherit", "", ""); r.status != 418 || r.body != `{"Brew":"green"}`+"\n" {
		t.Errorf("inherit: %d %s", r.status, r.body)
	}
	desc := func(ri *Route, status int) string {
		s := SignatureOf(ri)
		return s.Returns[s.returnIndex(status)].Description
	}
	if d := desc(own, 409); d != "endpoint" {
		t.Errorf("own 409: %q", d)
	}
	if d := desc(inherit, 409); d != "group" {
		t.Errorf("inherited 409: %q", d)
	}
}

// A bodiless outcome: Responds[NoContent] answers the status alone, and the
// signature lists it without a media type.
func TestOutcomeNoContent(t *testing.T) {
	app := New(Config{})
	ri := Get(app, "/items/{id}", func(_ context.Context, in *struct {
		ID int `path:"id"`
	}) (*okOut, error) {
		if in.ID == 1 {
			r := Respond(http.StatusNotModified, NoContent{})
			r.Header = http.Header{"Etag": {`"1"`}}
			return nil, r
		}
		return &okOut{Body: "item"}, nil
	}, Responds[NoContent](http.StatusNotModified, "unchanged since If-None-Match"))
	srv := epServer(t, app)
	if r := epDo(t, srv, "GET", "/items/1", "", ""); r.status != 304 || r.body != "" || r.header.Get("ETag") != `"1"` {
		t.Errorf("%d %q %v", r.status, r.body, r.header)
	}
	if r := epDo(t, srv, "GET", "/items/2", "", ""); r.status != 200 || r.body != "item" {
		t.Errorf("%d %q", r.status, r.body)
	}
	s := SignatureOf(ri)
	want := Return{Status: 304, Type: reflect.TypeFor[NoContent](), Description: "unchanged since If-None-Match"}
	if got := s.Returns[s.returnIndex(304)]; !reflect.DeepEqual(got, want) {
		t.Errorf("304 return %+v", got)
	}
}

// A plugin that adds a return with a body type may answer it with Respond.
func TestOutcomeFromPlugin(t *testing.T) {
	app := New(Config{})
	deny := PluginFunc(func(_ *di.Graph, next Endpoint, sig *Signature) (Endpoint, error) {
		sig.AddReturn(Return{Status: http.StatusUnauthorized, Type: reflect.TypeFor[Problem](), MediaType: mediaProblem, Encoder: "problem"})
		return func(ctx context.Context, c *Ctx, in any) (any, error) {
			if c.Header("Authorization") == "" {
				return nil, Respond(http.StatusUnauthorized, Problem{Type: "about:blank", Title: "Unauthorized", Status: 401, Detail: "log in"})
			}
			return next(ctx, c, in)
		}, nil
	})
	Get(app, "/me", func(context.Context, *struct{}) (*okOut, error) { return &okOut{Body: "me"}, nil }, Plugins(deny))
	srv := epServer(t, app)
	r := epDo(t, srv, "GET", "/me", "", "")
	var p Problem
	if r.status != 401 || r.header.Get("Content-Type") != mediaProblem || json.Unmarshal([]byte(r.body), &p) != nil || p.Detail != "log in" {
		t.Errorf("%d %q %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	if r := epDo(t, srv, "GET", "/me", "", "", "Authorization", "x"); r.status != 200 || r.body != "me" {
		t.Errorf("%d %s", r.status, r.body)
	}
}

func TestOutcomeSetupMistakes(t *testing.T) {
	h := func(context.Context, *updateIn) (*updateOut, error) { return nil, nil }
	cases := []struct {
		name string
		opts []Option
		want []string
	}{
		{"twice", []Option{Responds[conflict](409, ""), Responds[string](409, "")}, []string{"PUT /items/{id}", "Responds[string](409)", "declared twice"}},
		{"default", []Option{Responds[conflict](200, "")}, []string{"Responds[graft.conflict](200)", "default status of graft.updateOut"}},
		{"binder", []Option{Responds[conflict](422, "")}, []string{"Responds[graft.conflict](422)", "answers 422 with a graft.Problem itself"}},
		{"status", []Option{Responds[conflict](1000, "")}, []string{"Responds[graft.conflict](1000)", "not an HTTP status"}},
		{"media", []Option{RespondsAs[conflict](409, "text/html", "")}, []string{"Responds[graft.conflict](409)", `not as "text/html"`}},
		{"badmedia", []Option{RespondsAs[string](409, "text/", "")}, []string{"Responds[string](409)", "is not a media type"}},
		{"interface", []Option{Responds[error](409, "")}, []string{"Responds[error](409)", "interface type error"}},
		{"bodyless", []Option{Responds[conflict](304, "")}, []string{"Responds[graft.conflict](304)", "a 304 answer has no body; declare graft.Responds[graft.NoContent](304"}},
		{"nocontentmedia", []Option{RespondsAs[NoContent](204, "text/plain", "")}, []string{"Responds[graft.NoContent](204)", "graft.NoContent has no body"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := New(Config{})
			msg := mustPanic(t, func() { Put(app, "/items/{id}", h, tc.opts...) })
			if !containsAll(msg, tc.want...) {
				t.Errorf("panic %q lacks %q", msg, tc.want)
			}
		})
	}
	g := New(Config{}).Group("/g")
	for _, reg := range []func(){
		func() { g.GET("/plain", text("x"), Responds[conflict](409, "")) },
		func() { g.HandleHTTP("POST", "/std", http.NotFoundHandler(), Responds[conflict](409, "")) },
		func() { g.Mount("/files", http.NotFoundHandler(), Responds[conflict](409, "")) },
	} {
		if msg := mustPanic(t, reg); !containsAll(msg, "/g/", "graft.Responds declares outcomes of typed endpoints") {
			t.Errorf("plain route: %q", msg)
		}
	}
	// The binder's own problem status may be declared as a Problem: it
	// documents it better.
	app := New(Config{})
	ri := Put(app, "/items/{id}", h, Responds[Problem](422, "the item is invalid"))
	if s := SignatureOf(ri); s.Returns[s.returnIndex(422)].Description != "the item is invalid" {
		t.Errorf("422: %+v", s.Returns)
	}
}

func TestResponseError(t *testing.T) {
	var err error = Respond(http.StatusConflict, conflict{Current: 3})
	var r *Response[conflict]
	if !errors.As(err, &r) || r.Body.Current != 3 || err.Error() != "graft: outcome 409 with a graft.conflict body" {
		t.Errorf("%v", err)
	}
}
