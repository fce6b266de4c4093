package msgpack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/graftgo/graft"
	"github.com/graftgo/graft/ext/msgpack"
)

func mustMarshal(v any) []byte {
	b, err := msgpack.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// result is an answer: status, headers, body.
type result struct {
	status int
	header http.Header
	body   string
}

// do sends a request with the given Content-Type (none when empty) and
// header pairs to srv over a real connection.
func do(t *testing.T, srv *httptest.Server, method, path, ctype, body string, hdr ...string) result {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return result{res.StatusCode, res.Header, string(b)}
}

// server serves app on a real listener, closed when the test ends.
func server(t *testing.T, app http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(app)
	t.Cleanup(srv.Close)
	return srv
}

// fields returns the sorted locations of a problem's field errors.
func fields(t *testing.T, body string) []string {
	t.Helper()
	var p graft.Problem
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("not a problem document: %s", body)
	}
	var locs []string
	for _, e := range p.Errors {
		locs = append(locs, e.Location)
	}
	slices.Sort(locs)
	return locs
}

// nopWriter is a ResponseWriter that keeps nothing, for allocation counts.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

// The endpoint of the root package's BenchmarkEndpoint, in msgpack here.
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

const (
	benchJSON = `{"name":"Ada Lovelace","age":36}`
	benchWant = `{"id":42,"limit":10,"name":"Ada Lovelace","age":36}` + "\n"
)
