package msgpack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/msgpack"
	"github.com/graftgo/graft/openapi"
	lib "github.com/vmihailenco/msgpack/v5"
)

// Typed endpoints through the msgpack body codec: what the root package's
// tests check for JSON bodies, in msgpack.

type user struct {
	Name  string   `json:"name" msgpack:"name" required:"true" minLength:"2" maxLength:"20"`
	Age   int      `json:"age" msgpack:"age" min:"0" max:"150"`
	Email string   `json:"email,omitempty" msgpack:"email" format:"email"`
	Tags  []string `json:"tags,omitempty" msgpack:"tags" maxLength:"3"`
}

type createIn struct {
	ID    int    `path:"id" min:"1"`
	Token string `header:"X-Token"`
	Body  user
}

type createOut struct {
	Status int `default:"201"`
	Body   struct {
		ID   int  `json:"id"`
		User user `json:"user"`
	}
}

func createUser(_ context.Context, in *createIn) (*createOut, error) {
	out := &createOut{}
	out.Body.ID, out.Body.User = in.ID, in.Body
	return out, nil
}

func TestEndpointMsgpack(t *testing.T) {
	app := withMsgpack(graft.New(graft.Config{}))
	graft.Post(app, "/users/{id}", createUser)
	srv := server(t, app)
	// Only the fields sent: an explicit "" for email would be a sent
	// value, checked (and refused) as in JSON.
	in := mustMarshal(map[string]any{"name": "Ada", "age": 36})
	r := do(t, srv, "POST", "/users/9", msgpack.MediaType, string(in), "Accept", "application/json;q=0.5, application/msgpack", "X-Token", "abc")
	if r.status != 201 || r.header.Get("Content-Type") != msgpack.MediaType {
		t.Fatalf("%d %s %q", r.status, r.header.Get("Content-Type"), r.body)
	}
	var out struct {
		ID   int  `msgpack:"id"`
		User user `msgpack:"user"`
	}
	if err := lib.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatal(err)
	}
	if out.ID != 9 || out.User.Name != "Ada" || out.User.Age != 36 {
		t.Errorf("decoded %+v", out)
	}
	// Constraints and presence apply as to JSON bodies; path params join
	// the same 422.
	r = do(t, srv, "POST", "/users/0", "application/x-msgpack", string(mustMarshal(map[string]any{"name": "A", "age": 200, "email": ""})))
	if got, want := fields(t, r.body), []string{"body.age", "body.email", "body.name", "path.id"}; r.status != 422 || !slices.Equal(got, want) {
		t.Errorf("%d %v, want 422 %v: %s", r.status, got, want, r.body)
	}
}

// TestAnswerCodecLikeRender: a typed endpoint chooses its answer's media
// type by Ctx.Render's rules (q-values, wildcards, the first registered on
// a tie, 406 when nothing registered is acceptable), so both answer every
// Accept header alike.
func TestAnswerCodecLikeRender(t *testing.T) {
	app := withMsgpack(graft.New(graft.Config{}))
	type out struct{ Body map[string]int }
	graft.Get(app, "/typed", func(context.Context, *struct{}) (*out, error) { return &out{Body: map[string]int{"a": 1}}, nil })
	app.GET("/render", func(c *graft.Ctx) error { return c.Render(200, map[string]int{"a": 1}) })
	srv := server(t, app)
	const js, mp = "application/json", msgpack.MediaType
	for accept, want := range map[string]string{
		"":                                      js,
		"*/*":                                   js,
		"application/*":                         js,
		"application/msgpack":                   mp,
		"text/html, application/msgpack":        mp,
		"application/json, application/msgpack": js,
		"application/msgpack, application/json": mp,
		"application/json;q=0.2, application/x-msgpack;q=0.9": mp,
		"application/msgpack;q=0, */*;q=0.1":                  js,
		"application/msgpack;q=0":                             "406",
		"*/*;q=0.5, application/json;q=0":                     mp,
		"application/json;q=0, application/*":                 mp,
		"text/html":                                           "406",
	} {
		for _, path := range []string{"/typed", "/render"} {
			if path == "/render" && strings.Contains(accept, "x-msgpack") {
				continue // the aliases are typed endpoints' own
			}
			r := do(t, srv, "GET", path, "", "", "Accept", accept)
			got := r.header.Get("Content-Type")
			if r.status == 406 {
				got = "406"
			}
			if got != want {
				t.Errorf("GET %s, Accept %q: %d %s, want %s", path, accept, r.status, got, want)
			}
		}
	}
}

type conflict struct {
	Current int    `json:"current"`
	Reason  string `json:"reason"`
}

// A declared outcome is encoded like Out's body: msgpack by Accept.
func TestOutcomeMsgpack(t *testing.T) {
	app := withMsgpack(graft.New(graft.Config{}))
	graft.Put(app, "/items/{id}", func(context.Context, *struct {
		ID int `path:"id"`
	}) (*struct{ Body user }, error) {
		return nil, graft.Respond(http.StatusConflict, conflict{Current: 7, Reason: "changed"})
	}, graft.Responds[conflict](http.StatusConflict, "the item changed"))
	srv := server(t, app)
	r := do(t, srv, "PUT", "/items/9", "application/json", `{"name":"pen"}`, "Accept", msgpack.MediaType)
	var c conflict
	if r.status != 409 || r.header.Get("Content-Type") != msgpack.MediaType || msgpack.Unmarshal([]byte(r.body), &c) != nil || c != (conflict{7, "changed"}) {
		t.Errorf("msgpack outcome: %d %q %x", r.status, r.header.Get("Content-Type"), r.body)
	}
}

func TestEndpointMapsAndArraysMsgpack(t *testing.T) {
	// msgpack bodies are validated from the decoded value: map values and
	// array elements too, at the same locations as JSON's.
	app := withMsgpack(graft.New(graft.Config{}))
	graft.Post(app, "/m", func(context.Context, *mapsIn) (*struct{ Status int }, error) {
		return &struct{ Status int }{Status: 204}, nil
	})
	srv := server(t, app)
	var in mapsIn
	in.Body.Items = map[string]valItem{"a": {Qty: 0, Name: "pen"}, "b": {Qty: 5, Name: "X"}}
	in.Body.Arr = [3]valItem{{Qty: 1, Name: "a"}, {Qty: -4, Name: "b"}, {Qty: 3, Name: "c"}}
	in.Body.Tags = map[string]string{"x": "ok", "y": "NO"}
	b, err := msgpack.Marshal(&in.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := do(t, srv, "POST", "/m", msgpack.MediaType, string(b))
	want := []string{"body.arr[1].qty", "body.items.a.qty", "body.items.b.name", "body.tags.y"}
	if got := fields(t, r.body); r.status != 422 || !slices.Equal(got, want) {
		t.Errorf("status %d, fields %v, want 422 %v: %s", r.status, got, want, r.body)
	}
}

// startWithin registers a POST /r endpoint taking Body B on an app with
// the msgpack codec and starts it (the codec compiles the type then),
// failing the test if that has not finished within 20 s.
func startWithin[B any](t *testing.T) *graft.App[graft.Ctx] {
	t.Helper()
	app := withMsgpack(graft.New(graft.Config{}))
	done := make(chan error, 1)
	go func() {
		graft.Post(app, "/r", func(_ context.Context, in *struct{ Body B }) (*struct{}, error) {
			return &struct{}{}, nil
		})
		done <- app.Start(context.Background())
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("start-up with a recursive Body %s did not finish within 20s (compiling its msgpack plans)", reflect.TypeFor[B]())
	}
	t.Cleanup(func() { app.Stop(context.Background()) })
	return app
}

func TestRecursiveBodyMsgpack(t *testing.T) {
	t.Run("binary", func(t *testing.T) { startWithin[recBin](t) })
	t.Run("ternary", func(t *testing.T) { startWithin[recTern](t) })
	t.Run("children slice", func(t *testing.T) { startWithin[recKids](t) })
	t.Run("map", func(t *testing.T) { startWithin[recMap](t) })
	t.Run("mutual", func(t *testing.T) { startWithin[recMutA](t) })
	t.Run("embedded", func(t *testing.T) { startWithin[RecEmbed](t) })
	t.Run("binary, 50 levels", func(t *testing.T) {
		srv := server(t, startWithin[recBin](t))
		body := `{"name":""}`
		for range 49 {
			body = `{"name":"n","right":{"name":"r"},"left":` + body + `}`
		}
		var doc any
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatal(err)
		}
		r := do(t, srv, "POST", "/r", msgpack.MediaType, string(mustMarshal(doc)))
		if got := fields(t, r.body); r.status != 422 || !slices.Equal(got, []string{"body" + strings.Repeat(".left", 49) + ".name"}) {
			t.Errorf("status %d, fields %q", r.status, got)
		}
	})
}

// A child extension that wraps the msgpack encoder reaches typed
// endpoint outputs too (one response path), in its scope only.
func TestWrappedMsgpackEncoderReachesTypedOutputs(t *testing.T) {
	app := withMsgpack(graft.New(graft.Config{}))
	g := app.Group("/v1")
	g.Register(graft.ExtensionFunc("t.envelope", func(b *graft.Builder) error {
		return b.WrapEncoder(msgpack.MediaType, func(inner graft.EncodeFunc) graft.EncodeFunc {
			return func(v any) ([]byte, error) { return inner(map[string]any{"data": v}) }
		})
	}))
	type out struct{ Body map[string]int }
	h := func(context.Context, *struct{}) (*out, error) { return &out{Body: map[string]int{"a": 1}}, nil }
	graft.Get(app, "/x", h)
	graft.Get(g, "/x", h)
	srv := server(t, app)
	for path, want := range map[string]any{
		"/x":    map[string]any{"a": int8(1)},
		"/v1/x": map[string]any{"data": map[string]any{"a": int8(1)}},
	} {
		r := do(t, srv, "GET", path, "", "", "Accept", msgpack.MediaType)
		var got any
		if err := lib.Unmarshal([]byte(r.body), &got); err != nil || r.status != 200 || r.header.Get("Content-Type") != msgpack.MediaType || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %d %s %#v %v, want %#v", path, r.status, r.header.Get("Content-Type"), got, err, want)
		}
	}
}

// The OpenAPI document lists msgpack request bodies where the codec is
// registered, with the JSON body's schema.
func TestOpenAPIMsgpackBody(t *testing.T) {
	app := graft.New(graft.Config{})
	doc := openapi.Extension(openapi.Info{Title: "t", Version: "1"})
	app.Register(doc)
	mp := app.Group("/mp")
	mp.Register(msgpack.Extension())
	graft.Post(app, "/users/{id}", createUser)
	graft.Post(mp, "/users/{id}", createUser)
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	var d struct {
		Paths map[string]map[string]struct {
			RequestBody struct {
				Content map[string]struct {
					Schema any `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(doc.JSON(), &d); err != nil {
		t.Fatal(err)
	}
	plain := d.Paths["/users/{id}"]["post"].RequestBody.Content
	inMp := d.Paths["/mp/users/{id}"]["post"].RequestBody.Content
	if _, ok := plain[msgpack.MediaType]; ok || len(plain) != 1 {
		t.Errorf("outside the codec's scope: %v", plain)
	}
	if m, ok := inMp[msgpack.MediaType]; !ok || !reflect.DeepEqual(m.Schema, inMp["application/json"].Schema) {
		t.Errorf("inside the codec's scope: %v", inMp)
	}
}

// Ctx is an app context with the Msgpack response method beside a mixin
// of another extension.
type mixCtx struct {
	graft.Ctx
	msgpack.Responder
	tokenReader
}

// tokenReader is a third-party mixin (socketify's get_user).
type tokenReader struct{ graft.Mixin }

func (u *tokenReader) User() string {
	if u.Ctx().Header("token") != "" {
		return "Test"
	}
	return "Anonymous"
}

func TestResponderBesideOtherMixins(t *testing.T) {
	app := graft.NewWithContext[mixCtx](graft.Config{RequestPoolMaxItems: 1})
	app.Register(msgpack.Extension())
	app.GET("/mp", func(c *mixCtx) error { return c.Msgpack(map[string]string{"name": c.User()}) })
	srv := server(t, app)
	for i, tok := range []string{"x", "", "y"} { // one pooled context, reused
		r := do(t, srv, "GET", "/mp", "", "", "token", tok)
		var m map[string]string
		want := map[bool]string{true: "Test", false: "Anonymous"}[tok != ""]
		if err := msgpack.Unmarshal([]byte(r.body), &m); err != nil || r.status != 200 || r.header.Get("Content-Type") != msgpack.MediaType || m["name"] != want {
			t.Fatalf("request %d: %d %s %v %v", i, r.status, r.header.Get("Content-Type"), m, err)
		}
	}
	if s := app.PoolStats(); s.Created != 1 {
		t.Errorf("sequential requests made %d contexts, want 1 (reuse)", s.Created)
	}
}

// BenchmarkEndpointMsgpack is the root package's BenchmarkEndpoint/graft
// with the body and the answer in msgpack.
func BenchmarkEndpointMsgpack(b *testing.B) {
	app := withMsgpack(graft.New(graft.Config{}))
	graft.Post(app, "/users/{id}", benchHandler)
	if err := app.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer app.Stop(context.Background())
	in := string(mustMarshal(map[string]any{"name": "Ada Lovelace", "age": 36}))
	var out benchOut
	out.Body.ID, out.Body.Limit, out.Body.Name, out.Body.Age = 42, 10, "Ada Lovelace", 36
	want, _ := msgpack.Marshal(&out.Body)
	w := &nopWriter{h: http.Header{}}
	body := strings.NewReader(in)
	r := httptest.NewRequest("POST", "/users/42?limit=10", body)
	r.Header.Set("Content-Type", msgpack.MediaType)
	r.Header.Set("Accept", msgpack.MediaType)
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, r)
	if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), want) {
		b.Fatalf("%d %x", rec.Code, rec.Body)
	}
	b.ReportAllocs()
	for b.Loop() {
		body.Reset(in)
		r.Body = readCloser{body}
		app.ServeHTTP(w, r)
	}
}
