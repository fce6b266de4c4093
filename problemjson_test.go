package graft

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// problemStrings are strings every escape of encoding/json applies to.
var problemStrings = []string{
	"", "plain", `quote " and \ backslash`, "<script>&amp;</script>",
	"ctl \b\f\n\r\t \x00\x01\x1f\x7f", "héllo wörld ✓ 😀", "bad \xff utf-8 \xc3",
	"sep \u2028 and \u2029", "\xe2\x80", strings.Repeat("long ", 100),
}

// TestAppendProblemMatchesEncodingJSON pins that the problem documents
// graft writes itself are the bytes json.Marshal writes, for every escape,
// omitted field and value type appendProblem handles.
func TestAppendProblemMatchesEncodingJSON(t *testing.T) {
	values := []any{nil, 0, -7, int8(-8), int16(16), int32(-32), int64(math.MinInt64), uint(7),
		uint8(8), uint16(16), uint32(32), uint64(math.MaxUint64), 0.0, 1.5, -2.25e-7, 1e21, 123456789.0,
		float32(0.1), float32(3e-7), true, false, []string{"a", "<b>"}, []string(nil), []string{}}
	var probs []Problem
	for _, s := range problemStrings {
		probs = append(probs, Problem{Type: s, Title: s, Status: 400, Detail: s, Instance: s},
			Problem{Type: "about:blank", Title: "Unprocessable Entity", Status: 422,
				Errors: []FieldError{{Location: s, Message: s, Value: s}}, ErrorsTruncated: true})
	}
	var fes []FieldError
	for _, v := range values {
		fes = append(fes, FieldError{Location: "body.x", Message: "must be <= 1", Value: v})
	}
	probs = append(probs, Problem{Status: 422, Errors: fes}, Problem{}, Problem{Errors: []FieldError{}})
	for _, p := range probs {
		want, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendProblem(nil, &p)
		if !ok || !bytes.Equal(got, want) {
			t.Errorf("appendProblem(%+v) = %s (ok %v)\nencoding/json: %s", p, got, ok, want)
		}
	}
}

// TestAppendProblemFallsBack checks that a value appendProblem does not
// write itself (a struct, a named type with its own encoding, a float
// encoding/json refuses) makes it say so, and that WriteProblem then
// answers what encoding/json writes, or 500 for what it refuses.
func TestAppendProblemFallsBack(t *testing.T) {
	type point struct{ X, Y int }
	for _, v := range []any{point{1, 2}, json.Number("12"), map[string]int{"a": 1}, math.NaN(), math.Inf(1)} {
		p := Problem{Status: 422, Errors: []FieldError{{Location: "body.p", Message: "bad", Value: v}}}
		if _, ok := appendProblem(nil, &p); ok {
			t.Errorf("appendProblem wrote the value %#v itself", v)
		}
		he := &HTTPError{Status: 422, Errors: p.Errors}
		rec := httptest.NewRecorder()
		WriteProblem(rec, he, "/x")
		want, err := json.Marshal(he.Problem("/x"))
		switch {
		case err != nil:
			if rec.Code != http.StatusInternalServerError {
				t.Errorf("value %#v that encoding/json refuses: status %d, want 500", v, rec.Code)
			}
		case rec.Code != 422 || rec.Body.String() != string(want):
			t.Errorf("value %#v: %d %s, want 422 %s", v, rec.Code, rec.Body, want)
		}
	}
}

// TestWriteProblemHeaders checks the headers of a problem answer: the
// media type, nosniff, no stale Content-Length, and the error's own.
func TestWriteProblemHeaders(t *testing.T) {
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Length", "99")
	WriteProblem(rec, &HTTPError{Status: 405, Header: http.Header{"Allow": {"GET"}}}, "/p")
	h := rec.Header()
	if h.Get("Content-Type") != "application/problem+json" || h.Get("X-Content-Type-Options") != "nosniff" ||
		h.Get("Content-Length") != "" || h.Get("Allow") != "GET" {
		t.Errorf("headers %v", h)
	}
	if want := `{"type":"about:blank","title":"Method Not Allowed","status":405,"instance":"/p"}`; rec.Body.String() != want {
		t.Errorf("body %s, want %s", rec.Body, want)
	}
}

// TestAsHTTPErrorWrapped checks that AsHTTPError finds an *HTTPError
// behind wrapping, as well as itself.
func TestAsHTTPErrorWrapped(t *testing.T) {
	he := &HTTPError{Status: 409}
	if AsHTTPError(he) != he || AsHTTPError(errors.Join(errors.New("x"), he)) != he {
		t.Error("AsHTTPError did not return the *HTTPError itself")
	}
	if got := AsHTTPError(errors.New("boom")); got.Status != 500 {
		t.Errorf("plain error: status %d, want 500", got.Status)
	}
}

type allocs422Body struct {
	Name string `json:"name" required:"true" minLength:"1" maxLength:"50"`
	Age  int    `json:"age" min:"0" max:"150"`
}

type allocs422In struct {
	ID    int `path:"id" min:"1"`
	Limit int `query:"limit" default:"10" min:"1" max:"100"`
	Body  allocs422Body
}

// TestAllocs422 pins the allocations of a 422 listing three failing fields
// from three sources (the bench module's BenchmarkEndpoint422): the error,
// its list (one allocation for up to four), the boxed values, the decoded
// name and the request state; the problem document is written into a
// pooled buffer without encoding/json, and its headers are shared values.
func TestAllocs422(t *testing.T) {
	app := New(Config{Logger: discardLogger()})
	Post(app, "/users/{id}", func(_ context.Context, in *allocs422In) (*struct{}, error) { return nil, nil })
	payload := []byte(`{"name":"Ada Lovelace","age":200}`)
	r := httptest.NewRequest(http.MethodPost, "/users/0?limit=500", nil)
	r.Header.Set("Content-Type", "application/json")
	br := &rewindBody{}
	w := &recordWriter{h: http.Header{}}
	serve := func() {
		br.Reset(payload)
		r.Body = br
		w.buf.Reset()
		app.ServeHTTP(w, r)
	}
	serve()
	want := `{"type":"about:blank","title":"Unprocessable Entity","status":422,"detail":"the request has invalid fields; see errors","instance":"/users/0","errors":[{"location":"path.id","message":"must be at least 1","value":0},{"location":"query.limit","message":"must be at most 100","value":500},{"location":"body.age","message":"must be at most 150","value":200}]}`
	if w.status != 422 || w.buf.String() != want {
		t.Fatalf("%d %s, want 422 %s", w.status, w.buf.String(), want)
	}
	if raceEnabled {
		t.Skip("allocation counts rely on pools, which the race detector empties at random")
	}
	if n := testing.AllocsPerRun(200, serve); n > 7 {
		t.Errorf("422 with three failing fields: %v allocs, want at most 7", n)
	}
}

// recordWriter keeps the status and body of the last answer, reusing its
// header map and buffer.
type recordWriter struct {
	h      http.Header
	status int
	buf    bytes.Buffer
}

func (w *recordWriter) Header() http.Header         { return w.h }
func (w *recordWriter) Write(b []byte) (int, error) { return w.buf.Write(b) }
func (w *recordWriter) WriteHeader(s int)           { w.status = s }
