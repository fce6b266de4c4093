package graft

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/graftgo/graft/di"
)

// The endpoint: a path param, a query param and a 2-field JSON body
// with validation, answering JSON; typed graft against the same work
// written by hand on net/http with encoding/json.

type benchBody struct {
	Name string `json:"name" required:"true" minLength:"2" maxLength:"50"`
	Age  int    `json:"age" min:"0" max:"150"`
}

type benchIn struct {
	ID    int `path:"id" min:"1"`
	Limit int `query:"limit" max:"100"`
	Body  benchBody
}

type benchOut struct {
	Body struct {
		ID    int    `json:"id"`
		Limit int    `json:"limit"`
		Name  string `json:"name"`
		Age   int    `json:"age"`
	}
}

func benchHandler(_ context.Context, in *benchIn) (*benchOut, error) {
	out := &benchOut{}
	out.Body.ID, out.Body.Limit, out.Body.Name, out.Body.Age = in.ID, in.Limit, in.Body.Name, in.Body.Age
	return out, nil
}

// handWritten is what the same endpoint costs without a framework.
func handWritten(w http.ResponseWriter, r *http.Request) {
	var errs []FieldError
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil || id < 1 {
		errs = append(errs, FieldError{Location: "path.id", Message: "must be an integer >= 1"})
	}
	limit := 0
	if s := r.URL.Query().Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit > 100 {
			errs = append(errs, FieldError{Location: "query.limit", Message: "must be an integer <= 100"})
		}
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && ct != "application/json" {
		http.Error(w, "unsupported media type", http.StatusUnsupportedMediaType)
		return
	}
	var body benchBody
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	if n := utf8.RuneCountInString(body.Name); n < 2 || n > 50 {
		errs = append(errs, FieldError{Location: "body.name", Message: "length must be 2..50"})
	}
	if body.Age < 0 || body.Age > 150 {
		errs = append(errs, FieldError{Location: "body.age", Message: "must be 0..150"})
	}
	if len(errs) > 0 {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		_ = json.NewEncoder(w).Encode(Problem{Status: 422, Errors: errs})
		return
	}
	var out benchOut
	out.Body.ID, out.Body.Limit, out.Body.Name, out.Body.Age = id, limit, body.Name, body.Age
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(&out.Body)
}

const benchJSON = `{"name":"Ada Lovelace","age":36}`

func benchRun(b *testing.B, h http.Handler, want string) {
	benchRunAs(b, h, "application/json", benchJSON, want)
}

// benchRunAs serves the body in the media type ct, answered in the same.
func benchRunAs(b *testing.B, h http.Handler, ct, in, want string) {
	w := &nopWriter{h: http.Header{}}
	body := strings.NewReader(in)
	r := httptest.NewRequest("POST", "/users/42?limit=10", body)
	r.Header.Set("Content-Type", ct)
	r.Header.Set("Accept", ct)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 200 || rec.Body.String() != want {
		b.Fatalf("%d %s", rec.Code, rec.Body)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		body.Reset(in)
		r.Body = readCloser{body}
		h.ServeHTTP(w, r)
	}
}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

const benchWant = `{"id":42,"limit":10,"name":"Ada Lovelace","age":36}` + "\n"

func BenchmarkEndpoint(b *testing.B) {
	b.Run("graft", func(b *testing.B) {
		app := New(Config{})
		Post(app, "/users/{id}", benchHandler)
		if err := app.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		defer app.Stop(context.Background())
		benchRun(b, app, benchWant)
	})
	b.Run("nethttp", func(b *testing.B) {
		mux := http.NewServeMux()
		mux.HandleFunc("POST /users/{id}", handWritten)
		benchRun(b, mux, benchWant)
	})
}

func TestEndpointBenchEquivalent(t *testing.T) {
	// The two handlers of the benchmark reject the same bad input.
	app := New(Config{})
	Post(app, "/users/{id}", benchHandler)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /users/{id}", handWritten)
	for _, h := range []http.Handler{app, mux} {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest("POST", "/users/0?limit=500", strings.NewReader(`{"name":"A","age":200}`))
		h.ServeHTTP(rec, r)
		if rec.Code != 422 || strings.Count(rec.Body.String(), `"location"`) != 4 {
			t.Errorf("%T: %d %s", h, rec.Code, rec.Body)
		}
	}
}

// BenchmarkScopedChain serves an endpoint that injects the end of a 3-deep
// scoped chain; "static" is the same request without dependencies, so the
// difference is the cost of the scope and the chain.
func BenchmarkScopedChain(b *testing.B) {
	type out struct{ Status int }
	res := &out{Status: 204}
	run := func(b *testing.B, app *App[Ctx]) {
		if err := app.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		defer app.Stop(context.Background())
		w := &nopWriter{h: http.Header{}}
		r := httptest.NewRequest("GET", "/chain", nil)
		b.ReportAllocs()
		for b.Loop() {
			app.ServeHTTP(w, r)
		}
	}
	b.Run("chain", func(b *testing.B) {
		app := New(Config{})
		g := app.Graph()
		di.Provide(g, di.Scoped, di.Func0(func() (*chainA, error) { return &chainA{n: 1}, nil }))
		di.Provide(g, di.Scoped, di.Func1(func(a *chainA) (*chainB, error) { return &chainB{a: a}, nil }))
		di.Provide(g, di.Scoped, di.Func1(func(b *chainB) (*chainC, error) { return &chainC{b: b}, nil }))
		type in struct {
			C *chainC `inject:""`
		}
		Get(app, "/chain", func(context.Context, *in) (*out, error) { return res, nil })
		run(b, app)
	})
	b.Run("static", func(b *testing.B) {
		app := New(Config{})
		Get(app, "/chain", func(context.Context, *struct{}) (*out, error) { return res, nil })
		run(b, app)
	})
}

// BenchmarkFieldErrorsBySize answers 422 for bodies of n failing items;
// ns/op divided by n stays flat when the work is linear in the body.
func BenchmarkFieldErrorsBySize(b *testing.B) {
	app := New(Config{})
	Post(app, "/tags", func(_ context.Context, in *tagsIn) (*struct{}, error) { return &struct{}{}, nil })
	for _, n := range []int{1 << 10, 8 << 10, 64 << 10} {
		for _, elem := range []string{"1", `"A"`} {
			body := tagsBody(n, elem)
			b.Run(fmt.Sprintf("items=%d/elem=%s", n, strings.Trim(elem, `"`)), func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					w := &discardWriter{h: http.Header{}}
					r, _ := http.NewRequest("POST", "/tags", strings.NewReader(body))
					r.Header.Set("Content-Type", "application/json")
					app.ServeHTTP(w, r)
				}
			})
		}
	}
}
