package graft

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

type appCtxT struct {
	Ctx
}

type injectCtxIn struct {
	ID  string          `path:"id"`
	C   *Ctx            `inject:""`
	App *appCtxT        `inject:""`
	R   *http.Request   `inject:""`
	Cx  context.Context `inject:""`
}

// A typed handler takes its request's Ctx (and the app's context type,
// the *http.Request, the context) through inject fields, without a
// dependency scope; FromContext is for standard middleware and gives nil
// here, as documented.
func TestInjectRequestValues(t *testing.T) {
	app := NewWithContext[appCtxT](Config{})
	ri := Get(app, "/items/{id}", func(ctx context.Context, in *injectCtxIn) (*okOut, error) {
		switch {
		case in.C == nil || in.C.RoutePattern() != "/items/{id}" || in.C.Param("id") != in.ID:
			return nil, errors.New("inject *Ctx: not the request's Ctx")
		case in.App == nil || &in.App.Ctx != in.C:
			return nil, errors.New("inject of the app's context type: not the request's")
		case in.R != in.C.Request || in.Cx != in.C.Request.Context() || ctx != in.Cx:
			return nil, errors.New("inject *http.Request / context.Context: not the request's")
		case FromContext(ctx) != nil:
			return nil, errors.New("FromContext in a typed handler: documented to be nil")
		}
		in.C.SetHeader("X-Seen", in.ID)
		return &okOut{Body: in.ID}, nil
	})
	srv := epServer(t, app)
	for _, id := range []string{"1", "2"} {
		if r := epDo(t, srv, "GET", "/items/"+id, "", ""); r.status != 200 || r.body != id || r.header.Get("X-Seen") != id {
			t.Fatalf("GET /items/%s: %d %q %v", id, r.status, r.body, r.header)
		}
	}
	sig := SignatureOf(ri)
	if sig.Scoped || len(sig.Dependencies) != 4 {
		t.Fatalf("scoped %v, dependencies %+v", sig.Scoped, sig.Dependencies)
	}
	for _, d := range sig.Dependencies {
		if !d.RequestBound {
			t.Errorf("dependency %s not marked request-bound", d.Type)
		}
	}
}

// Injecting the Ctx adds no allocation to a typed request.
func TestInjectCtxAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the typed input is pooled and sync.Pool drops items at random under the race detector")
	}
	type plain struct {
		ID string `path:"id"`
	}
	type withCtx struct {
		ID string `path:"id"`
		C  *Ctx   `inject:""`
	}
	res := &struct{ Status int }{Status: 204}
	app := New(Config{})
	Get(app, "/a/{id}", func(context.Context, *plain) (*struct{ Status int }, error) { return res, nil })
	Get(app, "/b/{id}", func(_ context.Context, in *withCtx) (*struct{ Status int }, error) {
		if in.C == nil {
			return nil, errors.New("no Ctx")
		}
		return res, nil
	})
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	w := &nopWriter{h: http.Header{}}
	allocs := func(path string) float64 {
		r := httptest.NewRequest("GET", path, nil)
		app.ServeHTTP(w, r)
		return testing.AllocsPerRun(200, func() { app.ServeHTTP(w, r) })
	}
	if a, b := allocs("/a/1"), allocs("/b/1"); b > a {
		t.Errorf("inject *Ctx: %v allocs per request, without it %v", b, a)
	}
}
