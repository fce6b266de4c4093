package graft

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

// Work bounded by input: these tests count work (bytes allocated and
// allocations per request, measured in one run), never time, and compare
// it across input sizes: linear growth passes, anything faster fails.

// allocatedPerRequest serves r() runs times and returns the mean bytes and
// allocations per request, and the last answer.
func allocatedPerRequest(app http.Handler, runs int, r func() *http.Request) (bytes, allocs float64, last *httptest.ResponseRecorder) {
	app.ServeHTTP(httptest.NewRecorder(), r()) // warm: start-up, pools
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range runs {
		last = httptest.NewRecorder()
		app.ServeHTTP(last, r())
	}
	runtime.ReadMemStats(&after)
	return float64(after.TotalAlloc-before.TotalAlloc) / float64(runs), float64(after.Mallocs-before.Mallocs) / float64(runs), last
}

type depthIn struct {
	Body struct {
		Name string `json:"name" required:"true"`
		Any  any    `json:"any"`
	}
}

// TestJSONDepthBombBounded: a body nested past encoding/json's 10 000
// levels is a 400 problem+json naming the depth, whatever its depth; the
// decoder stops at the cap (a body 100 times deeper costs no more than its
// bytes), and an unclosed bomb is a 400 at every depth. Bytes allocated per
// request grow at most linearly with the body: the body buffer and the
// decoder's stack, nothing per level beyond the cap.
func TestJSONDepthBombBounded(t *testing.T) {
	app := New(Config{BodyLimit: 4 << 20})
	Post(app, "/deep", func(_ context.Context, in *depthIn) (*struct{}, error) { return &struct{}{}, nil })
	post := func(body string) func() *http.Request {
		return func() *http.Request {
			r := httptest.NewRequest("POST", "/deep", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			return r
		}
	}
	closed := func(d int) string {
		return `{"name":"x","any":` + strings.Repeat("[", d) + strings.Repeat("]", d) + `}`
	}
	open := func(d int) string { return `{"name":"x","any":` + strings.Repeat("[", d) }

	// Under the cap a deep document binds.
	if _, _, rec := allocatedPerRequest(app, 1, post(closed(1000))); rec.Code != 200 {
		t.Fatalf("depth 1000: %d %s", rec.Code, rec.Body)
	}
	type answer struct {
		status       int
		ctype, title string
		deep         bool
	}
	read := func(rec *httptest.ResponseRecorder) answer {
		var p Problem
		_ = json.Unmarshal(rec.Body.Bytes(), &p)
		return answer{rec.Code, rec.Header().Get("Content-Type"), p.Title, strings.Contains(p.Detail, "depth")}
	}
	var want answer
	var perByte []float64
	for _, d := range []int{20_000, 200_000, 2_000_000} {
		b, _, rec := allocatedPerRequest(app, 3, post(closed(d)))
		got := read(rec)
		if got.status != 400 || got.ctype != "application/problem+json" || !got.deep {
			t.Fatalf("depth %d: %d %s", d, rec.Code, rec.Body)
		}
		if want.status == 0 {
			want = got
		} else if got != want {
			t.Fatalf("depth %d answers %+v, depth 20000 %+v", d, got, want)
		}
		perByte = append(perByte, b/float64(len(closed(d))))
		t.Logf("closed depth %d (%d bytes): %.0f bytes allocated per request, %.2f per body byte", d, len(closed(d)), b, b/float64(len(closed(d))))
	}
	if r := perByte[2] / perByte[0]; r > 2 {
		t.Errorf("bytes allocated per body byte grew ×%.1f from depth 2e4 to 2e6: work past the cap", r)
	}
	for _, d := range []int{1000, 100_000} {
		_, _, rec := allocatedPerRequest(app, 1, post(open(d)))
		if rec.Code != 400 || rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Fatalf("unclosed depth %d: %d %s", d, rec.Code, rec.Body)
		}
	}
}

type manyKeysIn struct {
	Limit int    `query:"limit" max:"100"`
	Token string `header:"X-Token"`
}

// TestManyQueryKeysBounded: a query string is bounded by MaxHeaderBytes
// (64 KiB with the request line and headers; net/http answers 431 past
// it); within it, keys the endpoint does not bind are ignored (200), and
// the work grows at most linearly with their number.
func TestManyQueryKeysBounded(t *testing.T) {
	app := New(Config{})
	Get(app, "/q", func(_ context.Context, in *manyKeysIn) (*struct{ Body int }, error) {
		return &struct{ Body int }{in.Limit}, nil
	})
	query := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "k%d=v&", i)
		}
		return b.String() + "limit=7"
	}
	var per []float64
	for _, n := range []int{100, 1000, 6000} {
		q := query(n)
		b, a, rec := allocatedPerRequest(app, 5, func() *http.Request { return httptest.NewRequest("GET", "/q?"+q, nil) })
		if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != "7" {
			t.Fatalf("%d keys: %d %s", n, rec.Code, rec.Body)
		}
		per = append(per, b/float64(len(q)))
		t.Logf("%d query keys (%d bytes): %.0f bytes, %.0f allocations per request", n, len(q), b, a)
	}
	if r := per[2] / per[0]; r > 3 {
		t.Errorf("bytes allocated per query byte grew ×%.1f from 100 to 6000 keys", r)
	}
}

// TestManyHeadersBounded: headers are bounded by MaxHeaderBytes too; the
// endpoint reads the ones it binds by key, so many others cost nothing per
// header beyond what net/http parsed: the work of binding does not grow
// with their number.
func TestManyHeadersBounded(t *testing.T) {
	app := New(Config{})
	Get(app, "/h", func(_ context.Context, in *manyKeysIn) (*struct{ Body string }, error) {
		return &struct{ Body string }{in.Token}, nil
	})
	req := func(n int) func() *http.Request {
		h := http.Header{}
		for i := range n {
			h[fmt.Sprintf("X-Junk-%d", i)] = []string{"v"}
		}
		h["X-Token"] = []string{"tok"}
		return func() *http.Request {
			r := httptest.NewRequest("GET", "/h", nil)
			r.Header = h
			return r
		}
	}
	var allocs []float64
	for _, n := range []int{10, 1000} {
		_, a, rec := allocatedPerRequest(app, 5, req(n))
		if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != "tok" {
			t.Fatalf("%d headers: %d %s", n, rec.Code, rec.Body)
		}
		allocs = append(allocs, a)
		t.Logf("%d headers: %.1f allocations per request", n, a)
	}
	if allocs[1] > allocs[0]+2 {
		t.Errorf("%.1f allocations with 1000 headers against %.1f with 10: binding works per header", allocs[1], allocs[0])
	}
}
